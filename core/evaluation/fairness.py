"""Outcomes by group: the fair-lending check on protected attributes, and performance by segment.

Per group (fairlearn's MetricFrame does the grouping): applicants, approval rate at the
threshold, bad rate, bad rate among approved and AUC. For protected attributes, the adverse
impact ratio (AIR) is each group's approval rate over the most favoured group's, with a 95%
interval by the Katz log method; the four-fifths rule flags a group only when the whole interval
lies below 0.8, and groups smaller than a minimum size are "too few to judge". A numeric
attribute with many values (age) is cut into quartile bands labelled as plain ranges ("21–26").
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame
from scipy.stats import norm

from core.errors import DataValidationError
from core.evaluation.metrics import auc_score
from core.settings import FAIRNESS_MIN_GROUP
from core.threshold import Threshold

FOUR_FIFTHS = 0.8
AIR_CONFIDENCE = 0.95
FAVOURED = "most favoured group"
TOO_FEW = "too few to judge"
BELOW = "below four-fifths"
MET = "four-fifths met"
SPANS = "interval spans 0.8: cannot tell"
MAX_GROUPS = 30
MAX_EXACT_NUMERIC_VALUES = 10
MISSING_GROUP = "(missing)"


@dataclass(frozen=True)
class GroupOutcomes:
    """One attribute's table of outcomes by group, and the most favoured group."""

    attribute: str
    table: pd.DataFrame
    most_favoured: str

    @property
    def below_four_fifths(self) -> list[str]:
        """Groups whose whole AIR interval lies below the four-fifths rule."""
        return self.table.loc[self.table["verdict"] == BELOW, "group"].tolist()

    def groups_with(self, verdict: str) -> list[str]:
        """The groups given one verdict (TOO_FEW, SPANS, MET...)."""
        return self.table.loc[self.table["verdict"] == verdict, "group"].tolist()


def katz_interval(
    approved: int, n: int, reference_approved: int, reference_n: int
) -> tuple[float, float]:
    """95% interval of a ratio of two approval rates by the Katz log method.

    ln(AIR) ± z·sqrt(1/a − 1/n + 1/c − 1/m); half a count is added to each side when either
    approved count is zero (the log is undefined there).
    """
    if n <= 0 or reference_n <= 0:
        return math.nan, math.nan
    a, c, n1, n2 = float(approved), float(reference_approved), float(n), float(reference_n)
    if a == 0 or c == 0:
        a, c, n1, n2 = a + 0.5, c + 0.5, n1 + 0.5, n2 + 0.5
    ratio = (a / n1) / (c / n2)
    half = norm.ppf(0.5 + AIR_CONFIDENCE / 2) * math.sqrt(max(1 / a - 1 / n1 + 1 / c - 1 / n2, 0.0))
    return ratio * math.exp(-half), ratio * math.exp(half)


def _band_label(left: float, right: float, whole: bool) -> str:
    """A quartile band (left, right] as a plain range: whole numbers '21–26', else 3 digits."""
    if whole:
        low, high = math.floor(left) + 1, math.floor(right)
        return f"{low}" if low >= high else f"{low}–{high}"
    return f"{left:.3g}–{right:.3g}"


def group_labels(values: pd.Series) -> pd.Series:
    """Readable group labels: categories as they are, many-valued numbers as quartile bands."""
    many_numbers = (
        pd.api.types.is_numeric_dtype(values)
        and not pd.api.types.is_bool_dtype(values)
        and values.nunique(dropna=True) > MAX_EXACT_NUMERIC_VALUES
    )
    if many_numbers:
        present = values.dropna()
        whole = bool(np.all(np.mod(present.to_numpy(dtype=float), 1) == 0))
        bands = pd.qcut(values, 4, duplicates="drop")
        labels = bands.map(lambda b: _band_label(b.left, b.right, whole)).astype("string")
        return labels.fillna(MISSING_GROUP)
    return values.astype("string").fillna(MISSING_GROUP)


def _approval(y: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    """Share approved (score below the threshold)."""
    return float(np.mean(scores < threshold)) if len(scores) else float("nan")


def _bad_rate_approved(y: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    """Bad rate among the approved (NaN when nobody is approved)."""
    approved = scores < threshold
    return float(np.mean(y[approved])) if approved.any() else float("nan")


def _bad_rate(y: np.ndarray, scores: np.ndarray) -> float:
    """Share of bads."""
    return float(np.mean(y)) if len(y) else float("nan")


def _auc(y: np.ndarray, scores: np.ndarray) -> float:
    """AUC, or NaN for a group with one class only."""
    return auc_score(y, scores) if 0 < np.sum(y) < len(y) else float("nan")


def _count(y: np.ndarray, scores: np.ndarray) -> int:
    """Applicants in the group."""
    return len(y)


def outcomes_by_group(
    labels: np.ndarray,
    scores: np.ndarray,
    groups: pd.Series,
    threshold: float,
    attribute: str,
    min_group: int = FAIRNESS_MIN_GROUP,
) -> GroupOutcomes:
    """Approval, bad rates and AUC per group, with the adverse impact ratio per group, its 95%
    Katz interval and a verdict (groups under `min_group` applicants are too few to judge)."""
    threshold = Threshold(threshold)
    named = group_labels(groups.reset_index(drop=True))
    if named.nunique() > MAX_GROUPS:
        raise DataValidationError(
            f"'{attribute}' has {named.nunique()} groups; at most {MAX_GROUPS} can be read.",
            fix="Pick a categorical attribute (or a number, which is banded into quartiles).",
        )
    frame = MetricFrame(
        metrics={
            "applicants": _count,
            "approval_rate": functools.partial(_approval, threshold=threshold),
            "bad_rate": _bad_rate,
            "bad_rate_approved": functools.partial(_bad_rate_approved, threshold=threshold),
            "auc": _auc,
        },
        y_true=np.asarray(labels, dtype=int),
        y_pred=np.asarray(scores, dtype=float),
        sensitive_features=named.rename(attribute),
    )
    table = frame.by_group.reset_index().rename(columns={attribute: "group"})
    table["applicants"] = table["applicants"].astype(int)
    table["share"] = table["applicants"] / table["applicants"].sum()
    table, favoured = _impact_columns(table, min_group)
    columns = ["group", "applicants", "share", "approval_rate", "adverse_impact_ratio"]
    columns += ["air_low", "air_high", "verdict", "bad_rate", "bad_rate_approved", "auc"]
    return GroupOutcomes(attribute, table[columns], favoured)


def _impact_columns(table: pd.DataFrame, min_group: int) -> tuple[pd.DataFrame, str]:
    """AIR against the most favoured group large enough to judge, its interval and a verdict."""
    judged = table[table["applicants"] >= min_group]
    pool = judged if not judged.empty else table
    best = pool.loc[pool["approval_rate"].idxmax()]
    favoured = str(best["group"])
    rate = float(best["approval_rate"])
    table["adverse_impact_ratio"] = table["approval_rate"] / rate if rate > 0 else np.nan
    reference = (round(rate * best["applicants"]), int(best["applicants"]))
    intervals = [
        katz_interval(round(r * n), int(n), *reference)
        for r, n in zip(table["approval_rate"], table["applicants"], strict=True)
    ]
    table["air_low"] = [low for low, _ in intervals]
    table["air_high"] = [high for _, high in intervals]
    table["verdict"] = [
        _verdict(str(g), n, high, low, favoured, min_group, judged.empty)
        for g, n, low, high in zip(
            table["group"], table["applicants"], table["air_low"], table["air_high"], strict=True
        )
    ]
    return table, favoured


def _verdict(
    group: str, n: int, high: float, low: float, favoured: str, min_group: int, none_large: bool
) -> str:
    """One group's four-fifths verdict: flagged only when its whole interval is below 0.8."""
    if n < min_group or none_large:
        return TOO_FEW
    if group == favoured:
        return FAVOURED
    if high < FOUR_FIFTHS:
        return BELOW
    return MET if low >= FOUR_FIFTHS else SPANS


def fairness_sentences(outcomes: GroupOutcomes) -> list[tuple[str, str]]:
    """(level, sentence) pairs stating one attribute's four-fifths verdicts, flagged first."""
    name, favoured = outcomes.attribute, outcomes.most_favoured
    found = []
    if flagged := outcomes.below_four_fifths:
        found.append((
            "warning",
            f"**{name}**: {', '.join(flagged)} approved at less than four fifths "
            f"({FOUR_FIFTHS:.0%}) of the rate of {favoured}, the most favoured group, with the "
            "whole 95% interval below 0.8. Review whether the difference is justified by risk "
            "(compare the bad rates) before the model is used.",
        ))  # fmt: skip
    if spans := outcomes.groups_with(SPANS):
        found.append((
            "info",
            f"**{name}**: for {', '.join(spans)} the 95% interval of the adverse impact ratio "
            "spans 0.8 (four fifths): these rows cannot tell whether the four-fifths rule is met.",
        ))  # fmt: skip
    if few := outcomes.groups_with(TOO_FEW):
        found.append((
            "info",
            f"**{name}**: {', '.join(few)} too few to judge against four fifths (fewer applicants "
            "than the minimum group size).",
        ))  # fmt: skip
    if not found:
        found.append((
            "success",
            f"**{name}**: every group's adverse impact ratio interval lies at or above four "
            f"fifths of the rate of {favoured}, the most favoured group.",
        ))  # fmt: skip
    return found
