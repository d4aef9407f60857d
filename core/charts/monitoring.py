"""Figures for Monitoring: PSI, reference vs recent distributions, trends and calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.settings import PSI_MODERATE_SHIFT, PSI_SIGNIFICANT_SHIFT

# Periods are labels ("2026-03", or a week's Monday): a category axis, legend under the plot.
PERIOD_LAYOUT = {
    "xaxis": {"type": "category"},
    "margin": {"l": 10, "r": 10, "t": 50, "b": 40},
    "legend": {"orientation": "h", "y": -0.15},
}


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


def period_chart(segments: pd.DataFrame) -> go.Figure:
    """Approval rate against the expected one, bad rate among approved and AUC, per period."""
    figure = go.Figure()
    series = (
        ("approval_rate", "approval rate", "y", "solid"),
        ("expected_approval_rate", "expected approval rate", "y", "dot"),
        ("bad_rate_approved", "bad rate among approved", "y", "solid"),
        ("auc", "AUC", "y2", "solid"),
    )
    for column, name, axis, dash in series:
        if segments[column].notna().any():
            figure.add_scatter(
                x=segments["period"], y=segments[column], name=name, mode="lines+markers",
                yaxis=axis, line={"dash": dash},
            )  # fmt: skip
    figure.update_layout(
        title="Approval vs expected, bad rate of approved, AUC",
        yaxis={"title": "Rate", "tickformat": ".0%", "rangemode": "tozero"},
        # Round AUC ticks of its own (not the rate axis' gridlines mapped onto 0.5-1: 0.573 …).
        yaxis2={
            "title": "AUC",
            "overlaying": "y",
            "side": "right",
            "range": [0.5, 1.0],
            "tickmode": "linear",
            "tick0": 0.5,
            "dtick": 0.1,
            "tickformat": ".1f",
            "showgrid": False,
        },
        **PERIOD_LAYOUT,
    )
    return figure


def psi_trend_chart(segments: pd.DataFrame) -> go.Figure:
    """Score PSI per period beside the level sampling noise alone would reach, and the 0.10 rule."""
    figure = go.Figure()
    figure.add_bar(
        x=segments["period"], y=segments["score_psi"], name="score PSI",
        hovertemplate="%{x}: PSI %{y:.3f}<extra></extra>",
    )  # fmt: skip
    figure.add_scatter(
        x=segments["period"], y=segments["score_psi_noise"], name="noise level (99%)",
        mode="markers", marker={"symbol": "line-ew-open", "size": 22, "color": "grey"},
        hovertemplate="%{x}: noise alone reaches %{y:.3f}<extra></extra>",
    )  # fmt: skip
    figure.add_hline(y=PSI_MODERATE_SHIFT, line_dash="dash", line_color="grey",
                     annotation_text="0.10 rule")  # fmt: skip
    figure.update_layout(
        title="Score PSI beside the level sampling noise alone reaches",
        yaxis_title="score PSI against the reference profile",
        **PERIOD_LAYOUT,
    )
    return figure


def calibration_chart(segments: pd.DataFrame, score_name: str = "risk score") -> go.Figure:
    """Mean score against the observed bad rate of labelled decisions, by period.

    score_name says what the score is ('risk score', or a calibrated probability of default).
    """
    labelled = segments[segments["labelled"] > 0]
    figure = go.Figure()
    predicted = f"predicted (mean {score_name})"
    for column, name in (("mean_pd_labelled", predicted), ("bad_rate", "observed")):
        figure.add_scatter(
            x=labelled["period"], y=labelled[column], name=name, mode="lines+markers",
            hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>",
        )  # fmt: skip
    figure.update_layout(
        title=f"Calibration: mean {score_name} against the observed bad rate",
        yaxis={"title": "Bad rate", "tickformat": ".0%", "rangemode": "tozero"},
        **PERIOD_LAYOUT,
    )
    return figure


def feature_psi_heatmap(features: pd.DataFrame) -> go.Figure:
    """PSI of every feature (rows) in every period (columns)."""
    grid = features.pivot_table(index="feature", columns="period", values="psi", aggfunc="max")
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(), x=grid.columns.tolist(), y=grid.index.tolist(),
            colorscale=[[0, "#e8f5e9"], [0.4, "#f9a825"], [1, "#c62828"]], zmin=0,
            zmax=max(PSI_SIGNIFICANT_SHIFT, float(np.nanmax(grid.to_numpy(), initial=0))),
            colorbar={"title": "PSI"}, hovertemplate="%{y}, %{x}: PSI %{z:.3f}<extra></extra>",
        )
    )  # fmt: skip
    figure.update_layout(
        height=max(260, 22 * len(grid) + 80),
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
        xaxis={"type": "category"},
    )
    return figure
