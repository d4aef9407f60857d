"""Plotly figures for Model diagnostics; each takes computed frames and returns a new figure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.evaluation.curves import Evaluation
from core.evaluation.threshold_policy import PolicyPoint

BAD_COLOUR = "#d62728"
GOOD_COLOUR = "#1f77b4"
THRESHOLD_COLOUR = "#444444"
SERIES_COLOURS = ("#1f77b4", "#ff7f0e")
HEIGHT = 380
LABEL_LIMIT = 32


def figure_layout(fig: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    """Common layout: title, axis titles, legend at the bottom, compact margins."""
    fig.update_layout(
        title=title,
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=HEIGHT,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


@dataclass(frozen=True)
class Marks:
    """What a threshold adds to a figure: marker traces and a vertical line, as plain data."""

    traces: tuple[dict, ...] = ()
    line_at: float | None = None


def marked(base: dict, marks: Marks = Marks()) -> go.Figure:
    """A figure from figure data (a validated figure's to_dict()) plus a threshold's marks.

    The base is trusted (it was validated when it was built and can be cached by the caller),
    so it is not validated again: a threshold change costs the marks, not the whole figure.
    """
    layout = dict(base.get("layout", {}))
    if marks.line_at is not None:
        x = float(marks.line_at)
        layout["shapes"] = [
            *layout.get("shapes", ()),
            {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1,
             "yref": "y domain", "line": {"dash": "dash", "color": THRESHOLD_COLOUR}},
        ]  # fmt: skip
        layout["annotations"] = [
            *layout.get("annotations", ()),
            {"x": x, "xref": "x", "y": 1, "yref": "y domain", "yanchor": "bottom",
             "showarrow": False, "text": f"threshold {x:.4f}"},
        ]  # fmt: skip
    return go.Figure({"data": [*base["data"], *marks.traces], "layout": layout}, _validate=False)


def _marker(at: tuple[float, float], colour: str, name: str, outlined: bool = True) -> dict:
    """A policy point as one marker trace (plain data)."""
    marker = {"size": 11, "color": colour}
    if outlined:
        marker["line"] = {"color": "black", "width": 1}
    return {"type": "scatter", "x": [float(at[0])], "y": [float(at[1])], "mode": "markers",
            "marker": marker, "name": name}  # fmt: skip


def roc_data(curves: Mapping[str, Evaluation]) -> dict:
    """ROC curves (one per model) with AUC in the legend, as figure data without marks."""
    fig = go.Figure()
    for (name, evaluation), colour in zip(curves.items(), SERIES_COLOURS, strict=False):
        roc = evaluation.roc
        fig.add_scatter(
            x=roc["fpr"],
            y=roc["tpr"],
            mode="lines",
            name=f"{name} (AUC {evaluation.auc:.4f}, Gini {evaluation.gini:.4f})",
            line={"color": colour},
        )
    fig.add_scatter(
        x=[0, 1], y=[0, 1], mode="lines", name="random", line={"dash": "dot", "color": "grey"}
    )
    fig = figure_layout(
        fig, "ROC curve", "False positive rate (goods declined)", "True positive rate (bads caught)"
    )
    fig.update_layout(height=HEIGHT + 60 * (len(curves) - 1))
    return fig.to_dict()


def roc_marks(
    curves: Mapping[str, Evaluation], points: Mapping[str, PolicyPoint] | None = None
) -> Marks:
    """Each model's threshold as a marker on its ROC curve."""
    traces = []
    for name, colour in zip(curves, SERIES_COLOURS, strict=False):
        point = (points or {}).get(name)
        if point is not None:
            at = (point.goods_declined_share, point.bads_caught)
            traces.append(_marker(at, colour, f"{name} at threshold {point.threshold:.4f}"))
    return Marks(traces=tuple(traces))


def roc_figure(
    curves: Mapping[str, Evaluation], points: Mapping[str, PolicyPoint] | None = None
) -> go.Figure:
    """ROC curves (one per model) with AUC in the legend and each threshold as a marker."""
    return marked(roc_data(curves), roc_marks(curves, points))


def ks_data(curves: Mapping[str, Evaluation]) -> dict:
    """Cumulative share of bads and goods against score, KS gap marked, as figure data."""
    fig = go.Figure()
    for (name, evaluation), colour in zip(curves.items(), SERIES_COLOURS, strict=False):
        ks = evaluation.ks_curve
        prefix = f"{name}: " if len(curves) > 1 else ""
        fig.add_scatter(
            x=ks["score"],
            y=ks["cum_bads"],
            mode="lines",
            name=f"{prefix}bads",
            line={"color": BAD_COLOUR if len(curves) == 1 else colour},
        )
        fig.add_scatter(
            x=ks["score"],
            y=ks["cum_goods"],
            mode="lines",
            name=f"{prefix}goods",
            line={"color": GOOD_COLOUR if len(curves) == 1 else colour, "dash": "dot"},
        )
        at = ks.loc[(ks["score"] - evaluation.ks_score).abs().idxmin()]
        fig.add_scatter(
            x=[at["score"], at["score"]],
            y=[at["cum_bads"], at["cum_goods"]],
            mode="lines+markers",
            name=f"{prefix}KS {evaluation.ks:.4f} at score {evaluation.ks_score:.4g}",
            line={"color": "black" if len(curves) == 1 else colour, "width": 3},
        )
    fig = figure_layout(fig, "KS: cumulative bads and goods", "Score", "Share")
    fig.update_layout(height=HEIGHT + 60 * (len(curves) - 1))
    return fig.to_dict()


def ks_figure(curves: Mapping[str, Evaluation], threshold: float | None = None) -> go.Figure:
    """Cumulative share of bads and goods against score, with the KS gap marked."""
    return marked(ks_data(curves), Marks(line_at=threshold))


def distribution_data(evaluation: Evaluation) -> dict:
    """Score histogram of goods and bads (each as a share of its class), as figure data."""
    dist = evaluation.distribution
    centres = (dist["bin_left"] + dist["bin_right"]) / 2
    width = float(dist["bin_right"].iloc[0] - dist["bin_left"].iloc[0])
    fig = go.Figure()
    for column, colour in (("goods", GOOD_COLOUR), ("bads", BAD_COLOUR)):
        total = max(int(dist[column].sum()), 1)
        fig.add_bar(
            x=centres,
            y=dist[column] / total,
            width=width,
            name=column,
            marker_color=colour,
            opacity=0.6,
        )
    fig.update_layout(barmode="overlay")
    return figure_layout(fig, "Score distribution by class", "Score", "Share of class").to_dict()


def distribution_figure(evaluation: Evaluation, threshold: float | None = None) -> go.Figure:
    """Score histogram of goods and bads (each as a share of its class)."""
    return marked(distribution_data(evaluation), Marks(line_at=threshold))


def precision_recall_data(evaluation: Evaluation) -> dict:
    """Precision against recall of declining bads, as figure data without the threshold."""
    pr = evaluation.precision_recall
    label = f"average precision {evaluation.average_precision:.4f}"
    fig = go.Figure(go.Scatter(x=pr["recall"], y=pr["precision"], mode="lines", name=label))
    fig.add_hline(y=evaluation.bad_rate, line_dash="dot", line_color="grey")
    return figure_layout(fig, "Precision-recall (declining bads)", "Recall", "Precision").to_dict()


def precision_recall_marks(point: PolicyPoint | None) -> Marks:
    """The threshold's (recall, precision) point, when it declines anyone."""
    if point is None or not point.declined:
        return Marks()
    at = (point.bads_caught, point.bads_declined / point.declined)
    return Marks(traces=(_marker(at, THRESHOLD_COLOUR, f"threshold {point.threshold:.4f}", False),))


def precision_recall_figure(evaluation: Evaluation, point: PolicyPoint | None = None) -> go.Figure:
    """Precision against recall of declining bads, with the threshold's point."""
    return marked(precision_recall_data(evaluation), precision_recall_marks(point))


def calibration_figure(table: pd.DataFrame, brier: float) -> go.Figure:
    """Reliability curve: observed bad rate against mean predicted PD per bin."""
    top = float(max(table["mean_predicted"].max(), table["observed_bad_rate"].max(), 0.01))
    fig = go.Figure()
    fig.add_scatter(
        x=table["mean_predicted"],
        y=table["observed_bad_rate"],
        mode="lines+markers",
        name=f"model (Brier {brier:.4f})",
        customdata=table["count"],
        hovertemplate="predicted %{x:.3f}<br>observed %{y:.3f}<br>n=%{customdata}",
    )
    fig.add_scatter(
        x=[0, top], y=[0, top], mode="lines", name="perfect", line={"dash": "dot", "color": "grey"}
    )
    return figure_layout(fig, "Calibration", "Mean predicted score", "Observed bad rate")


def policy_data(curve: pd.DataFrame) -> dict:
    """Approval rate and bad rate among approved against the threshold, as figure data."""
    fig = go.Figure()
    fig.add_scatter(x=curve["threshold"], y=curve["approval_rate"], name="approval rate")
    fig.add_scatter(
        x=curve["threshold"],
        y=curve["bad_rate_approved"],
        name="bad rate among approved",
        yaxis="y2",
        line={"color": BAD_COLOUR},
    )
    top = float(np.nanmax(curve["bad_rate_approved"])) if len(curve) else 0.0
    step = nice_step(top / 5)
    fig.update_layout(
        yaxis={"tickformat": ".0%", "range": [0, 1.02], "dtick": 0.2},
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "title": "Bad rate among approved",
            "tickformat": ".0%" if step >= 0.01 else ".1%",
            "range": [0, max(top, step) * 1.02],
            "dtick": step,
            "showgrid": False,
        },
    )
    return figure_layout(fig, "Policy curve", "Threshold", "Approval rate").to_dict()


def policy_figure(curve: pd.DataFrame, point: PolicyPoint) -> go.Figure:
    """Approval rate and bad rate among approved against the threshold."""
    return marked(policy_data(curve), Marks(line_at=point.threshold))


def nice_step(raw: float) -> float:
    """A tick step of 1, 2 or 5 times a power of ten, at least raw (0.01 for nothing)."""
    if not np.isfinite(raw) or raw <= 0:
        return 0.01
    power = 10 ** np.floor(np.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def strategy_data(curve: pd.DataFrame) -> dict:
    """The strategy curve: bad rate among approved against approval rate, as figure data."""
    fig = go.Figure()
    fig.add_scatter(
        x=curve["approval_rate"],
        y=curve["bad_rate_approved"],
        mode="lines",
        name="every threshold",
        customdata=curve["threshold"],
        hovertemplate="approve %{x:.1%}<br>bad rate %{y:.2%}<br>threshold %{customdata:.4f}",
    )
    fig.update_layout(
        xaxis={"tickformat": ".0%"}, yaxis={"tickformat": ".1%", "rangemode": "tozero"}
    )
    return figure_layout(
        fig, "Strategy curve", "Approval rate", "Bad rate among approved"
    ).to_dict()


def strategy_marks(point: PolicyPoint) -> Marks:
    """The policy point on the strategy curve."""
    at = (point.approval_rate, point.bad_rate_approved)
    return Marks(traces=(_marker(at, BAD_COLOUR, f"threshold {point.threshold:.4f}"),))


def strategy_figure(curve: pd.DataFrame, point: PolicyPoint) -> go.Figure:
    """The strategy curve: bad rate among approved against approval rate, this threshold marked."""
    return marked(strategy_data(curve), strategy_marks(point))


def gains_figure(bands: pd.DataFrame) -> go.Figure:
    """Cumulative gains: share of bads caught against share of applicants, riskiest first."""
    x = np.concatenate([[0.0], bands["cum_share"].to_numpy()])
    y = np.concatenate([[0.0], bands["cum_bad_capture"].to_numpy()])
    fig = go.Figure()
    fig.add_scatter(x=x, y=y, mode="lines+markers", name="model", line={"color": GOOD_COLOUR})
    fig.add_scatter(
        x=[0, 1], y=[0, 1], mode="lines", name="random", line={"dash": "dot", "color": "grey"}
    )
    fig.update_layout(xaxis={"tickformat": ".0%"}, yaxis={"tickformat": ".0%"})
    return figure_layout(
        fig, "Cumulative gains", "Applicants, riskiest first", "Share of all bads caught"
    )


def lift_figure(bands: pd.DataFrame) -> go.Figure:
    """Lift per band (band bad rate over the overall bad rate), riskiest band first."""
    fig = go.Figure(
        go.Bar(
            x=bands["band"].astype(str),
            y=bands["lift"],
            marker_color=BAD_COLOUR,
            name="lift",
            hovertemplate="band %{x}<br>lift %{y:.2f}",
        )
    )
    fig.add_scatter(
        x=bands["band"].astype(str),
        y=bands["cum_lift"],
        mode="lines+markers",
        name="cumulative lift",
        line={"color": THRESHOLD_COLOUR},
    )
    fig.add_hline(y=1.0, line_dash="dot", line_color="grey")
    return figure_layout(
        fig, "Lift by score band", "Band (1 = riskiest)", "Lift (× overall bad rate)"
    )
