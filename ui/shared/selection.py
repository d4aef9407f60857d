"""The cross-page selection: the run and the threshold being worked on, in session and URL.

Diagnostics, What-if, Promotion and Monitoring open on the selected run; "Use this threshold"
on Diagnostics sets the threshold What-if and Promotion start from. Both travel in the URL
(`?run_id=…&threshold=…`), so a shared link opens the same state, and page links carry them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import GovernanceError
from core.record.manifest import ManifestError, read_manifest
from core.runs.default_run import DefaultRun, default_run
from core.runs.labels import run_label
from core.runs.stability import DEFAULT_PRIMARY_METRIC, StabilityRule
from core.settings import Settings
from core.store.run_lookup import locate_run
from core.threshold import InvalidThresholdError, Threshold
from ui.shared import cache
from ui.shared.context import StoreContext, show_error
from ui.shared.markdown_text import literal, with_literal_names
from ui.shared.recommendation import recommended_run

RUN_PARAM = "run_id"
THRESHOLD_PARAM = "threshold"
RUN_KEY = "_selected_run_id"
THRESHOLD_KEY = "_selected_threshold"
RULE_KEY = "_selected_stability_rule"
RUN_NAME_KEY = "_selected_run_name"
SLOT_KEY = "_selection_sidebar_slot"


def attach_sidebar_slot() -> None:
    """Reserve the sidebar place where the selection is shown (app.py, once per script run)."""
    st.session_state[SLOT_KEY] = st.sidebar.empty()
    _show_in_sidebar()


def _show_in_sidebar() -> None:
    """Show the run and threshold being worked on in the sidebar slot, when there is one."""
    slot = st.session_state.get(SLOT_KEY)
    if slot is None:
        return
    lines = []
    if st.session_state.get(RUN_KEY):
        name = st.session_state.get(RUN_NAME_KEY) or ""
        lines.append(f"Run: **{literal(name)}** `{st.session_state[RUN_KEY][:8]}`")
    if st.session_state.get(THRESHOLD_KEY) is not None:
        lines.append(f"Threshold: **{st.session_state[THRESHOLD_KEY]:.4f}**")
    if lines:
        slot.caption("Working on  \n" + "  \n".join(lines))
    else:
        slot.empty()


def stability_rule() -> StabilityRule:
    """The stability rule the user set on the Runs page (the default rule until then)."""
    return st.session_state.get(RULE_KEY) or StabilityRule()


def remember_stability_rule(rule: StabilityRule) -> None:
    """Keep the Runs page's rule for the pages that recommend or gate on stability."""
    st.session_state[RULE_KEY] = rule


def selected_threshold(settings: Settings) -> Threshold:
    """The threshold being worked on: the link's, else the session's, else the configured one."""
    raw = st.query_params.get(THRESHOLD_PARAM)
    if raw is not None:
        try:
            st.session_state[THRESHOLD_KEY] = Threshold(raw)
        except InvalidThresholdError as exc:
            st.warning(f"Ignoring the link's threshold: {exc.message}", icon=":material/warning:")
            del st.query_params[THRESHOLD_PARAM]
    return st.session_state.get(THRESHOLD_KEY, settings.decision_threshold)


def use_threshold(value: float) -> None:
    """Make value the threshold every page works on (session and URL)."""
    threshold = Threshold(value)
    st.session_state[THRESHOLD_KEY] = threshold
    st.query_params[THRESHOLD_PARAM] = f"{threshold:.4f}"
    _show_in_sidebar()


def champion_run_id(settings: Settings) -> str | None:
    """The promoted run's id, or None (a broken manifest is shown, not fatal here)."""
    try:
        manifest = read_manifest(settings.promotion_manifest)
    except ManifestError as exc:
        show_error(exc)
        return None
    return manifest.run_id if manifest is not None else None


def opening_run(context: StoreContext, runs: pd.DataFrame) -> DefaultRun:
    """The run a page opens on when the user has picked none (core.runs.default_run)."""
    rule = stability_rule()
    recommendation = recommended_run(context.tracking_uri, runs, rule, DEFAULT_PRIMARY_METRIC)
    return default_run(runs, rule, champion_run_id(context.settings), recommendation=recommendation)


def _link_problem(context: StoreContext, wanted: str, runs: pd.DataFrame, why: str) -> str:
    """Why the run named in the link cannot be opened here, as markdown (the id as typed in
    the link is shown literally until the store knows it)."""
    unusable = f"Run `{wanted}` from the link {why}; pick another run below."
    if wanted in set(runs["run_id"]):
        return unusable
    experiment = context.experiment.experiment_id if context.experiment else None
    try:
        where = locate_run(cache.client_for(context.tracking_uri), wanted, experiment)
    except GovernanceError as exc:
        return f"Run {literal(wanted)} from the link could not be looked up: {literal(exc)}"
    if where.place == "deleted":
        return (
            f"Run `{wanted}` was deleted (in MLflow's trash); restore it with "
            f"`{where.restore_command}` or pick another run."
        )
    if where.place == "elsewhere":
        return (
            f"Run `{wanted}` from the link belongs to experiment "
            f"**{literal(where.experiment_name)}**; choose that experiment in the sidebar or "
            "pick another run below."
        )
    if where.place == "here":
        return unusable
    return f"Run {literal(wanted)} from the link is not in this store; pick another run below."


def selected_run(
    context: StoreContext,
    runs: pd.DataFrame,
    usable_ids: list[str],
    why_unusable: str,
    *,
    quiet: bool = False,
) -> tuple[str, str | None]:
    """The run to open among usable_ids, and why it was chosen when it is the default.

    The link's run wins, then the run selected on another page, then the default rule. A link
    to a run that cannot be opened is explained, unless quiet.
    """
    wanted = st.query_params.get(RUN_PARAM)
    if wanted and wanted in usable_ids:
        return wanted, None
    if wanted and not quiet:
        st.warning(_link_problem(context, wanted, runs, why_unusable), icon=":material/warning:")
    remembered = st.session_state.get(RUN_KEY)
    if remembered in usable_ids:
        return remembered, None
    default = opening_run(context, runs)
    if default.run_id in usable_ids:
        return default.run_id, default.reason
    return usable_ids[0], "the most recent usable run"


def shown_run(context: StoreContext, runs: pd.DataFrame, usable_ids: list[str], key: str) -> str:
    """The run the run_selectbox with this key shows on this rerun, without showing anything
    (for what must be decided above the selectbox)."""
    chosen, _ = selected_run(context, runs, usable_ids, "", quiet=True)
    return _widget_run(key, usable_ids, chosen)


def _widget_run(key: str, usable_ids: list[str], chosen: str) -> str:
    """The widget's own pick while it still follows the shared selection, else chosen."""
    current = st.session_state.get(key)
    follows = st.session_state.get(f"{key}_follows") == chosen
    return current if current in usable_ids and follows else chosen


def select_run(run_id: str, run_name: str = "") -> None:
    """Make run_id the run every page works on (session and URL)."""
    st.session_state[RUN_KEY] = run_id
    st.session_state[RUN_NAME_KEY] = run_name
    st.query_params[RUN_PARAM] = run_id
    _show_in_sidebar()


def run_selectbox(
    label: str,
    context: StoreContext,
    runs: pd.DataFrame,
    usable: pd.DataFrame,
    *,
    key: str,
    why_unusable: str,
    format_func=None,
    help: str | None = None,
) -> str:
    """A run selectbox over the usable runs that follows and updates the shared selection."""
    ids = usable["run_id"].astype(str).tolist()
    chosen, reason = selected_run(context, runs, ids, why_unusable)
    st.session_state[key] = _widget_run(key, ids, chosen)
    names = dict(zip(usable["run_id"], usable["run_name"], strict=True))
    run_id = st.selectbox(
        label,
        ids,
        key=key,
        format_func=format_func or (lambda rid: run_label(names[rid], rid)),
        help=help,
    )
    st.session_state[f"{key}_follows"] = run_id
    select_run(run_id, str(names.get(run_id, "")))
    if reason and run_id == chosen:
        st.caption(f"Opened on {with_literal_names(reason).rstrip('.')}.")
    return run_id


def threshold_input(
    label: str, settings: Settings, *, key: str, help: str | None = None
) -> Threshold:
    """A number input for the shared threshold: starts on it, and a change updates it."""
    shared = selected_threshold(settings)
    if st.session_state.get(f"{key}_follows") != shared or key not in st.session_state:
        st.session_state[key] = float(shared)
    value = st.number_input(
        label, min_value=0.0001, max_value=0.9999, step=0.01, format="%.4f", key=key, help=help
    )
    threshold = Threshold(value)
    st.session_state[f"{key}_follows"] = threshold
    use_threshold(threshold)
    return threshold
