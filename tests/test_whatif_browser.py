"""Browser smoke test: the What-if page renders, scores and rescores in real Chromium."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, _free_port, start_process, stop_process, wait_for_http

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]


@pytest.fixture()
def dashboard(file_store, tmp_path: Path) -> Iterator[str]:
    """The dashboard served by `streamlit run` on a free port against a populated store."""
    port = _free_port()
    env = dict(os.environ)
    env.update(
        MLFLOW_TRACKING_URI=file_store.uri,
        MLFLOW_EXPERIMENT_NAME="credit_risk_experiment",
        PROMOTION_MANIFEST=str(tmp_path / "deploy" / "promotion.json"),
    )
    streamlit = str(Path(sys.executable).parent / "streamlit")
    command = [streamlit, "run", "app.py", "--server.port", str(port), "--server.headless", "true"]
    process = start_process(command, ROOT, env, tmp_path / "streamlit.log")
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", "ok", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)
        shutil.rmtree(tmp_path / "deploy", ignore_errors=True)


def _settle(page) -> None:
    """Wait until the script finished running, plus a moment for the browser to paint."""
    page.wait_for_selector(IDLE, timeout=90_000)
    time.sleep(1)


def test_whatif_page_scores_and_rescores_in_a_browser(dashboard: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            # given the app opened once, then the What-if page
            page.goto(dashboard)
            _settle(page)
            page.goto(f"{dashboard}/whatif")
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
        finally:
            browser.close()
