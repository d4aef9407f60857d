"""Model diagnostics tabs: performance, score bands, explainability, monotonicity, challenger."""

from __future__ import annotations

import lightgbm as lgb
import pandas as pd
import streamlit as st

from core.charts import diagnostics as charts
from core.errors import GovernanceError
from core.evaluation import curves as ev
from core.evaluation.eval_data import EvaluationData
from core.evaluation.explain_global import beeswarm_frame, dependence, feature_importance
from core.evaluation.monotonicity import declared_constraints
from core.evaluation.run_comparison import swap_set
from core.evaluation.threshold_policy import PolicyPoint, ScoreTable, policy_at
from core.settings import Settings
from core.store.access import RunsTable
from ui import cache_diagnostics as cached
from ui.context import StoreContext, show_error
from ui.diagnostics_data import run_label
from ui.diagnostics_policy import THRESHOLD_MAX, THRESHOLD_MIN, threshold_section

SHAP_SAMPLES = (500, 2_000, 5_000)
PERCENT_COLUMNS = ("share", "bad_rate", "cum_bad_capture", "cum_good_capture", "ks")


@st.fragment
def policy_and_performance(
    settings: Settings,
    table: ScoreTable,
    evaluation: ev.Evaluation | None,
    error: GovernanceError | None,
) -> None:
    """The threshold policy and the plots it marks; a threshold change reruns only this part."""
    point = threshold_section(settings, table)
    st.divider()
    if evaluation is None:
        if error is not None:
            show_error(error)
        return
    performance_tab(evaluation, table, point)


def performance_tab(evaluation: ev.Evaluation, table: ScoreTable, point: PolicyPoint) -> None:
    """Headline metrics, ROC, KS, distribution, precision-recall and calibration."""
    cols = st.columns(5)
    cols[0].metric("AUC", f"{evaluation.auc:.4f}")
    cols[1].metric("Gini", f"{evaluation.gini:.4f}")
    cols[2].metric("KS", f"{evaluation.ks:.4f}", help=f"reached at score {evaluation.ks_score:.4f}")
    cols[3].metric("Brier score", f"{evaluation.brier:.4f}")
    cols[4].metric("Average precision", f"{evaluation.average_precision:.4f}")
    left, right = st.columns(2)
    curves = {"model": evaluation}
    left.plotly_chart(charts.roc_figure(curves, {"model": point}), width="stretch")
    right.plotly_chart(charts.ks_figure(curves, point.threshold), width="stretch")
    left.plotly_chart(charts.distribution_figure(evaluation, point.threshold), width="stretch")
    right.plotly_chart(charts.precision_recall_figure(evaluation, point), width="stretch")
    left.plotly_chart(
        charts.calibration_figure(ev.calibration(table), evaluation.brier), width="stretch"
    )


def bands_tab(table: ScoreTable, run_name: str) -> None:
    """Score-band table (quantiles or the user's edges) with a CSV download."""
    mode = st.radio(
        "Bands", ["Quantiles", "My own score edges"], horizontal=True, key="diag_band_mode"
    )
    try:
        if mode == "Quantiles":
            n_bands = st.slider("Number of bands", 2, 20, ev.DEFAULT_BANDS, key="diag_n_bands")
            bands = ev.score_bands(table, n_bands=n_bands)
        else:
            text = st.text_input(
                "Score edges (comma-separated probabilities)",
                ev.DEFAULT_BAND_EDGES,
                key="diag_edges",
            )
            bands = ev.score_bands(table, edges=ev.parse_band_edges(text))
    except GovernanceError as exc:
        show_error(exc)
        return
    st.caption(
        "Band 1 holds the highest scores (riskiest). Cumulative captures and KS run from the "
        f"riskiest band down. {len(bands)} bands with {int(bands['count'].sum()):,} rows and "
        f"{int(bands['bads'].sum()):,} bads in total."
    )
    column_config = {
        c: st.column_config.NumberColumn(c.replace("_", " ").capitalize(), format="percent")
        for c in PERCENT_COLUMNS
    }
    column_config |= {
        c: st.column_config.NumberColumn(c.replace("_", " ").capitalize(), format="%.4f")
        for c in ("score_min", "score_max", "mean_score")
    }
    column_config["ks"] = st.column_config.NumberColumn("KS", format="percent")
    st.dataframe(bands, hide_index=True, width="stretch", column_config=column_config)
    st.download_button(
        "Download score bands (CSV)",
        bands.to_csv(index=False).encode(),
        file_name=f"score_bands_{run_name}.csv",
        mime="text/csv",
        key="diag_bands_download",
    )


def explain_tab(
    context: StoreContext, run_id: str, model: lgb.LGBMClassifier, data: EvaluationData
) -> None:
    """Importance (gain or split), global SHAP on a sample, and SHAP dependence."""
    kind = st.radio("Importance", ["gain", "split"], horizontal=True, key="diag_importance_type")
    importance = feature_importance(model, kind)
    st.plotly_chart(
        charts.bar_figure(importance, "importance", f"Feature importance ({kind})", kind),
        width="stretch",
    )
    sample_size = st.select_slider(
        "Rows explained by SHAP", SHAP_SAMPLES, value=2_000, key="diag_shap_sample"
    )
    shap = cached.global_shap(context.tracking_uri, run_id, data.fingerprint, sample_size, data)
    if shap.is_sample:
        st.caption(
            f"SHAP computed on a random sample of {shap.n_sample:,} of {shap.n_total:,} rows "
            "(exact TreeSHAP, in log-odds)."
        )
    else:
        st.caption(f"SHAP computed on all {shap.n_total:,} rows (exact TreeSHAP, in log-odds).")
    left, right = st.columns(2)
    left.plotly_chart(
        charts.bar_figure(shap.mean_abs(), "mean_abs_shap", "Mean |SHAP|", "mean |SHAP|"),
        width="stretch",
    )
    right.plotly_chart(charts.beeswarm_figure(beeswarm_frame(shap)), width="stretch")
    feature = st.selectbox(
        "Dependence for feature", shap.mean_abs()["feature"].tolist(), key="diag_dependence"
    )
    st.plotly_chart(charts.dependence_figure(dependence(shap, feature), feature), width="stretch")


def monotonicity_tab(
    context: StoreContext,
    run: pd.Series,
    model: lgb.LGBMClassifier,
    data: EvaluationData,
) -> None:
    """Partial-dependence check of the features the run declared monotone."""
    constraints = declared_constraints(
        run.get("params.monotone_constraints"), list(model.feature_name_)
    )
    if not constraints:
        st.info(
            "This run declared no monotone constraints (params.monotone_constraints), so "
            "there is nothing to check."
        )
        return
    check = cached.monotonicity_check(
        context.tracking_uri, run["run_id"], data.fingerprint, tuple(constraints.items()), data
    )
    if check.violations:
        st.error(
            f"Not monotone as declared: {', '.join(check.violations)}. The model's partial "
            "dependence moves against the declared direction somewhere on the grid.",
            icon=":material/block:",
        )
    else:
        st.success(
            f"All {len(constraints)} declared feature(s) are monotone as declared over the grid."
        )
    st.dataframe(check.summary, hide_index=True, width="stretch")
    plotted = check.curves["feature"].unique().tolist()
    if plotted:
        feature = st.selectbox("Partial dependence of", plotted, key="diag_pd_feature")
        st.plotly_chart(charts.monotonicity_figure(check.curves, feature), width="stretch")


def _challenger_evaluation(
    context: StoreContext, challenger_id: str, data: EvaluationData
) -> tuple[object, ScoreTable, ev.Evaluation]:
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
    table = cached.score_table(key, data.labels, scores)
    return scores, table, cached.evaluation_of(key, table)


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
    if challenger_id is None:
        st.info(
            "Pick a challenger: both runs are scored on the same rows, their ROC and KS are "
            "overlaid, and the AUC difference comes with a DeLong confidence interval."
        )
        return
    st.caption(
        f"Both runs scored on the same {data.n:,} rows ({data.source}); this run is "
        f"{run_label(frame, run['run_id'])}. If the challenger was trained on some of "
        "these rows, its numbers here are optimistic."
    )
    try:
        scores, challenger_table, challenger_eval = _challenger_evaluation(
            context, challenger_id, data
        )
    except GovernanceError as exc:
        show_error(exc)
        return
    curves = {"this run": evaluation, "challenger": challenger_eval}
    points = {
        "this run": policy_at(table, run_threshold),
        "challenger": policy_at(challenger_table, challenger_threshold),
    }
    plot_left, plot_right = st.columns(2)
    plot_left.plotly_chart(charts.roc_figure(curves, points), width="stretch")
    plot_right.plotly_chart(charts.ks_figure(curves), width="stretch")
    comparison = cached.delong(
        f"{run['run_id']}:{challenger_id}:{data.fingerprint}",
        data.labels,
        data.scores,
        scores,
    )
    st.markdown(
        f"**AUC difference (challenger − this run): {comparison.difference:+.4f}**, "
        f"{comparison.confidence:.0%} CI [{comparison.ci_low:+.4f}, {comparison.ci_high:+.4f}], "
        f"DeLong p = {comparison.p_value:.3g} "
        f"(this run {comparison.auc_base:.4f}, challenger {comparison.auc_challenger:.4f})."
    )
    swaps = swap_set(data.labels, data.scores, scores, run_threshold, challenger_threshold)
    st.markdown("**Swap set** at each run's threshold")
    st.dataframe(
        swaps,
        hide_index=True,
        width="stretch",
        column_config={
            "share": st.column_config.NumberColumn(format="percent"),
            "bad_rate": st.column_config.NumberColumn(format="percent"),
        },
    )
