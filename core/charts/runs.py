"""Runs page figure builders: CV stability (folds and AUC gaps in one figure), param effects,
parallel coords, scatter, and the ROC / KS overlays of the selected runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from core.runs.analysis import metric_label, numeric_column
from core.runs.labels import short_id
from core.runs.overlays import CurveOverlay

_HEIGHT = 380
_MAX_CATEGORIES = 30
# One colour per selected run, the same on every overlay (D3's category10, darkest first).
RUN_COLOURS = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
)  # fmt: skip
OTHER_RUNS_COLOUR = "#b8b8b8"
CHAMPION = "champion"


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


# The CV-stability figure: panels side by side sharing one axis of runs (pixels per run).
_ROW_HEIGHT = 42
_STABILITY_TITLES = {
    "auc": "Fold AUC by run",
    "ks": "Fold KS by run",
    "gap": "Train vs CV vs validation AUC",
}
# Series of the gap panel: column, legend name, marker symbol and a fixed colour (the same
# whatever the number of fold boxes before them).
_GAP_SERIES = (
    ("train_auc", "train", "circle-open", "#777777"),
    ("cv_auc_mean", "CV mean", "diamond", "#222222"),
    ("val_auc", "validation", "circle", "#17becf"),
)


def _fold_points(
    subset: pd.DataFrame, labels: Mapping[str, str], metric: str, xaxis: str
) -> list[dict[str, object]]:
    """Per run (one row each): its folds' range as a line, every fold as a point in the run's
    colour, and the folds' mean as a tick. Three scatter traces for all runs: a plotly box per
    run costs the browser several times more to draw."""
    by_run = {run_id: points for run_id, points in subset.sort_values("fold").groupby("run_id")}
    ranges_x: list[float | None] = []
    ranges_y: list[str | None] = []
    points_x: list[float] = []
    points_y: list[str] = []
    colours: list[str] = []
    folds: list[str] = []
    means_x: list[float] = []
    means_y: list[str] = []
    for index, (run_id, label) in enumerate(labels.items()):
        points = by_run.get(run_id)
        if points is None:
            continue
        values = points["value"].astype("float")
        ranges_x += [float(values.min()), float(values.max()), None]
        ranges_y += [label, label, None]
        points_x += values.tolist()
        points_y += [label] * len(values)
        colours += [RUN_COLOURS[index % len(RUN_COLOURS)]] * len(values)
        folds += [f"fold {f}" for f in points["fold"]]
        means_x.append(float(values.mean()))
        means_y.append(label)
    name = metric.upper()
    common = {"type": "scatter", "xaxis": xaxis, "showlegend": False}
    return [
        {**common, "x": ranges_x, "y": ranges_y, "mode": "lines",
         "line": {"color": OTHER_RUNS_COLOUR, "width": 2}, "hoverinfo": "skip"},
        {**common, "x": points_x, "y": points_y, "mode": "markers", "text": folds,
         "marker": {"color": colours, "size": 9, "line": {"width": 1, "color": "white"}},
         "hovertemplate": f"%{{y}}, %{{text}}: {name} %{{x:.4f}}<extra></extra>"},
        {**common, "x": means_x, "y": means_y, "mode": "markers",
         "marker": {"symbol": "line-ns-open", "size": 18, "color": "#222222"},
         "hovertemplate": f"%{{y}}: mean {name} %{{x:.4f}}<extra></extra>"},
    ]  # fmt: skip


def _gap_markers(
    gaps: pd.DataFrame, labels: Mapping[str, str], xaxis: str
) -> list[dict[str, object]]:
    """Train, CV-mean and validation AUC per run: three marker series."""
    frame = gaps[gaps["run_id"].isin(list(labels))]
    names = [labels[r] for r in frame["run_id"]]
    return [
        {
            "type": "scatter",
            "x": frame[column].astype("float").tolist(),
            "y": names,
            "xaxis": xaxis,
            "mode": "markers",
            "name": title,
            "marker": {"size": 11, "symbol": symbol, "color": colour},
            "hovertemplate": "%{y}: " + title + " AUC %{x:.4f}<extra></extra>",
        }
        for column, title, symbol, colour in _GAP_SERIES
    ]


def _panel_title(text: str, left: float) -> dict[str, object]:
    """A panel's title, above its top-left corner."""
    return {
        "text": f"<b>{text}</b>",
        "x": left,
        "y": 1.0,
        "xref": "paper",
        "yref": "paper",
        "xanchor": "left",
        "yanchor": "bottom",
        "yshift": 26,
        "showarrow": False,
    }


def stability_figure(
    folds: pd.DataFrame, gaps: pd.DataFrame | None, labels: Mapping[str, str]
) -> go.Figure:
    """The CV-stability charts as one figure: per run (one row each, in the order of labels),
    fold AUC and fold KS (every fold a point, their range and mean) and train vs CV vs
    validation AUC, side by side; a panel without data is left out. gaps is None when there is
    no gap to show.

    One figure, not three: each plotly figure costs the browser a full draw on every filter.
    Built as plain dicts (not validated graph objects, which cost more than the rest of a
    filter's rerun).
    """
    panels = [m for m in ("auc", "ks") if (folds["metric"] == m).any()]
    if gaps is not None:
        panels.append("gap")
    traces: list[dict[str, object]] = []
    layout: dict[str, object] = {
        "height": 110 + _ROW_HEIGHT * max(len(labels), 2),
        "margin": {"l": 10, "r": 10, "t": 64, "b": 10},
        "annotations": [],
        "yaxis": {
            "categoryorder": "array",
            "categoryarray": list(labels.values()),
            "autorange": "reversed",
            "automargin": True,
        },
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
    }
    width = 1.0 / max(len(panels), 1)
    for index, panel in enumerate(panels):
        suffix = str(index + 1) if index else ""
        left, right = index * width + (0.03 if index else 0.0), (index + 1) * width - 0.03
        title = "AUC" if panel == "gap" else f"fold {panel.upper()}"
        layout[f"xaxis{suffix}"] = {
            "domain": [left, right],
            "anchor": "y",
            "title": {"text": title},
        }
        if panel == "gap":
            traces += _gap_markers(gaps, labels, f"x{suffix}")
        else:
            traces += _fold_points(folds[folds["metric"] == panel], labels, panel, f"x{suffix}")
        layout["annotations"].append(_panel_title(_STABILITY_TITLES[panel], left))
    return go.Figure({"data": traces, "layout": layout}, _validate=False)


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
    runs: pd.DataFrame,
    x: str,
    y: str,
    selected: Sequence[str],
    labels: Mapping[str, str],
    champion: str | None = None,
) -> go.Figure:
    """One point per run, param on x and metric on y; selected runs and the champion stand out."""
    numbers = pd.to_numeric(runs[x], errors="coerce") if x in runs.columns else None
    x_values = numbers if numbers is not None and numbers.notna().all() else runs[x].astype("str")
    y_values = numeric_column(runs, y)
    is_selected = runs["run_id"].isin(list(selected))
    is_champion = runs["run_id"] == champion
    fig = go.Figure()
    # Other runs grey and small, selected runs strong and on top, the champion as a star.
    for mask, name, marker in (
        (~is_selected & ~is_champion, "other runs", {"size": 8, "color": OTHER_RUNS_COLOUR}),
        (is_selected & ~is_champion, "selected", {"size": 13, "color": RUN_COLOURS[0]}),
        (is_champion, CHAMPION, {"size": 17, "color": "#222222", "symbol": "star"}),
    ):
        if not mask.any():
            continue
        fig.add_trace(
            go.Scatter(
                x=x_values[mask],
                y=y_values[mask],
                mode="markers",
                name=name,
                marker={**marker, "line": {"width": 1, "color": "white"}},
                text=[labels.get(r, short_id(r)) for r in runs["run_id"][mask]],
                hovertemplate="%{text}<br>%{x} → %{y:.4f}<extra></extra>",
            )
        )
    return _layout(
        fig,
        f"{metric_label(y)} against {metric_label(x)}",
        xaxis_title=metric_label(x),
        yaxis_title=metric_label(y),
    )


def _run_name(run_id: str, labels: Mapping[str, str], champion: str | None) -> str:
    """A run's legend name, with the champion said."""
    name = labels.get(run_id, short_id(run_id))
    return f"{name} ({CHAMPION})" if run_id == champion else name


def _run_curves(
    overlay: CurveOverlay, points: pd.DataFrame, labels: Mapping[str, str], champion: str | None
) -> Iterator[tuple[Any, pd.DataFrame, str, dict[str, object]]]:
    """Per drawn run: its summary row, its curve points, legend name and line style (its
    colour, the champion's line thicker)."""
    for index, row in enumerate(overlay.summary.itertuples(index=False)):
        line = {
            "color": RUN_COLOURS[index % len(RUN_COLOURS)],
            "width": 4 if row.run_id == champion else 2,
        }
        yield (
            row,
            points[points["run_id"] == row.run_id],
            _run_name(row.run_id, labels, champion),
            line,
        )


def _overlay_layout(fig: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    """Shared layout of the overlays: percent axes, legend under the plot."""
    return _layout(
        fig,
        title,
        xaxis={"title": x_title, "tickformat": ".0%"},
        yaxis={"title": y_title, "tickformat": ".0%"},
        height=_HEIGHT + 40,
        legend={"orientation": "h", "y": -0.25},
    )


def roc_overlay_figure(
    overlay: CurveOverlay, labels: Mapping[str, str], champion: str | None = None
) -> go.Figure:
    """Every drawn run's ROC curve on its own validation set, AUC in the legend."""
    fig = go.Figure()
    for row, points, name, line in _run_curves(overlay, overlay.roc, labels, champion):
        fig.add_scatter(
            x=points["fpr"],
            y=points["tpr"],
            mode="lines",
            name=f"{name}: AUC {row.auc:.4f}",
            line=line,
            hovertemplate=f"{name}<br>goods declined %{{x:.1%}}<br>bads caught %{{y:.1%}}"
            "<extra></extra>",
        )
    fig.add_scatter(
        x=[0, 1], y=[0, 1], mode="lines", name="random", line={"dash": "dot", "color": "grey"}
    )
    return _overlay_layout(
        fig,
        "ROC: each run on its own validation set",
        "False positive rate (goods declined)",
        "True positive rate (bads caught)",
    )


def ks_overlay_figure(
    overlay: CurveOverlay, labels: Mapping[str, str], champion: str | None = None
) -> go.Figure:
    """Every drawn run's KS gap (goods' minus bads' cumulative share) by score, its peak marked."""
    fig = go.Figure()
    for row, points, name, line in _run_curves(overlay, overlay.ks, labels, champion):
        fig.add_scatter(
            x=points["score"],
            y=points["gap"],
            mode="lines",
            name=f"{name}: KS {row.ks:.4f} at score {row.ks_score:.1%}",
            line=line,
            legendgroup=row.run_id,
            hovertemplate=f"{name}<br>score %{{x:.1%}}<br>gap %{{y:.1%}}<extra></extra>",
        )
        fig.add_scatter(
            x=[row.ks_score],
            y=[row.ks],
            mode="markers",
            marker={"color": line["color"], "size": 10},
            legendgroup=row.run_id,
            showlegend=False,
            hovertemplate=f"{name}: KS {row.ks:.4f} at score {row.ks_score:.1%}<extra></extra>",
        )
    return _overlay_layout(
        fig,
        "KS: gap between goods' and bads' cumulative shares",
        "Model score",
        "Gap: goods − bads at or below",
    )
