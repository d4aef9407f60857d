"""The store and experiment the user has open, resolved once per script run by app.py."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.errors import GovernanceError
from core.settings import Settings
from core.store.access import RunsTable
from core.store.client import ExperimentInfo
from core.store.server_runs import RunsProgress
from ui.shared import cache
from ui.shared.markdown_text import with_literal_names

CONTEXT_KEY = "_store_context"
READ_POLL_SECONDS = 2.0


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
        f"**{with_literal_names(error.message)}**" + (f"\n\n{error.fix}" if error.fix else ""),
        icon=":material/error:",
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
    uri, experiment_id = context.tracking_uri, context.experiment.experiment_id
    partition = context.settings.runs_search_partition
    try:
        # A server's table and the note on its read come from one look at the read, so the
        # read cannot finish in between and leave a partial table without its banner.
        progress = (
            cache.server_runs(uri, experiment_id, partition)
            if context.settings.store_kind == "server"
            else None
        )
        table = (
            progress.table
            if progress is not None
            else cache.runs_table(uri, experiment_id, partition)
        )
    except GovernanceError as exc:
        show_error(exc)
        st.stop()
    for warning in table.warnings:
        st.warning(warning + " The other runs are shown.", icon=":material/warning:")
    if progress is not None:
        _server_read_state(progress, uri, experiment_id, partition)
    return table


def _server_read_state(
    progress: RunsProgress, tracking_uri: str, experiment_id: str, partition_size: int
) -> None:
    """Say when a tracking server's runs are still being read, or could not all be read."""
    if progress.error is not None:
        st.warning(
            f"Showing only the newest {len(progress.table.runs):,} runs: "
            f"{progress.error.message} {progress.error.fix or ''}",
            icon=":material/warning:",
        )
    elif not progress.complete:
        _reading_banner(tracking_uri, experiment_id, partition_size)


@st.fragment(run_every=READ_POLL_SECONDS)
def _reading_banner(tracking_uri: str, experiment_id: str, partition_size: int) -> None:
    """Progress of the background read; the whole page reruns once every run is in."""
    progress = cache.server_runs(tracking_uri, experiment_id, partition_size)
    if progress.complete or progress.error is not None:
        st.rerun()
    st.info(
        f"Showing the newest {len(progress.table.runs):,} runs while the older ones are read "
        f"from the tracking server ({progress.loaded:,} runs read so far). The page updates "
        "by itself when all are in; until then the recommendation, filters and charts cover "
        "the runs shown.",
        icon=":material/hourglass_top:",
    )
