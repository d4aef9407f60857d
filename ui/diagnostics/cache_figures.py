"""Cached figure data (never figure objects) for threshold-marked charts, keyed by immutable ids.

A figure's threshold-independent part (its curves, axes and legend) is built and validated once
per score table, kept as plain data by st.cache_data (each caller gets its own copy), and a
threshold change only adds its marks (core.charts.diagnostics.marked).
"""

from __future__ import annotations

import streamlit as st

from core.charts import diagnostics as charts
from core.charts.threshold_workbench import light_chart
from core.evaluation import curves as ev
from core.evaluation.threshold_policy import ScoreTable, policy_curve, policy_grid

_ENTRIES = 8


@st.cache_data(show_spinner=False, max_entries=_ENTRIES)
def policy_figures_data(key: str, _table: ScoreTable) -> tuple[dict, dict]:
    """The policy and strategy curves of a score table (key: run id and data fingerprint)."""
    curve = policy_curve(_table)
    return charts.policy_data(curve), charts.strategy_data(curve)


@st.cache_data(show_spinner=False, max_entries=_ENTRIES)
def performance_figures_data(key: str, _evaluation: ev.Evaluation) -> dict[str, dict]:
    """ROC, KS, score distribution and precision-recall of one model's evaluation."""
    curves = {"model": _evaluation}
    return {
        "roc": charts.roc_data(curves),
        "ks": charts.ks_data(curves),
        "distribution": charts.distribution_data(_evaluation),
        "precision_recall": charts.precision_recall_data(_evaluation),
    }


@st.cache_data(show_spinner=False, max_entries=_ENTRIES)
def workbench_data(key: str, _table: ScoreTable, _evaluation: ev.Evaluation | None) -> dict:
    """The threshold workbench's data: the policy grid and its threshold-marked charts.

    Built once per score table (key: run id and data fingerprint); without an evaluation (one
    class only) there are no ROC, KS, distribution or precision-recall charts.
    """
    charts_data = []
    if _evaluation is not None:
        figures = performance_figures_data(key, _evaluation)
        charts_data = [
            light_chart(figures["roc"], "roc"),
            light_chart(figures["ks"], "line"),
            light_chart(figures["distribution"], "line"),
            light_chart(figures["precision_recall"], "precision_recall"),
        ]
    policy, strategy = policy_figures_data(key, _table)
    charts_data += [light_chart(policy, "line"), light_chart(strategy, "strategy")]
    return {"table": key, "grid": policy_grid(_table).as_json(), "charts": charts_data}
