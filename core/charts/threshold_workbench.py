"""Light chart specs for the browser's threshold workbench, read from core's Plotly figure data.

The workbench draws its threshold-marked charts as SVG in the browser (Plotly is not reachable
from a component), so it gets each figure's curves, names, colours and titles as plain lists:
the same figure data the Plotly charts are built from, so both show the same curves.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

import numpy as np

from core.charts.diagnostics import THRESHOLD_COLOUR

SERIES_DEFAULT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c")
DECIMALS = 6  # plenty for a screen; keeps the payload small


def _values(raw: object) -> list[float | None]:
    """A trace's x or y as a list: plain lists, or Plotly's base64 typed arrays."""
    if isinstance(raw, Mapping) and "bdata" in raw:
        array = np.frombuffer(base64.b64decode(raw["bdata"]), dtype=np.dtype(raw["dtype"]))
    else:
        array = np.asarray(raw, dtype=float)
    rounded = np.round(array.astype(float), DECIMALS)
    return [None if not np.isfinite(v) else float(v) for v in rounded]


def _title(axis: Mapping | None) -> str:
    """An axis or figure title's text ('' when there is none)."""
    title = (axis or {}).get("title") or {}
    return title.get("text", "") if isinstance(title, Mapping) else str(title)


def _series(index: int, trace: Mapping) -> dict:
    """One trace as a light series: line or bars, colour, dash, axis."""
    line = trace.get("line") or {}
    colour = line.get("color") or (trace.get("marker") or {}).get("color")
    colour = colour or SERIES_DEFAULT_COLOURS[index % len(SERIES_DEFAULT_COLOURS)]
    mode = trace.get("mode") or "lines"
    return {
        "name": trace.get("name", ""),
        "kind": "bar" if trace.get("type") == "bar" else "line",
        "x": _values(trace["x"]),
        "y": _values(trace["y"]),
        # black and grey (reference lines) follow the theme's text colour in the browser
        "colour": None if colour in ("black", "grey", THRESHOLD_COLOUR) else colour,
        "dash": line.get("dash", ""),
        "width": line.get("width", 2),
        "markers": "markers" in mode,
        "axis": "y2" if trace.get("yaxis") == "y2" else "y",
    }


def light_chart(figure: Mapping, mark: str) -> dict:
    """A figure's data as a light chart spec; mark says how the threshold shows on it.

    mark: "line" (a vertical line at the threshold), "roc", "precision_recall" or "strategy"
    (the policy point as a marker).
    """
    layout = figure.get("layout", {})
    hlines = [float(s["y0"]) for s in layout.get("shapes", ()) if s.get("y0") == s.get("y1")]
    return {
        "title": _title({"title": layout.get("title")}),
        "x_title": _title(layout.get("xaxis")),
        "y_title": _title(layout.get("yaxis")),
        "y2_title": _title(layout.get("yaxis2")),
        "x_percent": "%" in (layout.get("xaxis") or {}).get("tickformat", ""),
        "y_percent": "%" in (layout.get("yaxis") or {}).get("tickformat", ""),
        "series": [_series(i, trace) for i, trace in enumerate(figure.get("data", ()))],
        "hlines": hlines,
        "mark": mark,
    }
