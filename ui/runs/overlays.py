"""Runs › Compare: ROC and KS of the selected runs, each on its own logged validation set."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.charts import runs as charts
from core.errors import GovernanceError
from core.evaluation.curves import Evaluation
from core.runs.overlays import (
    MAX_OVERLAY_RUNS,
    NO_VALIDATION_SET,
    CurveOverlay,
    curve_overlay,
    not_drawn_sentence,
)
from ui.shared import cache_evaluation, figures_after_paint


def _evaluation(tracking_uri: str, run_id: str) -> Evaluation:
    """One run's ROC/KS on its logged validation set (the same cache entries as Diagnostics)."""
    data = cache_evaluation.validation_data(tracking_uri, run_id)
    table = cache_evaluation.score_table(data.fingerprint, data.labels, data.scores)
    return cache_evaluation.evaluation_of(data.fingerprint, table)


def selected_overlay(tracking_uri: str, runs: pd.DataFrame, selected: list[str]) -> CurveOverlay:
    """The overlay of the first MAX_OVERLAY_RUNS selected runs; the others named with a reason."""
    has_set = dict(zip(runs["run_id"], runs["has_validation_set"].astype(bool), strict=True))
    evaluations: dict[str, Evaluation] = {}
    not_drawn: dict[str, str] = {}
    for run_id in selected:
        if len(evaluations) >= MAX_OVERLAY_RUNS:
            not_drawn[run_id] = f"only the first {MAX_OVERLAY_RUNS} selected runs are drawn"
        elif not has_set.get(run_id, False):
            not_drawn[run_id] = NO_VALIDATION_SET
        else:
            try:
                evaluations[run_id] = _evaluation(tracking_uri, run_id)
            except GovernanceError as exc:
                not_drawn[run_id] = exc.message.rstrip(".")
    return curve_overlay(evaluations, not_drawn)


def overlays_section(
    tracking_uri: str,
    runs: pd.DataFrame,
    selected: list[str],
    label_of: dict[str, str],
    champion: str | None,
) -> None:
    """ROC and KS overlays for the selected runs, and which runs could not be drawn and why."""
    st.markdown("**ROC and KS of the selected runs** (each on the validation set it logged)")
    if not selected:
        st.info("Select runs (tick rows in the table) to draw their ROC and KS curves together.")
        return
    overlay = selected_overlay(tracking_uri, runs, selected)
    missing = not_drawn_sentence(overlay.not_drawn, label_of)
    if overlay.empty:
        st.info(
            f"{missing} Attach a labelled file to a run with `python -m core attach-validation`, "
            "or open it on Model diagnostics and upload one."
        )
        return
    left, right = st.columns(2)
    figures_after_paint.plotly_chart(
        left,
        charts.roc_overlay_figure(overlay, label_of, champion),
        "compare_roc_pending",
        width="stretch",
        key="compare_roc",
    )
    figures_after_paint.plotly_chart(
        right,
        charts.ks_overlay_figure(overlay, label_of, champion),
        "compare_ks_pending",
        width="stretch",
        key="compare_ks",
    )
    caption = (
        "Each run is scored on its own validation set, so a difference can come from the data "
        "as well as the model when the runs used different splits."
    )
    if missing:
        st.warning(
            missing + " Attach a labelled file with `python -m core attach-validation` to draw "
            "them.",
            icon=":material/visibility_off:",
        )
    st.caption(caption)
