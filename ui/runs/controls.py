"""Runs page controls: primary metric, stability rule and filters, every value bound to the URL."""

from __future__ import annotations

import streamlit as st

from core.runs import analysis as runs_analysis
from core.runs.stability import ABSOLUTE, NOISE, StabilityRule
from core.store.access import RunsTable

URL = "query-params"
DEFAULT_RULE = StabilityRule()
RULE_LABELS = {NOISE: "against sampling noise", ABSOLUTE: "absolute limits"}
FILTER_KEYS = ("q", "status", "tag", "param", "pval", "range", "min", "max")


def _column_picker(container, label: str, columns: list[str], key: str, none_label: str) -> str:
    """A URL-bound selectbox of columns with an empty first choice; returns '' for none."""
    return container.selectbox(
        label,
        ["", *columns],
        key=key,
        bind=URL,
        format_func=lambda c: runs_analysis.metric_label(c) if c else none_label,
    )


def _limit(container, label: str, value: float, step: float, key: str, help_text: str) -> float:
    """A URL-bound number input in [0, 1] with four decimals."""
    return float(
        container.number_input(
            label,
            min_value=0.0,
            max_value=1.0,
            value=value,
            step=step,
            format="%.4f",
            key=key,
            bind=URL,
            help=help_text,
        )
    )


def primary_and_rule(metric_options: list[str]) -> tuple[str, StabilityRule]:
    """The primary metric (one of metric_options) and the stability rule the user set."""
    left, right = st.columns([2, 2])
    primary = left.selectbox(
        "Primary metric",
        metric_options,
        key="metric",
        bind=URL,
        format_func=runs_analysis.metric_label,
        help="Ranks runs and picks the recommendation. Losses and errors are minimised.",
    )
    method = right.radio(
        "CV stability judged",
        list(RULE_LABELS.values()),
        key="rule",
        bind=URL,
        horizontal=True,
        help="Against sampling noise: a fold spread is only a problem when it is larger than "
        "folds of that size show anyway. Absolute: fixed limits on std and worst fold.",
    )
    with st.expander("Stability rule settings"):
        noise_col, absolute_col = st.columns(2)
        noise_col.caption("Against sampling noise")
        level = _limit(
            noise_col, "Test level", DEFAULT_RULE.level, 0.01, "level",
            "Unstable when the χ² test of fold spread against noise gives p below this.",
        )  # fmt: skip
        max_se = noise_col.number_input(
            "Worst fold at most this many SE below the mean",
            min_value=0.0,
            value=DEFAULT_RULE.max_worst_fold_se,
            step=0.5,
            key="max_se",
            bind=URL,
        )
        absolute_col.caption("Absolute limits (also for runs without fold sizes)")
        max_std = _limit(
            absolute_col, "Stable if std(CV AUC) ≤", DEFAULT_RULE.max_std, 0.001, "max_std", ""
        )
        max_drop = _limit(
            absolute_col, "and worst fold ≥ mean −", DEFAULT_RULE.max_worst_fold_drop, 0.005,
            "max_drop", "",
        )  # fmt: skip
    chosen = next(m for m, label in RULE_LABELS.items() if label == method)
    rule = StabilityRule(
        max_std=max_std,
        max_worst_fold_drop=max_drop,
        method=chosen,
        level=min(max(level, 1e-6), 0.999),
        max_worst_fold_se=float(max_se),
    )
    return primary, rule


def run_filter(table: RunsTable, metric_options: list[str]) -> runs_analysis.RunFilter:
    """The filters expander; open when a filter is set (also from the URL)."""
    runs = table.runs
    filters_set = any(st.session_state.get(k) or k in st.query_params for k in FILTER_KEYS)
    with st.expander("Filters", expanded=filters_set):
        row1 = st.columns([2, 2, 2])
        search = row1[0].text_input("Search name or run id", key="q", bind=URL)
        statuses = row1[1].multiselect(
            "Status", sorted(runs["status"].dropna().unique()), key="status", bind=URL
        )
        tag = row1[2].text_input(
            "Tag (key=value, or key)",
            key="tag",
            bind=URL,
            help="Tags present: "
            + (", ".join(runs_analysis.metric_label(c) for c in table.tag_columns) or "none"),
        )
        row2 = st.columns([2, 2, 2, 1, 1])
        param = _column_picker(row2[0], "Param", table.param_columns, "param", "(any)")
        values = sorted(runs[param].dropna().astype("str").unique()) if param else []
        param_values = row2[1].multiselect(
            "Param value", values, key="pval", bind=URL, disabled=not param
        )
        metric_columns = [c for c in metric_options if c in runs.columns]
        range_metric = _column_picker(row2[2], "Metric range", metric_columns, "range", "(none)")
        range_min = row2[3].number_input(
            "min", value=None, format="%.4f", key="min", bind=URL, disabled=not range_metric
        )
        range_max = row2[4].number_input(
            "max", value=None, format="%.4f", key="max", bind=URL, disabled=not range_metric
        )
    return runs_analysis.RunFilter(
        search=search,
        statuses=tuple(statuses),
        tag=tag,
        param=param or "",
        param_values=tuple(param_values),
        range_metric=range_metric or "",
        range_min=range_min,
        range_max=range_max,
    )
