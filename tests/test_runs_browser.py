"""Real-browser smoke test of the Runs page: it renders, a ticked row lands in the URL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import SCRIPT_DONE

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/", "/runs"])
def test_runs_page_in_a_browser(chromium, dashboard_url: str, tmp_path: Path, path: str) -> None:
    page = chromium.new_page(viewport={"width": 1500, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # given the Runs page open in a browser, at the root or at its own address
    page.goto(dashboard_url + path)
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    # then it is the Runs page at /runs (the root opens it there), not "page not found"
    deadline = time.monotonic() + 30
    while page.evaluate("location.pathname") != "/runs" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert page.evaluate("location.pathname") == "/runs"
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    # then it rendered the runs table and the recommendation, with no exception
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.get_by_text("Runs", exact=True).first.is_visible()
    assert page.get_by_text("ecommend").first.is_visible()
    table = page.locator("[data-testid=stDataFrame]").first
    table.locator("canvas").first.wait_for(state="visible", timeout=30_000)
    time.sleep(1.0)  # the grid accepts clicks a moment after it is drawn
    # when the first row's checkbox is ticked (the first click on a freshly opened link)
    grid = table.bounding_box()
    assert grid is not None
    page.mouse.click(grid["x"] + 16, grid["y"] + 35 + 17)
    page.mouse.move(5, 5)
    deadline = time.monotonic() + 45
    # page.url lags behind history.replaceState; read the address the page itself shows
    while "run=" not in page.evaluate("location.search") and time.monotonic() < deadline:
        time.sleep(0.3)
    page.wait_for_selector(SCRIPT_DONE, timeout=60_000)
    page.screenshot(path=str(tmp_path / "runs_page.png"))
    # then the selected run is in the address, ready to be shared
    assert "run=" in page.evaluate("location.search")
    assert page.locator("[data-testid=stException]").count() == 0
    assert errors == []
    page.close()
