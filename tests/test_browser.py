"""Real-browser smoke test: `streamlit run app.py` in Chromium, every page, no exception."""

from __future__ import annotations

import pytest

from tests.helpers.browser import SCRIPT_DONE, open_and_wait, screenshot_dir

# The root opens the Runs page at /runs; every page has its own address.
PAGE_PATHS = ("", "runs", "diagnostics", "whatif", "promotion", "monitoring")

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_every_page_renders_in_chromium(chromium, dashboard_url: str, path: str) -> None:
    # given the dashboard running on a populated store
    shots = screenshot_dir()
    # when a user opens the page
    page, errors = open_and_wait(chromium, f"{dashboard_url}/{path}", shots, path or "runs")
    # then it shows no exception, no uncaught script error, no request off the machine (an
    # offline network must not break it), and its title
    assert page.locator("[data-testid=stException]").count() == 0
    assert errors == []
    assert page.locator("h1").count() >= 1
    if path in ("", "runs"):
        page.locator("[data-testid=stDataFrame]").first.wait_for(state="visible", timeout=30_000)
        sidebar = page.locator("[data-testid=stSidebar]")
        assert sidebar.get_by_text("Legacy file store").count() == 1
        picker = sidebar.locator("[data-testid=stSelectbox]")
        # the root's redirect to /runs reruns the script: wait for the sidebar to be drawn again
        picker.first.wait_for(state="visible", timeout=30_000)
        assert picker.count() == 1 and "credit_risk_experiment" in picker.inner_html()
    page.close()


def test_fair_lending_table_in_chromium(chromium, dashboard_url: str) -> None:
    # given the Model diagnostics page in a browser
    shots = screenshot_dir()
    page, errors = open_and_wait(chromium, f"{dashboard_url}/diagnostics", None, "")
    # when the validator opens the fair-lending tab and marks home_ownership as protected
    page.get_by_role("tab", name="Fair lending & segments").click()
    box = page.locator("[data-testid=stMultiSelect]").filter(has_text="Protected attributes")
    box.locator("input").fill("home_ownership")
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    page.wait_for_selector(SCRIPT_DONE, timeout=60_000)
    # then the verdict against the four-fifths rule and the table by group are shown
    verdict = page.locator("[data-testid=stAlert]").filter(has_text="four fifths")
    if shots is not None:
        page.screenshot(path=str(shots / "fair_lending_before.png"), full_page=True)
    verdict.first.wait_for(state="visible", timeout=30_000)
    assert "home_ownership" in verdict.first.inner_text()
    if shots is not None:
        page.screenshot(path=str(shots / "fair_lending.png"), full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0
    assert errors == []
    page.close()
