"""Figures for Monitoring: PSI per feature, reference vs recent distributions, trends by period."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.settings import PSI_MODERATE_SHIFT, PSI_SIGNIFICANT_SHIFT

STATUS_COLOURS = {
    "stable": "#2e7d32",
    "moderate shift": "#f9a825",
    "significant shift": "#c62828",
}


def psi_bar_chart(drift: pd.DataFrame) -> go.Figure:
    """Horizontal bars of PSI per feature, coloured by status, with the 0.10 / 0.25 bands."""
    ordered = drift.sort_values("psi")
    figure = go.Figure(
        go.Bar(
            x=ordered["psi"],
            y=ordered["feature"],
            orientation="h",
            marker_color=[STATUS_COLOURS[s] for s in ordered["status"]],
            hovertemplate="%{y}: PSI %{x:.3f}<extra></extra>",
        )
    )
    for value, label in ((PSI_MODERATE_SHIFT, "moderate"), (PSI_SIGNIFICANT_SHIFT, "significant")):
        figure.add_vline(x=value, line_dash="dash", line_color="grey", annotation_text=label)
    figure.update_layout(
        xaxis_title="Population stability index (recent vs reference)",
        height=max(260, 28 * len(ordered) + 80),
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
    )
    return figure


def distribution_chart(comparison: pd.DataFrame, feature: str) -> go.Figure:
    """Grouped bars of the reference and recent share per bin of one feature."""
    figure = go.Figure()
    for column, name in (("reference_share", "reference"), ("recent_share", "recent")):
        figure.add_bar(
            x=comparison["bin"],
            y=comparison[column],
            name=name,
            hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>",
        )
    figure.update_layout(
        barmode="group",
        title=f"{feature}: share of applications per bin",
        yaxis_tickformat=".0%",
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.08},
    )
    return figure


def period_chart(by_period: pd.DataFrame, reference_approval: float) -> go.Figure:
    """Approval rate (and AUC, bad rate among approved where known) per period."""
    figure = go.Figure()
    series = (
        ("approval_rate", "approval rate", "y"),
        ("bad_rate_approved", "bad rate among approved", "y"),
        ("auc", "AUC", "y2"),
    )
    for column, name, axis in series:
        if by_period[column].notna().any():
            figure.add_scatter(
                x=by_period["period"], y=by_period[column], name=name, mode="lines+markers",
                yaxis=axis,
            )  # fmt: skip
    figure.add_hline(
        y=reference_approval,
        line_dash="dot",
        line_color="grey",
        annotation_text="reference approval rate",
    )
    figure.update_layout(
        yaxis={"title": "rate", "tickformat": ".0%", "rangemode": "tozero"},
        yaxis2={"title": "AUC", "overlaying": "y", "side": "right", "range": [0.5, 1.0]},
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
        legend={"orientation": "h", "y": 1.12},
    )
    return figure
