"""Outcomes by group: the fair-lending check on protected attributes, and performance by segment.

Per group (fairlearn's MetricFrame does the grouping): applicants, approval rate at the
threshold, bad rate, bad rate among approved and AUC. For protected attributes, the adverse
impact ratio is each group's approval rate over the most favoured group's, and the four-fifths
rule flags a ratio below 0.8. A numeric attribute with many values (age) is cut into quartile
bands so each group is large enough to read.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

from core.errors import DataValidationError
from core.evaluation.metrics import auc_score
from core.threshold import Threshold

FOUR_FIFTHS = 0.8
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
        """Groups whose adverse impact ratio is below the four-fifths rule."""
        flagged = self.table["adverse_impact_ratio"] < FOUR_FIFTHS
        return self.table.loc[flagged, "group"].tolist()


def group_labels(values: pd.Series) -> pd.Series:
    """Readable group labels: categories as they are, many-valued numbers as quartile bands."""
    many_numbers = (
        pd.api.types.is_numeric_dtype(values)
        and not pd.api.types.is_bool_dtype(values)
        and values.nunique(dropna=True) > MAX_EXACT_NUMERIC_VALUES
    )
    if many_numbers:
        bands = pd.qcut(values, 4, duplicates="drop")
        labels = bands.map(lambda b: f"{b.left:g} – {b.right:g}").astype("string")
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
) -> GroupOutcomes:
    """Approval, bad rates and AUC per group, with the adverse impact ratio per group."""
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
    best = table["approval_rate"].max()
    table["adverse_impact_ratio"] = table["approval_rate"] / best if best > 0 else np.nan
    favoured = str(table.loc[table["approval_rate"].idxmax(), "group"])
    columns = ["group", "applicants", "share", "approval_rate", "adverse_impact_ratio"]
    columns += ["bad_rate", "bad_rate_approved", "auc"]
    return GroupOutcomes(attribute, table[columns], favoured)


def candidate_attributes(features: pd.DataFrame) -> list[str]:
    """Columns that can define groups: categorical or text, or numbers (banded when many)."""
    return [
        str(c)
        for c in features.columns
        if isinstance(features[c].dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(features[c])
        or pd.api.types.is_numeric_dtype(features[c])
    ]
