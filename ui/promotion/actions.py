"""Running a promotion action from the page: spinner, errors with their fix, flash and rerun."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from core.errors import GovernanceError
from core.promotion.requests import GateFailedError
from core.promotion.tables import gate_table
from core.record.atomic_io import PromotionLockedError
from core.record.repair import repair
from core.settings import Settings
from ui.shared.context import show_error

FLASH_KEY = "promotion_flash"
GATES_KEY = "promotion_gate_preview"
GATE_COLUMNS = {
    "gate": st.column_config.TextColumn("Gate", width="small"),
    "outcome": st.column_config.TextColumn("Outcome", width="small"),
    "detail": st.column_config.TextColumn("Detail", width="large"),
}
T = TypeVar("T")


def repair_on_open(settings: Settings) -> None:
    """Finish an interrupted write before showing the record (skipped while one is writing)."""
    try:
        report = repair(settings, lock_timeout=0)
    except PromotionLockedError:
        return
    except GovernanceError as exc:
        show_error(exc)
        return
    if report.repaired:
        st.warning(f"Repaired an interrupted write: {report.detail}.", icon=":material/build:")


def show_flash() -> None:
    """The message the last successful action left for this run."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")


def show_gates(results) -> None:
    """The gate table: one row per gate with its outcome in words."""
    st.dataframe(gate_table(results), hide_index=True, width="stretch", column_config=GATE_COLUMNS)


def run_action(
    spinner: str,
    action: Callable[[], T],
    message: Callable[[T], str],
    gate_key: object = None,
    clear_keys: tuple[str, ...] = (),
) -> T | None:
    """Run action; on success flash message(result), clear the form's keys and rerun, else show
    why (and the gates)."""
    try:
        with st.spinner(spinner):
            result = action()
    except GateFailedError as exc:
        show_error(exc)
        if gate_key is None:
            show_gates(exc.results)
        else:
            st.session_state[GATES_KEY] = (gate_key, exc.results)
        return None
    except GovernanceError as exc:
        show_error(exc)
        return None
    st.session_state.pop(GATES_KEY, None)
    st.session_state[FLASH_KEY] = message(result)
    for key in clear_keys:
        st.session_state.pop(key, None)
    st.rerun()
    return result
