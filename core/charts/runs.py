"""Runs page figure builders: CV folds, AUC gaps, param effects, parallel coords, scatter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from core.runs.analysis import metric_label, numeric_column

_HEIGHT = 380
_MAX_CATEGORIES = 30


def _layout(fig: go.Figure, title: str, **kwargs: object) -> go.Figure:
    """Shared layout: title and compact margins (Streamlit's theme styles the rest).

    No plotly template: setting one costs about 70 ms per figure, and Streamlit replaces it.
    """
    fig.update_layout(
        title=title,
        height=kwargs.pop("height", _HEIGHT),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        **kwargs,
    )
    return fig


def fold_figure(folds: pd.DataFrame, labels: Mapping[str, str], metric: str) -> go.Figure:
    """Box plus every fold as a point, one box per run, for fold AUC or KS."""
    fig = go.Figure()
    subset = folds[folds["metric"] == metric]
    for run_id, label in labels.items():
        points = subset[subset["run_id"] == run_id].sort_values("fold")
        if points.empty:
            continue
        fig.add_trace(
            go.Box(
                y=points["value"],
                name=label,
                boxpoints="all",
                jitter=0.3,
                pointpos=0,
                text=[f"fold {f}" for f in points["fold"]],
                hovertemplate="%{text}: %{y:.4f}<extra>" + label + "</extra>",
            )
        )
    return _layout(
        fig, f"Fold {metric.upper()} by run", yaxis_title=f"fold {metric.upper()}", showlegend=False
    )


def gap_figure(gaps: pd.DataFrame, labels: Mapping[str, str]) -> go.Figure:
    """Train, CV-mean and validation AUC per run on one axis: wide gaps mean over-fitting."""
    fig = go.Figure()
    frame = gaps[gaps["run_id"].isin(list(labels))]
    names = [labels[r] for r in frame["run_id"]]
    for column, title, symbol in (
        ("train_auc", "train", "circle-open"),
        ("cv_auc_mean", "CV mean", "diamond"),
        ("val_auc", "validation", "circle"),
    ):
        fig.add_trace(
            go.Scatter(
                x=frame[column],
                y=names,
                mode="markers",
                name=title,
                marker={"size": 12, "symbol": symbol},
                hovertemplate="%{y}: " + title + " AUC %{x:.4f}<extra></extra>",
            )
        )
    return _layout(
        fig,
        "Train vs CV vs validation AUC",
        xaxis_title="AUC",
        height=max(240, 90 + 45 * len(names)),
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.22},
    )


def effects_figure(effects: pd.DataFrame, metric: str) -> go.Figure:
    """Horizontal bars: each param's correlation (or correlation ratio) with the metric."""
    ordered = effects.sort_values("strength")
    colors = ["#d62728" if e < 0 else "#1f77b4" for e in ordered["effect"]]
    fig = go.Figure(
        go.Bar(
            x=ordered["effect"],
            y=ordered["param"],
            orientation="h",
            marker_color=colors,
            customdata=ordered[["kind", "n_runs"]],
            hovertemplate="%{y}: %{x:.2f} (%{customdata[0]}, %{customdata[1]} runs)<extra></extra>",
        )
    )
    return _layout(
        fig,
        f"Association of each param with {metric_label(metric)}",
        xaxis={"title": "Spearman ρ (numeric) or η (text params)", "range": [-1, 1]},
        height=max(240, 60 + 26 * len(ordered)),
    )


def _dimension(values: pd.Series, label: str) -> dict[str, object]:
    """A parallel-coordinates axis: numeric as is, text params as coded categories."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return {"label": label, "values": numbers.to_numpy()}
    text = values.astype("str").where(values.notna(), "(none)")
    categories = sorted(text.unique())[:_MAX_CATEGORIES]
    codes = text.map({c: i for i, c in enumerate(categories)}).fillna(-1)
    return {
        "label": label,
        "values": codes.to_numpy(),
        "tickvals": list(range(len(categories))),
        "ticktext": categories,
    }


def parallel_figure(runs: pd.DataFrame, params: Sequence[str], metric: str) -> go.Figure:
    """Parallel coordinates of the chosen params, ending on the metric (colour = metric)."""
    score = numeric_column(runs, metric)
    dimensions = [_dimension(runs[p], metric_label(p)) for p in params if p in runs.columns]
    dimensions.append({"label": metric_label(metric), "values": score.to_numpy()})
    fig = go.Figure(
        go.Parcoords(
            line={
                "color": score.fillna(score.min()).to_numpy(),
                "colorscale": "Viridis",
                "showscale": True,
                "colorbar": {"title": metric_label(metric)},
            },
            dimensions=dimensions,
            # Axis labels sit above the domain: leave room for them under the title.
            domain={"x": [0.06, 0.94], "y": [0.0, 0.8]},
        )
    )
    return _layout(fig, f"Hyper-parameters against {metric_label(metric)}", height=480)


def scatter_figure(
    runs: pd.DataFrame, x: str, y: str, selected: Sequence[str], labels: Mapping[str, str]
) -> go.Figure:
    """One point per run, param on x and metric on y; the selected runs are highlighted."""
    numbers = pd.to_numeric(runs[x], errors="coerce") if x in runs.columns else None
    x_values = numbers if numbers is not None and numbers.notna().all() else runs[x].astype("str")
    y_values = numeric_column(runs, y)
    is_selected = runs["run_id"].isin(list(selected))
    fig = go.Figure()
    for mask, name, size in ((~is_selected, "other runs", 8), (is_selected, "selected", 13)):
        fig.add_trace(
            go.Scatter(
                x=x_values[mask],
                y=y_values[mask],
                mode="markers",
                name=name,
                marker={"size": size, "opacity": 0.85},
                text=[labels.get(r, r[:8]) for r in runs["run_id"][mask]],
                hovertemplate="%{text}<br>%{x} → %{y:.4f}<extra></extra>",
            )
        )
    return _layout(
        fig,
        f"{metric_label(y)} against {metric_label(x)}",
        xaxis_title=metric_label(x),
        yaxis_title=metric_label(y),
    )
