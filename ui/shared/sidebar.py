"""The shared sidebar: which store is open, the legacy file-store notice, the experiment picker."""

from __future__ import annotations

import streamlit as st

from core.errors import GovernanceError
from core.settings import DEFAULT_EXPERIMENT_NAME, Settings
from core.store.client import ExperimentInfo, check_experiment_access
from ui.shared import cache
from ui.shared.context import StoreContext
from ui.shared.markdown_text import code_span, literal

EXPERIMENT_KEY = "experiment_name"


def _store_error(settings: Settings) -> GovernanceError | None:
    """Why the store cannot be opened (missing path, server down), or None."""
    try:
        cache.client_for(settings.tracking_uri)
    except GovernanceError as exc:
        return exc
    return None


def _pick_experiment(
    settings: Settings, experiments: list[ExperimentInfo]
) -> ExperimentInfo | None:
    """Experiment selectbox, defaulting to the configured one."""
    if not experiments:
        st.sidebar.info("No experiments in this store yet.")
        return None
    names = [e.name for e in experiments]
    if EXPERIMENT_KEY not in st.session_state or st.session_state[EXPERIMENT_KEY] not in names:
        wanted = st.query_params.get("experiment", settings.experiment_name)
        fallback = DEFAULT_EXPERIMENT_NAME if DEFAULT_EXPERIMENT_NAME in names else names[0]
        st.session_state[EXPERIMENT_KEY] = wanted if wanted in names else fallback
        if settings.experiment_name not in names:
            st.sidebar.warning(
                f"Experiment '{literal(settings.experiment_name)}' (MLFLOW_EXPERIMENT_NAME) is "
                "not in this store; showing another one."
            )
    name = st.sidebar.selectbox("Experiment", names, key=EXPERIMENT_KEY)
    return experiments[names.index(name)]


def draw_sidebar(settings: Settings) -> StoreContext:
    """Draw the store panel and experiment picker; return what the pages should open."""
    st.sidebar.markdown("### MLflow store")
    st.sidebar.markdown(code_span(settings.tracking_uri))
    if settings.store_kind == "file":
        st.sidebar.caption(
            "Legacy file store (maintenance mode in MLflow 3). Move it to SQLite with:"
        )
        st.sidebar.markdown(code_span(settings.migrate_command or ""))
    if st.sidebar.button("Reload runs", help="Forget cached runs and models, read the store again"):
        cache.clear_all()
    error = _store_error(settings)
    if error is not None:
        st.sidebar.error("Store unavailable")
        return StoreContext(settings=settings, experiment=None, store_error=error)
    try:
        experiments = cache.experiments(settings.tracking_uri)
        wanted = settings.experiment_name
        if settings.store_kind == "server" and wanted not in {e.name for e in experiments}:
            check_experiment_access(cache.client_for(settings.tracking_uri), wanted)
    except GovernanceError as exc:
        return StoreContext(settings=settings, experiment=None, store_error=exc)
    experiment = _pick_experiment(settings, experiments)
    st.sidebar.caption(f"Decision threshold (config): **{settings.decision_threshold}**")
    return StoreContext(settings=settings, experiment=experiment)
