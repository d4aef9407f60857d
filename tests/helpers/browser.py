"""Real-browser helpers: Debian's Chromium, the dashboard as `make run` starts it (`python -m ui`)
on a free port, a page opened and waited for until its script finished."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from tests.helpers import ROOT
from tests.helpers.processes import free_port, serving

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
SCRIPT_DONE = "[data-testid=stApp][data-test-script-state=notRunning]"
LOCAL_HOSTS = ("127.0.0.1", "localhost")


@contextmanager
def dashboard_server(folder: Path, **settings: str) -> Iterator[str]:
    """`python -m ui` (app.py, imports warmed first) on a free loopback port; yields its URL."""
    port = free_port()
    env = {**os.environ, **settings}
    command = [
        sys.executable, "-m", "ui",
        "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with serving(command, ROOT, env, folder / "streamlit.log", (f"{url}/_stcore/health", "ok")):
        yield url


def screenshot_dir() -> Path | None:
    """Where to keep screenshots (SCREENSHOT_DIR), or None to take none."""
    return Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None


def open_and_wait(browser, url: str, shots: Path | None, name: str):
    """Open url in a fresh page, wait for the script to finish, screenshot it."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "request",
        lambda request: (
            errors.append(f"request left the machine: {request.url}")
            if urlparse(request.url).hostname not in LOCAL_HOSTS
            and urlparse(request.url).scheme in ("http", "https")
            else None
        ),
    )
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    page.wait_for_timeout(800)
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    return page, errors
