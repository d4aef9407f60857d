"""The store and experiment the user has open, resolved once per script run by app.py."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.errors import GovernanceError
from core.settings import Settings
from core.store.access import RunsTable
from core.store.client import ExperimentInfo
from ui import cache

CONTEXT_KEY = "_store_context"


@dataclass(frozen=True)
class StoreContext:
    """Settings plus the experiment picked in the sidebar (None when the store has none)."""

    settings: Settings
    experiment: ExperimentInfo | None
    store_error: GovernanceError | None = None

    @property
    def tracking_uri(self) -> str:
        """The open store's tracking URI."""
        return self.settings.tracking_uri


def set_context(context: StoreContext) -> None:
    """Publish the context for the page about to run."""
    st.session_state[CONTEXT_KEY] = context


def get_context() -> StoreContext:
    """The context app.py published; stops the page with a message if absent."""
    context = st.session_state.get(CONTEXT_KEY)
    if context is None:
        _leave_legacy_multipage_mode()
        st.error("Open the dashboard through app.py (`make run`), not a page file directly.")
        st.stop()
    return context


def _leave_legacy_multipage_mode() -> None:
    """Rerun through app.py when Streamlit ran this page in its legacy pages/ mode.

    Streamlit runs the very first session of a fresh server in the legacy pages/-folder mode
    until some session has executed app.py's st.navigation; a deep link such as /diagnostics
    opened first would then run the page file alone. Switching the flag that st.navigation
    itself clears makes the rerun go through app.py, which keeps the requested page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def show_error(error: GovernanceError) -> None:
    """Show a core error as a message with its fix, never a traceback."""
    st.error(
        f"**{error.message}**" + (f"\n\n{error.fix}" if error.fix else ""), icon=":material/error:"
    )


def require_runs(context: StoreContext) -> RunsTable:
    """The open experiment's runs table, or stop the page with a message saying what to do."""
    if context.store_error is not None:
        show_error(context.store_error)
        st.stop()
    if context.experiment is None:
        st.info(
            "This store has no experiment yet. Train demo runs with "
            "`python -m core train --demo`, or point MLFLOW_TRACKING_URI at your store."
        )
        st.stop()
    try:
        table = cache.runs_table(context.tracking_uri, context.experiment.experiment_id)
    except GovernanceError as exc:
        show_error(exc)
        st.stop()
    for warning in table.warnings:
        st.warning(warning + " The other runs are shown.", icon=":material/warning:")
    return table
