"""Print the pack's HTML to PDF with headless Chromium (CHROMIUM_PATH, else found on PATH)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from core.errors import GovernanceError

PRINT_TIMEOUT_S = 120
_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
    "--virtual-time-budget=15000",
)


class PdfError(GovernanceError):
    """The PDF could not be printed (no Chromium, or Chromium failed)."""


def print_pdf(html_path: Path, pdf_path: Path, chromium: Path | None) -> Path:
    """Print an HTML file to pdf_path with headless Chromium; PdfError says what to fix."""
    if chromium is None:
        raise PdfError(
            "No Chromium found to print the PDF (CHROMIUM_PATH is unset and none of chromium, "
            "chromium-browser, google-chrome is on PATH).",
            fix="Install Chromium (apt-get install chromium) or set CHROMIUM_PATH; the HTML "
            f"pack is written at {html_path}.",
        )
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pack-chromium-") as profile:
        command = [
            str(chromium),
            *_ARGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf_path.resolve()}",
            html_path.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfError(
                f"Chromium at {chromium} could not print the PDF ({exc}).",
                fix=f"Check CHROMIUM_PATH; the HTML pack is written at {html_path}.",
            ) from exc
    if done.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        raise PdfError(
            f"Chromium at {chromium} did not print the PDF (exit {done.returncode}: {last}).",
            fix=f"Check CHROMIUM_PATH; the HTML pack is written at {html_path}.",
        )
    return pdf_path
