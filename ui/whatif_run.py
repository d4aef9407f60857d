"""What-if scoring: which run to score with (link, promoted run, best run) and its model."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.promotion.manifest import ManifestError, read_manifest
from core.runs.stability import StabilityRule, recommend_run
from ui.context import StoreContext, show_error

RUN_KEY = "whatif_run"
RUN_PARAM_SEEN_KEY = "_whatif_run_param_seen"


@dataclass(frozen=True)
class RunChoice:
    """The run picked for scoring and why it was the default."""

    run_id: str
    run_name: str
    params: dict[str, str]
    has_validation_set: bool
    default_reason: str


def _label(runs: pd.DataFrame, run_id: str) -> str:
    """'name · id8 · val AUC' for the run selectbox."""
    row = runs.loc[runs["run_id"] == run_id].iloc[0]
    auc = row.get("metrics.val_auc")
    auc_text = f" · val AUC {auc:.4f}" if pd.notna(auc) else ""
    return f"{row['run_name']} · {run_id[:8]}{auc_text}"


def _default_run(context: StoreContext, runs: pd.DataFrame, scorable: list[str]) -> tuple[str, str]:
    """The promoted run when a manifest names a scorable run, else the recommended or best run."""
    try:
        manifest = read_manifest(context.settings.promotion_manifest)
    except ManifestError as exc:
        show_error(exc)
        manifest = None
    if manifest is not None and manifest.run_id in scorable:
        return manifest.run_id, "the promoted run (promotion manifest)"
    recommendation = recommend_run(runs, StabilityRule())
    if recommendation.run_id in scorable:
        return str(recommendation.run_id), "the recommended run: " + recommendation.reason
    with_auc = runs[runs["run_id"].isin(scorable)]
    if "metrics.val_auc" in with_auc.columns and with_auc["metrics.val_auc"].notna().any():
        best = with_auc.loc[pd.to_numeric(with_auc["metrics.val_auc"]).idxmax(), "run_id"]
        return str(best), "the run with the highest val AUC (no stable run to recommend)"
    return scorable[0], "the most recent run with a model"


def _linked_run(runs: pd.DataFrame, scorable: list[str]) -> str | None:
    """A run id from the page link (?run_id=...) when it can be scored; explains when not."""
    linked = st.query_params.get("run_id")
    if not linked:
        return None
    if linked in scorable:
        return linked
    if linked in set(runs["run_id"]):
        st.warning(
            f"Run '{linked}' from the link logged no model, so it cannot be scored. "
            "Showing another run; log a model with mlflow.lightgbm.log_model(model, name='model').",
            icon=":material/warning:",
        )
    else:
        st.warning(
            f"Run '{linked}' from the link is not in this experiment.", icon=":material/warning:"
        )
    return None


def pick_run(context: StoreContext, runs: pd.DataFrame) -> RunChoice | None:
    """Draw the run selectbox; None (with a message) when no run has a model."""
    scorable = runs.loc[runs["has_model"].astype(bool), "run_id"].astype(str).tolist()
    if not scorable:
        st.info(
            "No run in this experiment logged a model, so there is nothing to score. "
            "Train governed runs with `python -m core train --demo`, or log one with "
            "mlflow.lightgbm.log_model(model, name='model')."
        )
        return None
    linked = _linked_run(runs, scorable)
    default, reason = _default_run(context, runs, scorable)
    link_value = st.query_params.get("run_id")
    if linked is not None and st.session_state.get(RUN_PARAM_SEEN_KEY) != link_value:
        st.session_state[RUN_KEY] = linked
    if linked is not None:
        default, reason = linked, "the run named in the page link"
    if st.session_state.get(RUN_KEY) not in scorable:
        st.session_state[RUN_KEY] = default
    run_id = st.selectbox(
        "Run to score with",
        scorable,
        key=RUN_KEY,
        format_func=lambda rid: _label(runs, rid),
        help="Runs that logged a model. Opens on the promoted run, else the best run.",
    )
    st.session_state[RUN_PARAM_SEEN_KEY] = link_value
    if run_id == default:
        st.caption(f"Opened on {reason}")
    row = runs.loc[runs["run_id"] == run_id].iloc[0]
    params = {
        c.removeprefix("params."): str(row[c])
        for c in runs.columns
        if c.startswith("params.") and pd.notna(row[c])
    }
    return RunChoice(
        run_id=run_id,
        run_name=str(row["run_name"]),
        params=params,
        has_validation_set=bool(row["has_validation_set"]),
        default_reason=reason,
    )
