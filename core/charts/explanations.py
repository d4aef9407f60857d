"""Plotly figures that explain a model: importance bars, the SHAP beeswarm and dependence, and
monotonicity curves; each takes computed frames and returns a new figure."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.charts.diagnostics import HEIGHT, LABEL_LIMIT, figure_layout


def short_label(name: str, limit: int = LABEL_LIMIT) -> str:
    """An axis label that fits: long names keep their start and end around an ellipsis."""
    if len(name) <= limit:
        return name
    keep = (limit - 1) // 2
    return f"{name[:keep]}…{name[-keep:]}"


def bar_figure(frame: pd.DataFrame, value: str, title: str, x_title: str) -> go.Figure:
    """Horizontal bars of value by feature, largest at the top."""
    ordered = frame.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=ordered[value],
            y=[short_label(str(n)) for n in ordered["feature"]],
            orientation="h",
            customdata=ordered["feature"],
            hovertemplate="%{customdata}: %{x:.4g}<extra></extra>",
        )
    )
    fig.update_yaxes(automargin=True)
    fig = figure_layout(fig, title, x_title, "")
    fig.update_layout(height=max(HEIGHT, 28 * len(frame) + 100))
    return fig


def beeswarm_figure(swarm: pd.DataFrame) -> go.Figure:
    """SHAP value per row and feature, coloured by the feature value's rank (beeswarm-like);
    nominal categories, which have no high or low, in grey."""
    names = swarm.drop_duplicates("feature")["feature"].tolist()
    nominal = (
        swarm["nominal"].astype(bool)
        if "nominal" in swarm.columns
        else pd.Series(False, index=swarm.index)
    )
    ordered = swarm[~nominal]
    fig = go.Figure(
        go.Scattergl(
            x=ordered["shap"],
            y=ordered["position"],
            mode="markers",
            marker={
                "size": 4,
                "color": ordered["value_rank"],
                "colorscale": "RdBu_r",
                "colorbar": {
                    "title": {"text": "value", "side": "right"},
                    "tickvals": [0, 1],
                    "ticktext": ["low", "high"],
                    "thickness": 12,
                },
                "opacity": 0.6,
            },
            name="numeric value (low to high)",
            showlegend=False,
        )
    )
    if nominal.any():
        fig.add_trace(
            go.Scattergl(
                x=swarm.loc[nominal, "shap"],
                y=swarm.loc[nominal, "position"],
                mode="markers",
                marker={"size": 4, "color": "#888888", "opacity": 0.5},
                name="category (no high or low)",
                showlegend=True,
            )
        )
    fig.update_yaxes(
        tickvals=list(range(len(names))),
        ticktext=[short_label(str(n)) for n in names],
        autorange="reversed",
        automargin=True,
    )
    fig = figure_layout(fig, "SHAP values per feature", "SHAP value (log-odds)", "")
    fig.update_layout(height=max(HEIGHT, 40 * len(names) + 100))
    return fig


def dependence_figure(frame: pd.DataFrame, feature: str) -> go.Figure:
    """SHAP dependence: a feature's value against its SHAP value."""
    if pd.api.types.is_numeric_dtype(frame["value"]):
        fig = go.Figure(
            go.Scattergl(x=frame["value"], y=frame["shap"], mode="markers", marker={"size": 4})
        )
    else:
        fig = go.Figure(go.Box(x=frame["value"], y=frame["shap"], boxpoints=False))
    fig.add_hline(y=0, line_dash="dot", line_color="grey")
    return figure_layout(fig, f"SHAP dependence: {feature}", feature, "SHAP value (log-odds)")


def monotonicity_figure(curves: pd.DataFrame, feature: str) -> go.Figure:
    """Partial dependence of one declared-monotone feature."""
    curve = curves.loc[curves["feature"] == feature]
    fig = go.Figure(go.Scatter(x=curve["value"], y=curve["mean_pd"], mode="lines+markers"))
    fig.update_yaxes(rangemode="tozero")
    return figure_layout(fig, f"Partial dependence: {feature}", feature, "Mean predicted score")
