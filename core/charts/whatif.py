"""What-if figures: the SHAP waterfall and the contributions that moved after an edit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

RISK_UP = "#c0392b"
RISK_DOWN = "#1f77b4"
TOTAL = "#555555"
DEFAULT_WATERFALL_FEATURES = 10


def _logit(probability: float) -> float:
    """Probability to log-odds."""
    return math.log(probability / (1.0 - probability))


def _value_text(value: object) -> str:
    """A feature value for a bar label."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return str(value)


def waterfall_figure(
    contributions: pd.Series,
    values: pd.Series,
    base_value: float,
    threshold: float,
    top_n: int = DEFAULT_WATERFALL_FEATURES,
    *,
    score_name: str = "risk score",
    output: float | None = None,
    threshold_raw: float | None = None,
) -> go.Figure:
    """SHAP waterfall in log-odds from the base value to the applicant's score, largest first.

    SHAP is always on the raw log-odds scale. For a calibrated run pass its output (the
    calibrated PD) and the raw log-odds at which it reaches the threshold; otherwise both are
    the sigmoid's.
    """
    magnitude = contributions.abs()
    order = magnitude[magnitude > 0].sort_values(ascending=False, kind="stable").index
    shown = list(order[:top_n])
    rest = contributions.drop(index=shown).sum()
    labels = ["Base value (average applicant)"]
    measures = ["absolute"]
    amounts = [base_value]
    for name in shown:
        labels.append(f"{name} = {_value_text(values.get(name))}")
        measures.append("relative")
        amounts.append(float(contributions[name]))
    if len(contributions) > len(shown):
        labels.append(f"{len(contributions) - len(shown)} other features")
        measures.append("relative")
        amounts.append(float(rest))
    raw = base_value + float(contributions.sum())
    probability = 1.0 / (1.0 + math.exp(-raw)) if output is None else output
    labels.append("Applicant's score")
    measures.append("total")
    amounts.append(raw)
    figure = go.Figure(
        go.Waterfall(
            orientation="h",
            y=labels,
            x=amounts,
            measure=measures,
            text=[
                f"{a:+.3f}" if m == "relative" else f"{a:.3f}"
                for a, m in zip(amounts, measures, strict=True)
            ],
            textposition="outside",
            increasing={"marker": {"color": RISK_UP}},
            decreasing={"marker": {"color": RISK_DOWN}},
            totals={"marker": {"color": TOTAL}},
            connector={"line": {"color": "#bbbbbb", "width": 1}},
        )
    )
    cut = _logit(threshold) if threshold_raw is None else threshold_raw
    # the threshold line as plain layout data: add_vline costs more than the whole figure
    shapes, annotations = [], []
    if math.isfinite(cut):
        shapes.append(
            {"type": "line", "x0": cut, "x1": cut, "xref": "x", "y0": 0, "y1": 1,
             "yref": "y domain", "line": {"dash": "dash", "color": "#333333"}}
        )  # fmt: skip
        annotations.append(
            {"x": cut, "xref": "x", "y": 1, "yref": "y domain", "yanchor": "bottom",
             "showarrow": False, "text": f"threshold {threshold:.2%} = log-odds {cut:+.3f}"}
        )  # fmt: skip
    figure.update_layout(
        shapes=shapes,
        annotations=annotations,
        title=f"Why this score: {score_name} {probability:.1%} (log-odds {raw:.3f})",
        xaxis_title="Raw log-odds of default, before any calibration "
        "(red pushes risk up, blue pulls it down)",
        yaxis={"autorange": "reversed"},
        height=max(360, 34 * len(labels) + 140),
        margin={"l": 10, "r": 40, "t": 70, "b": 50},
        showlegend=False,
    )
    return figure


def moved_contributions_figure(moved: pd.DataFrame) -> go.Figure:
    """Original vs edited contribution of each feature that moved (feature, original, edited)."""
    figure = go.Figure()
    figure.add_bar(
        y=moved["feature"],
        x=moved["original"],
        name="original",
        orientation="h",
        marker_color="#999999",
    )
    figure.add_bar(
        y=moved["feature"], x=moved["edited"], name="edited", orientation="h", marker_color=RISK_UP
    )
    figure.update_layout(
        barmode="group",
        title="Contributions that moved (log-odds)",
        xaxis_title="Contribution to the log-odds of default",
        yaxis={"autorange": "reversed"},
        height=max(260, 60 * len(moved) + 120),
        margin={"l": 10, "r": 20, "t": 60, "b": 40},
    )
    return figure
