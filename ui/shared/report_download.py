"""The evidence-pack download button shared by Diagnostics and Promotion.

The pack is generated only when the button is clicked (Streamlit's deferred download data runs
the callable on click, off the page script), so it costs nothing on a rerun.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import streamlit as st

from core.errors import GovernanceError
from core.promotion import audit
from core.report.use_cases import run_pack_html
from core.settings import Settings
from ui.shared.selection import selected_threshold


def pack_or_error(settings: Settings, run_id: str, threshold: float | None) -> bytes:
    """The run's pack; a small HTML page naming the problem and its fix if it cannot be made."""
    try:
        return run_pack_html(settings, run_id, threshold, audit.verify_or_none(settings))
    except GovernanceError as exc:
        text = html.escape(f"The evidence pack could not be made: {exc}")
        return f"<!DOCTYPE html><meta charset='utf-8'><p>{text}</p>\n".encode()


def pack_generator(settings: Settings, run_id: str, threshold: float | None) -> Callable[[], bytes]:
    """A no-argument callable for st.download_button that makes the pack on click."""
    return lambda: pack_or_error(settings, run_id, threshold)


def evidence_pack_button(
    settings: Settings, run_id: str, run_name: str, threshold: float | None, key: str
) -> None:
    """A download button for the run's validation evidence pack (HTML) at the threshold."""
    at = f" at threshold {threshold:.4f}" if threshold is not None else ""
    st.download_button(
        f"Download the validation evidence pack{at} (HTML)",
        data=pack_generator(settings, run_id, threshold),
        file_name=f"evidence_pack_{run_name}_{run_id[:8]}.html",
        mime="text/html",
        key=key,
        on_click="ignore",
        icon=":material/verified:",
        help="One self-contained document for a model validator: purpose, data, soundness, "
        "outcomes, benchmarking, monitoring, limitations, governance record and "
        "reproducibility, on the run's logged validation set. Made when you click; it opens "
        "offline. `python -m core report --run-id ID --pdf pack.pdf` also prints a PDF.",
    )


def diagnostics_pack_button(settings: Settings, run_id: str, run_name: str) -> None:
    """Diagnostics' button: the pack at the threshold selected across pages."""
    st.caption(
        "The evidence pack reads the run's logged validation set, whatever data is evaluated below."
    )
    evidence_pack_button(settings, run_id, run_name, selected_threshold(settings), "diag_pack")
