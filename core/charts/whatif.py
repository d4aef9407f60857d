"""What-if figures as data: the SHAP waterfall and the contributions that moved after an edit.

Each builder returns plain bars on one numeric axis (frozen dataclasses). The What-if page
draws them as HTML/CSS bars inside its one result block, so an edit redraws no chart library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_WATERFALL_FEATURES = 10
BASE, UP, DOWN, TOTAL = "base", "up", "down", "total"
ORIGINAL, EDITED = "original", "edited"


@dataclass(frozen=True)
class Bar:
    """One horizontal bar from `start` to `end` on the chart's axis, with its row label, kind
    (base, up, down, total; original, edited) and the number printed beside it."""

    label: str
    start: float
    end: float
    kind: str
    text: str


@dataclass(frozen=True)
class BarChart:
    """A titled horizontal bar chart: bars top to bottom, the axis range, an optional marked
    value (the threshold) with its note, and what the axis measures."""

    title: str
    bars: tuple[Bar, ...]
    low: float
    high: float
    axis_title: str
    marker: float | None = None
    marker_text: str = ""


def _logit(probability: float) -> float:
    """Probability to log-odds."""
    return math.log(probability / (1.0 - probability))


def _value_text(value: object) -> str:
    """A feature value for a bar label."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "missing"
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return str(value)


def _axis(values: list[float]) -> tuple[float, float]:
    """An axis range holding every value and zero, with a little room at both ends."""
    low, high = min([0.0, *values]), max([0.0, *values])
    pad = 0.04 * (high - low) if high > low else 1.0
    return low - pad, high + pad


def waterfall(
    contributions: pd.Series,
    values: pd.Series,
    base_value: float,
    threshold: float,
    top_n: int = DEFAULT_WATERFALL_FEATURES,
    *,
    score_name: str = "risk score",
    output: float | None = None,
    threshold_raw: float | None = None,
) -> BarChart:
    """SHAP waterfall in log-odds from the base value to the applicant's score, largest first.

    SHAP is always on the raw log-odds scale. For a calibrated run pass its output (the
    calibrated PD) and the raw log-odds at which it reaches the threshold; otherwise both are
    the sigmoid's.
    """
    magnitude = contributions.abs()
    order = magnitude[magnitude > 0].sort_values(ascending=False, kind="stable").index
    shown = list(order[:top_n])
    bars = [Bar("Base value (average applicant)", 0.0, base_value, BASE, f"{base_value:.3f}")]
    running = base_value
    steps = [
        (f"{name} = {_value_text(values.get(name))}", float(contributions[name])) for name in shown
    ]
    if len(contributions) > len(shown):
        rest = float(contributions.drop(index=shown).sum())
        others = len(contributions) - len(shown)
        steps.append((f"{others} other feature{'' if others == 1 else 's'}", rest))
    for label, amount in steps:
        bars.append(
            Bar(label, running, running + amount, UP if amount >= 0 else DOWN, f"{amount:+.3f}")
        )
        running += amount
    raw = base_value + float(contributions.sum())
    bars.append(Bar("Applicant's score", 0.0, raw, TOTAL, f"{raw:.3f}"))
    probability = 1.0 / (1.0 + math.exp(-raw)) if output is None else output
    cut = _logit(threshold) if threshold_raw is None else threshold_raw
    marker = cut if math.isfinite(cut) else None
    ends = (
        [b.end for b in bars] + [b.start for b in bars] + ([marker] if marker is not None else [])
    )
    low, high = _axis(ends)
    # A calibrated PD is not the sigmoid of the raw log-odds: name them as the model's, before
    # calibration, so no reader takes one for the other.
    scale = "log-odds" if output is None else "raw model log-odds before calibration"
    return BarChart(
        title=f"Why this score: {score_name} {probability:.1%} ({scale} {raw:.3f})",
        bars=tuple(bars),
        low=low,
        high=high,
        axis_title="Raw log-odds of default, before any calibration "
        "(red pushes risk up, blue pulls it down)",
        marker=marker,
        marker_text=f"threshold {threshold:.2%} = log-odds {cut:+.3f}"
        if marker is not None
        else "",
    )


def moved_contributions(moved: pd.DataFrame) -> BarChart:
    """Original vs edited contribution of each feature that moved (feature, original, edited):
    two bars per feature, from zero."""
    bars: list[Bar] = []
    for feature, before, after in zip(
        moved["feature"], moved["original"], moved["edited"], strict=True
    ):
        bars.append(Bar(str(feature), 0.0, float(before), ORIGINAL, f"{before:+.4f}"))
        bars.append(Bar(str(feature), 0.0, float(after), EDITED, f"{after:+.4f}"))
    low, high = _axis([b.end for b in bars])
    return BarChart(
        title="Contributions that moved (log-odds)",
        bars=tuple(bars),
        low=low,
        high=high,
        axis_title="Contribution to the log-odds of default (grey: original, red: edited)",
    )
