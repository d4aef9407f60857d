"""Browser smoke test: the What-if page renders, scores and rescores in real Chromium."""

from __future__ import annotations

import time

import pytest

from tests.conftest import SCRIPT_DONE

pytestmark = pytest.mark.browser


def _settle(page) -> None:
    """Wait until the script finished running, plus a moment for the browser to paint."""
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    time.sleep(1)


def test_whatif_page_scores_and_rescores_in_a_browser(chromium, dashboard_url: str) -> None:
    page = chromium.new_page(viewport={"width": 1500, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # given the app opened once, then the What-if page
    page.goto(dashboard_url)
    _settle(page)
    page.goto(f"{dashboard_url}/whatif")
    _settle(page)
    # then an applicant is scored with no exception
    assert page.locator("[data-testid=stException]").count() == 0
    metric = page.locator("[data-testid=stMetricValue]").first
    before = metric.inner_text()
    assert before.endswith("%")
    # when the debt-to-income ratio is raised
    field = page.locator('input[aria-label^="debt_to_income"]').first
    field.fill("0.9")
    field.press("Enter")
    time.sleep(0.5)
    _settle(page)
    # then the probability changes and the comparison appears
    assert page.locator("[data-testid=stMetricValue]").first.inner_text() != before
    assert page.get_by_text("What changed").count() >= 1
    assert page.locator("[data-testid=stException]").count() == 0
    # (404s for optional static resources are the server's, not the page's)
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []
    page.close()
