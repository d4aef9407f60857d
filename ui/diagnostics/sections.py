"""Model diagnostics tabs: performance, score bands, explainability, monotonicity, challenger."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.charts import diagnostics as charts
from core.charts import explanations
from core.errors import GovernanceError
from core.evaluation import curves as ev
from core.evaluation.eval_data import EvaluationData
from core.evaluation.explain_global import beeswarm_frame, dependence, feature_importance
from core.evaluation.monotonicity import declared_constraints
from core.evaluation.threshold_policy import ScoreTable
from core.scoring.loaded_model import LoadedModel
from core.settings import Settings
from ui.diagnostics import cache as cached
from ui.diagnostics.policy import threshold_section
from ui.shared import figures_after_paint
from ui.shared.context import StoreContext, show_error
from ui.shared.markdown_text import literal
from ui.shared.plain_tables import plain_table

SHAP_SAMPLES = (500, 2_000, 5_000)
PERCENT_COLUMNS = ("share", "bad_rate", "cum_bad_capture", "cum_good_capture", "cum_share")
BAND_LABELS = {
    "count": "Applicants",
    "cum_bad_capture": "Bads caught (cumulative)",
    "cum_good_capture": "Goods declined (cumulative)",
    "cum_share": "Share (cumulative)",
    "cum_lift": "Lift (cumulative)",
}


def policy_and_performance(
    settings: Settings,
    key: str,
    table: ScoreTable,
    evaluation: ev.Evaluation | None,
    error: GovernanceError | None,
) -> None:
    """The threshold policy and the plots it marks, then what does not depend on the threshold.

    key names the score table (run id and data fingerprint) for the cached figure data.
    """
    threshold_dependent(settings, key, table, evaluation)
    st.divider()
    if evaluation is None:
        if error is not None:
            show_error(error)
        return
    ranking_and_calibration(evaluation, table)


@st.fragment
def threshold_dependent(
    settings: Settings, key: str, table: ScoreTable, evaluation: ev.Evaluation | None
) -> None:
    """Everything the threshold moves: the workbench previews in the browser, and applying a
    threshold or changing the economics reruns only this part."""
    threshold_section(settings, key, table, evaluation)


def ranking_and_calibration(evaluation: ev.Evaluation, table: ScoreTable) -> None:
    """Headline ranking metrics and calibration: the same at every threshold."""
    cols = st.columns(5)
    cols[0].metric("AUC", f"{evaluation.auc:.4f}")
    cols[1].metric("Gini", f"{evaluation.gini:.4f}")
    cols[2].metric("KS", f"{evaluation.ks:.4f}", help=f"reached at score {evaluation.ks_score:.4f}")
    cols[3].metric("Brier score", f"{evaluation.brier:.4f}")
    cols[4].metric("Average precision", f"{evaluation.average_precision:.4f}")
    calibration = evaluation.calibration
    if not calibration.is_calibrated:
        st.warning(
            "**This score ranks risk but is not a calibrated probability of default**: "
            + "; ".join(calibration.problems)
            + ". Read approval and bad rates from the threshold policy, not the score itself "
            "as a PD, or train with `python -m core train --calibrate isotonic` for a calibrated "
            "PD.",
            icon=":material/warning:",
        )
    left, _ = st.columns(2)
    figure = charts.calibration_figure(ev.calibration(table), evaluation.brier)
    figures_after_paint.plotly_chart(left, figure, "calibration_figure", width="stretch")


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
    # Shares with two decimals (not 57.67% beside 28%), KS as a fraction like the KS headline.
    shown, column_config = plain_table(
        bands,
        percent=PERCENT_COLUMNS,
        formats={"lift": "%.2f", "cum_lift": "%.2f", "band": "%d"},
        labels=BAND_LABELS,
    )
    st.dataframe(shown, hide_index=True, width="stretch", column_config=column_config)
    left, right = st.columns(2)
    lift, gains = charts.lift_figure(bands), charts.gains_figure(bands)
    figures_after_paint.plotly_chart(left, lift, "lift_figure", width="stretch")
    figures_after_paint.plotly_chart(right, gains, "gains_figure", width="stretch")
    st.download_button(
        "Download score bands (CSV)",
        bands.to_csv(index=False).encode(),
        file_name=f"score_bands_{run_name}.csv",
        mime="text/csv",
        key="diag_bands_download",
    )


def explain_tab(
    context: StoreContext, run_id: str, model: LoadedModel, data: EvaluationData
) -> None:
    """Importance (gain or split), global SHAP on a sample, and SHAP dependence."""
    kind = st.radio("Importance", ["gain", "split"], horizontal=True, key="diag_importance_type")
    importance = feature_importance(model, kind)
    figures_after_paint.plotly_chart(
        st,
        explanations.bar_figure(importance, "importance", f"Feature importance ({kind})", kind),
        "importance_figure",
        width="stretch",
    )
    sample_size = st.select_slider(
        "Rows explained by SHAP", SHAP_SAMPLES, value=2_000, key="diag_shap_sample"
    )
    shap = cached.global_shap(context.tracking_uri, run_id, data.fingerprint, sample_size, data)
    if shap.is_sample:
        st.caption(
            f"SHAP computed on a random sample of {shap.n_sample:,} of {shap.n_total:,} rows "
            "(exact TreeSHAP, in raw log-odds, before any calibration)."
        )
    else:
        st.caption(
            f"SHAP computed on all {shap.n_total:,} rows (exact TreeSHAP, in raw log-odds, "
            "before any calibration)."
        )
    left, right = st.columns(2)
    figures_after_paint.plotly_chart(
        left,
        explanations.bar_figure(shap.mean_abs(), "mean_abs_shap", "Mean |SHAP|", "mean |SHAP|"),
        "shap_bar_figure",
        width="stretch",
    )
    beeswarm = explanations.beeswarm_figure(beeswarm_frame(shap))
    figures_after_paint.plotly_chart(right, beeswarm, "beeswarm_figure", width="stretch")
    feature = st.selectbox(
        "Dependence for feature", shap.mean_abs()["feature"].tolist(), key="diag_dependence"
    )
    figure = explanations.dependence_figure(dependence(shap, feature), feature)
    figures_after_paint.plotly_chart(st, figure, "dependence_figure", width="stretch")


def monotonicity_tab(
    context: StoreContext,
    run: pd.Series,
    model: LoadedModel,
    data: EvaluationData,
) -> None:
    """Partial-dependence check of the features the run declared monotone."""
    constraints = declared_constraints(run.get("params.monotone_constraints"), model.feature_names)
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
    elif check.checked:
        st.success(
            f"All {len(check.checked)} checked feature(s) are monotone as declared over their "
            "whole observed range."
        )
    if check.unused:
        st.info(
            f"Not used by the model: {', '.join(map(literal, check.unused))}. A feature with no "
            "split has a flat curve, which says nothing about its direction.",
            icon=":material/info:",
        )
    st.dataframe(
        # The worst step in percentage points of the score, like every other difference shown.
        check.summary.assign(worst_violation=check.summary["worst_violation"] * 100),
        hide_index=True,
        width="stretch",
        column_config={
            "feature": st.column_config.TextColumn("Feature"),
            "declared": st.column_config.TextColumn("Declared"),
            "monotone": st.column_config.CheckboxColumn("Monotone"),
            "worst_violation": st.column_config.NumberColumn(
                "Worst step against", format="%.3f pp"
            ),
            "grid_points": st.column_config.NumberColumn("Grid points"),
            "verdict": st.column_config.TextColumn("Verdict", width="medium"),
        },
    )
    plotted = check.curves["feature"].unique().tolist()
    if plotted:
        feature = st.selectbox("Partial dependence of", plotted, key="diag_pd_feature")
        figure = explanations.monotonicity_figure(check.curves, feature)
        figures_after_paint.plotly_chart(st, figure, "monotonicity_figure", width="stretch")
