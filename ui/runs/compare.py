"""The Runs page's comparison tabs: runs side by side, params against a metric, param effects."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.charts import runs as charts
from core.runs import analysis as runs_analysis
from core.runs.views import varying_params
from ui.shared import figures_after_paint

_LABEL = runs_analysis.metric_label


def _side_by_side(runs: pd.DataFrame, selected: list[str]) -> None:
    """Params (optionally differences only) and metrics with deltas, for 2+ selected runs."""
    if len(selected) < 2:
        st.info("Select two or more runs (tick rows in the table) to compare them side by side.")
        return
    diff_only = st.toggle("Differences only", value=False, key="diff", bind="query-params")
    params_table = runs_analysis.compare_params(runs, selected, differences_only=diff_only)
    st.markdown("**Params**")
    if params_table.empty:
        st.caption("These runs logged identical params." if diff_only else "No params logged.")
    else:
        st.dataframe(
            params_table,
            width="stretch",
            key="compare_params",
            column_config={
                "_index": st.column_config.TextColumn("Param"),
                "differs": st.column_config.CheckboxColumn("Differs"),
            },
        )
    st.markdown("**Metrics** (Δ = difference to the first selected run)")
    metrics = runs_analysis.compare_metrics(runs, selected)
    # One format for every number in the table: four decimals, differences signed.
    numbers = {
        c: st.column_config.NumberColumn(c, format="%+.4f" if c.startswith("Δ") else "%.4f")
        for c in metrics.columns
    }
    st.dataframe(
        metrics,
        width="stretch",
        key="compare_metrics",
        placeholder="",
        column_config={"_index": st.column_config.TextColumn("Metric"), **numbers},
    )


def compare_tab(
    runs: pd.DataFrame,
    ranked: pd.DataFrame,
    selected: list[str],
    param_columns: list[str],
    metric_options: list[str],
    primary: str,
    label_of: dict[str, str],
    *,
    tracking_uri: str,
    champion: str | None = None,
) -> None:
    """Selected runs side by side, their ROC/KS overlays, parallel coordinates and a scatter."""
    _side_by_side(runs, selected)
    from ui.runs.overlays import overlays_section  # deferred: it loads models (LightGBM)

    overlays_section(tracking_uri, runs, selected, label_of, champion)
    st.markdown("**Hyper-parameters against the primary metric**")
    scope_all = st.toggle(
        "Use every run shown in the table", value=len(selected) < 2, key="scope_all"
    )
    plot_runs = ranked if scope_all else runs_analysis.selected_in_order(runs, selected)
    varying = varying_params(plot_runs, param_columns)
    if len(plot_runs) < 2 or not varying:
        st.info("Parallel coordinates need at least two runs whose params differ.")
    else:
        axes = st.multiselect("Axes", varying, default=varying[:6], key="axes", format_func=_LABEL)
        if axes:
            figure = charts.parallel_figure(plot_runs, axes, primary)
            figures_after_paint.plotly_chart(st, figure, "parallel_figure", width="stretch")
    if not param_columns:
        return
    x_col, y_col = st.columns(2)
    shown_varying = varying_params(ranked, param_columns)
    x_param = x_col.selectbox(
        "Scatter: param",
        shown_varying + [c for c in param_columns if c not in shown_varying],
        key="x",
        format_func=_LABEL,
        help="Params that vary among the runs shown come first.",
    )
    y_metric = y_col.selectbox(
        "against metric",
        metric_options,
        index=metric_options.index(primary),
        key="y",
        format_func=_LABEL,
    )
    figures_after_paint.plotly_chart(
        st,
        charts.scatter_figure(ranked, x_param, y_metric, selected, label_of, champion),
        "scatter_figure",
        width="stretch",
    )


def effects_tab(runs: pd.DataFrame, primary: str) -> None:
    """Which params move with the primary metric across finished runs."""
    from core.runs import param_effects  # deferred: scipy.stats takes ~1 s to import

    effects = param_effects.param_effects(runs, primary)
    if effects.empty:
        st.info(
            f"Not enough finished runs with {_LABEL(primary)} and varying params "
            f"(at least {param_effects.MIN_RUNS_FOR_EFFECTS}) to say which params matter."
        )
        return
    figure = charts.effects_figure(effects, primary)
    figures_after_paint.plotly_chart(st, figure, "effects_figure", width="stretch")
    st.dataframe(
        effects,
        hide_index=True,
        width="stretch",
        placeholder="",
        column_config={
            "param": st.column_config.TextColumn("Param"),
            "kind": st.column_config.TextColumn("Kind"),
            "effect": st.column_config.NumberColumn(
                "Effect", format="%.2f", help="Spearman ρ (numeric) or η (text)"
            ),
            "strength": st.column_config.ProgressColumn(
                "Strength", min_value=0.0, max_value=1.0, format="%.2f"
            ),
            "p_value": st.column_config.NumberColumn(
                "p-value", format="%.3f", help="Chance of an effect this strong with no real one"
            ),
            "n_runs": st.column_config.NumberColumn("Runs"),
            "n_values": st.column_config.NumberColumn("Distinct values"),
            "note": st.column_config.TextColumn("Note"),
        },
    )
    n_runs = int(effects["n_runs"].max())
    st.caption(
        f"Across {n_runs} finished run(s) of the whole experiment. "
        "Association, not causation: params changed together cannot be told apart."
    )
    if n_runs < param_effects.FEW_RUNS:
        st.warning(
            f"Only {n_runs} runs: with so few, even ρ = 1.00 can happen by chance (see each "
            "p-value). Train more runs before reading these as effects.",
            icon=":material/warning:",
        )


def children_tab(children: pd.DataFrame, runs: pd.DataFrame) -> None:
    """Nested child runs grouped under their parents."""
    view = runs_analysis.child_runs_view(children, runs)
    if view.empty:
        st.caption("No nested child runs in this experiment.")
    else:
        st.dataframe(view, hide_index=True, width="stretch", placeholder="")
