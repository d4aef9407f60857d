"""Real-browser smoke test of the Runs page: it renders, a ticked row lands in the URL."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, _free_port, start_process, stop_process, wait_for_http

CHROMIUM = "/usr/bin/chromium"
READY = "[data-testid=stApp][data-test-script-state=notRunning]"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]


@pytest.fixture()
def app_url(file_store, tmp_path: Path) -> Iterator[str]:
    """The dashboard served by `streamlit run` on a free port, against a copy of the store."""
    pytest.importorskip("playwright")
    port = _free_port()
    env = dict(os.environ, MLFLOW_TRACKING_URI=file_store.uri, PYTHONPATH=str(ROOT))
    env["PROMOTION_MANIFEST"] = str(tmp_path / "promotion.json")
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    process = start_process(command, ROOT, env, tmp_path / "streamlit.log")
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", "ok", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def test_runs_page_in_a_browser(app_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # given the Runs page (the default page) open in a browser
        page.goto(app_url + "/")
        page.wait_for_selector(READY, timeout=90_000)
        # then it rendered the runs table and the recommendation, with no exception
        assert page.locator("[data-testid=stException]").count() == 0
        assert page.get_by_text("Runs", exact=True).first.is_visible()
        assert page.get_by_text("ecommend").first.is_visible()
        table = page.locator("[data-testid=stDataFrame]").first
        table.locator("canvas").first.wait_for(state="visible", timeout=30_000)
        time.sleep(1.0)  # the grid accepts clicks a moment after it is drawn
        # when the first row's checkbox is ticked
        grid = table.bounding_box()
        assert grid is not None
        page.mouse.click(grid["x"] + 16, grid["y"] + 35 + 17)
        page.mouse.move(5, 5)
        deadline = time.monotonic() + 45
        while "run=" not in page.url and time.monotonic() < deadline:
            time.sleep(0.3)
        page.wait_for_selector(READY, timeout=60_000)
        page.screenshot(path=str(tmp_path / "runs_page.png"))
        # then the selected run is in the address, ready to be shared
        assert "run=" in page.url
        assert page.locator("[data-testid=stException]").count() == 0
        assert errors == []
        browser.close()
