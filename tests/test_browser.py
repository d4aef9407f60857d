"""Real-browser smoke test: `streamlit run app.py` in Chromium, every page, no exception."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, _free_port, start_process, stop_process, wait_for_http
from tests.store_builders import copy_file_store

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The Runs page is the default page: it lives at "/", not "/runs".
PAGE_PATHS = ("", "diagnostics", "whatif", "promotion", "monitoring")
SCRIPT_DONE = "[data-testid=stApp][data-test-script-state=notRunning]"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def dashboard_url(file_store_template, tmp_path_factory) -> Iterator[str]:
    """The dashboard served by `streamlit run` on a free loopback port over a populated store."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: .ci/run must apt-get install chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("browser")
    store = copy_file_store(file_store_template.path, folder / "mlruns")
    port = _free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"file:{store}",
        "PROMOTION_MANIFEST": str(folder / "deploy" / "promotion.json"),
    }
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    process = start_process(command, ROOT, env, folder / "streamlit.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/_stcore/health", "ok", timeout=90)
        yield url
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def open_and_wait(browser, url: str, shots: Path | None, name: str):
    """Open url in a fresh page, wait for the script to finish, screenshot it."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    page.wait_for_timeout(800)
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    return page, errors


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_every_page_renders_in_chromium(browser, dashboard_url: str, path: str) -> None:
    # given the dashboard running on a populated store
    shots = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None
    # when a user opens the page
    page, errors = open_and_wait(browser, f"{dashboard_url}/{path}", shots, path or "runs")
    # then it shows no exception, no uncaught script error, and its title
    assert page.locator("[data-testid=stException]").count() == 0
    assert errors == []
    assert page.locator("h1").count() >= 1
    if path == "":
        page.locator("[data-testid=stDataFrame]").first.wait_for(state="visible", timeout=30_000)
    page.close()
