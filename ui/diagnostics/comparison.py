"""Model diagnostics: compare this run with a challenger on the same rows.

ROC and KS overlaid, DeLong's AUC difference with its interval, and the swap set at each run's
own threshold or at an equal approval rate (how a credit committee compares models).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.charts import diagnostics as charts
from core.data.training_rows import TrainingOverlap
from core.errors import GovernanceError
from core.evaluation import curves as ev
from core.evaluation.eval_data import EvaluationData
from core.evaluation.run_comparison import comparison_verdict, swap_set
from core.evaluation.threshold_policy import (
    PolicyPoint,
    ScoreTable,
    policy_at,
    threshold_for_approval_rate,
)
from core.store.access import RunsTable
from ui.diagnostics import cache as cached
from ui.diagnostics.data import run_label
from ui.diagnostics.leakage import overlap_of, say_overlap
from ui.diagnostics.policy import THRESHOLD_MAX, THRESHOLD_MIN
from ui.shared import cache_evaluation, figures_after_paint
from ui.shared.context import StoreContext, show_error

OWN_THRESHOLDS = "Each run's own threshold"
EQUAL_APPROVAL = "Equal approval rate"


def _challenger_evaluation(
    context: StoreContext, challenger_id: str, data: EvaluationData
) -> tuple[np.ndarray, ScoreTable, ev.Evaluation]:
    """Challenger scores on the same rows, their score table and evaluation."""
    scores, unseen = cached.challenger_scores(
        context.tracking_uri, challenger_id, data.fingerprint, data
    )
    if unseen:
        st.warning(
            "The challenger never saw these categories (scored as missing): "
            + "; ".join(f"{k}: {', '.join(v)}" for k, v in unseen.items()),
            icon=":material/warning:",
        )
    key = f"{challenger_id}:{data.fingerprint}"
    table = cache_evaluation.score_table(key, data.labels, scores)
    return scores, table, cache_evaluation.evaluation_of(key, table)


def _threshold_input(column: object, label: str, context: StoreContext, role: str) -> float:
    """A threshold box for one side of the comparison, starting at the business threshold."""
    return column.number_input(
        label,
        min_value=THRESHOLD_MIN,
        max_value=THRESHOLD_MAX,
        value=context.settings.decision_threshold,
        step=0.01,
        format="%.4f",
        key=f"diag_{role}_threshold",
    )


def _pick_challenger(
    context: StoreContext, frame: pd.DataFrame, others: pd.Series
) -> tuple[str | None, float, float]:
    """The challenger picked (None until one is), this run's threshold and the challenger's."""
    left, middle, right = st.columns([2, 1, 1])
    challenger_id = left.selectbox(
        "Challenger run",
        others.tolist(),
        format_func=lambda rid: run_label(frame, rid),
        index=None,
        placeholder="Pick a run to compare with",
        key="diag_challenger",
    )
    run_threshold = _threshold_input(middle, "This run's threshold", context, "this_run")
    challenger_threshold = _threshold_input(right, "Challenger threshold", context, "challenger")
    return challenger_id, run_threshold, challenger_threshold


def _aligned_points(
    table: ScoreTable,
    challenger_table: ScoreTable,
    run_threshold: float,
    challenger_threshold: float,
) -> tuple[str, float, dict[str, PolicyPoint]]:
    """How decisions are compared, the challenger's threshold under it, and both runs' points."""
    align = st.radio(
        "Compare decisions at",
        [OWN_THRESHOLDS, EQUAL_APPROVAL],
        horizontal=True,
        key="diag_swap_alignment",
        help="A credit committee compares models at the same approval rate.",
    )
    this_point = policy_at(table, run_threshold)
    if align == EQUAL_APPROVAL:
        challenger_point = threshold_for_approval_rate(challenger_table, this_point.approval_rate)
        challenger_threshold = challenger_point.threshold
        st.caption(
            f"The challenger's threshold {challenger_threshold:.4f} approves "
            f"{challenger_point.approval_rate:.2%}, as this run does at {run_threshold:.4f} "
            f"({this_point.approval_rate:.2%})."
        )
    points = {
        "this run": this_point,
        "challenger": policy_at(challenger_table, challenger_threshold),
    }
    return align, challenger_threshold, points


def _auc_difference(
    key: str, data: EvaluationData, scores: np.ndarray, overlaps: tuple[TrainingOverlap, ...]
) -> None:
    """DeLong's AUC difference (challenger minus this run) with its confidence interval, and
    the verdict: no winner when either run trained on more than 10% of these rows."""
    comparison = cached.delong(key, data.labels, data.scores, scores)
    verdict = comparison_verdict(comparison, overlaps, "this run", "the challenger")
    show = st.warning if verdict.startswith("No winner") else st.info
    show(verdict, icon=":material/compare_arrows:")
    st.markdown(
        f"**AUC difference (challenger − this run): {comparison.difference:+.4f}**, "
        f"{comparison.confidence:.0%} CI [{comparison.ci_low:+.4f}, {comparison.ci_high:+.4f}], "
        f"DeLong p = {comparison.p_value:.3g} "
        f"(this run {comparison.auc_base:.4f}, challenger {comparison.auc_challenger:.4f})."
    )


def _swap_section(
    data: EvaluationData, scores: np.ndarray, thresholds: tuple[float, float], align: str
) -> None:
    """The swap set: applicants one run approves and the other declines, at each threshold."""
    swaps = swap_set(data.labels, data.scores, scores, *thresholds)
    st.markdown(f"**Swap set** at {align.lower()}")
    st.dataframe(
        swaps.assign(
            bad_rate=swaps["bad_rate"].map(lambda r: "—" if pd.isna(r) else f"{r:.2%}"),
            share=swaps["share"].map(lambda s: f"{s:.2%}"),
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "group": st.column_config.TextColumn("Group", width="large"),
            "count": st.column_config.NumberColumn("Applicants"),
            "share": st.column_config.TextColumn("Share"),
            "bads": st.column_config.NumberColumn("Bads"),
            "bad_rate": st.column_config.TextColumn("Bad rate"),
        },
    )


def comparison_tab(
    context: StoreContext,
    runs: RunsTable,
    run: pd.Series,
    data: EvaluationData,
    table: ScoreTable,
    evaluation: ev.Evaluation,
) -> None:
    """Overlay ROC and KS with a challenger, DeLong's AUC difference and the swap set."""
    frame = runs.runs
    others = frame.loc[frame["has_model"] & (frame["run_id"] != run["run_id"]), "run_id"]
    if others.empty:
        st.info("No other run with a model in this experiment to compare with.")
        return
    challenger_id, run_threshold, challenger_threshold = _pick_challenger(context, frame, others)
    if challenger_id is None:
        st.info(
            "Pick a challenger: both runs are scored on the same rows, their ROC and KS are "
            "overlaid, and the AUC difference comes with a DeLong confidence interval."
        )
        return
    st.caption(
        f"Both runs scored on the same {data.n:,} rows ({data.source}); this run is "
        f"{run_label(frame, run['run_id'])}."
    )
    overlaps = (
        overlap_of(context, run["run_id"], "this run", data),
        overlap_of(context, challenger_id, "the challenger", data),
    )
    for overlap in overlaps:
        say_overlap(overlap)
    try:
        scores, challenger_table, challenger_eval = _challenger_evaluation(
            context, challenger_id, data
        )
    except GovernanceError as exc:
        show_error(exc)
        return
    if np.array_equal(np.asarray(scores), np.asarray(data.scores)):
        st.info(
            "The two runs give identical scores on every one of these rows: their ROC, KS and "
            "decisions are the same, so there is nothing to compare.",
            icon=":material/info:",
        )
        return
    align, challenger_threshold, points = _aligned_points(
        table, challenger_table, run_threshold, challenger_threshold
    )
    curves = {"this run": evaluation, "challenger": challenger_eval}
    plot_left, plot_right = st.columns(2)
    roc, ks = charts.roc_figure(curves, points), charts.ks_figure(curves)
    figures_after_paint.plotly_chart(plot_left, roc, "challenger_roc", width="stretch")
    figures_after_paint.plotly_chart(plot_right, ks, "challenger_ks", width="stretch")
    _auc_difference(f"{run['run_id']}:{challenger_id}:{data.fingerprint}", data, scores, overlaps)
    _swap_section(data, scores, (run_threshold, challenger_threshold), align)
