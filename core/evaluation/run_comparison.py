"""Two runs on the same labelled rows (this run vs a challenger): DeLong AUC test, swap set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# scipy.stats's own normal functions, without its ~1 s import on the Runs page's first view
from scipy.special import ndtr, ndtri

from core.data.training_rows import TrainingOverlap
from core.errors import DataValidationError
from core.evaluation.threshold_policy import validate_labels_scores

CONFIDENCE = 0.95
# Above this share of the compared rows in one model's training rows, no winner is stated.
NO_WINNER_SHARE = 0.10


@dataclass(frozen=True)
class AucComparison:
    """Paired DeLong comparison: both AUCs, their difference, its CI and two-sided p-value."""

    auc_base: float
    auc_challenger: float
    difference: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    confidence: float = CONFIDENCE


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties given their average rank (scipy.stats.rankdata's 'average')."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(first) - 1
    bounds = np.r_[np.flatnonzero(first), len(values)]
    ranks = np.empty(len(values))
    ranks[order] = 0.5 * (bounds[1:] + bounds[:-1] + 1)[group]
    return ranks


def _structural_components(
    positives: np.ndarray, negatives: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong's placement values for each positive (V10) and negative (V01)."""
    m, n = len(positives), len(negatives)
    rank_pos = _average_ranks(positives)
    rank_neg = _average_ranks(negatives)
    rank_all = _average_ranks(np.concatenate([positives, negatives]))
    auc = (rank_all[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (rank_all[:m] - rank_pos) / n
    v01 = 1.0 - (rank_all[m:] - rank_neg) / m
    return float(auc), v10, v01


def delong_test(
    labels: object, base: object, challenger: object, confidence: float = CONFIDENCE
) -> AucComparison:
    """DeLong's paired test of AUC(challenger) - AUC(base) on the same rows."""
    y, a = validate_labels_scores(labels, base)
    _, b = validate_labels_scores(labels, challenger)
    if len(a) != len(b):
        raise DataValidationError("The two models were scored on different rows.")
    if y.min() == y.max():
        raise DataValidationError(
            "Only one class in the labels: the AUC difference is undefined.",
            fix="Compare on labelled data with both goods (0) and bads (1).",
        )
    pos, neg = y == 1, y == 0
    auc_a, v10_a, v01_a = _structural_components(a[pos], a[neg])
    auc_b, v10_b, v01_b = _structural_components(b[pos], b[neg])
    s10 = np.cov(np.vstack([v10_a, v10_b]))
    s01 = np.cov(np.vstack([v01_a, v01_b]))
    covariance = s10 / pos.sum() + s01 / neg.sum()
    variance = covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]
    std_error = float(np.sqrt(max(variance, 0.0)))
    difference = auc_b - auc_a
    z = ndtri(0.5 + confidence / 2)
    if std_error > 0:
        p_value = float(2 * ndtr(-abs(difference) / std_error))  # norm.sf as scipy.stats does it
    else:
        p_value = 1.0 if difference == 0 else 0.0
    return AucComparison(
        auc_base=auc_a,
        auc_challenger=auc_b,
        difference=difference,
        std_error=std_error,
        ci_low=float(difference - z * std_error),
        ci_high=float(difference + z * std_error),
        p_value=p_value,
        confidence=confidence,
    )


def swap_set(
    labels: object,
    base: object,
    challenger: object,
    base_threshold: float,
    challenger_threshold: float,
) -> pd.DataFrame:
    """Approved/declined by each model at its own threshold: counts and observed bad rates."""
    y, a = validate_labels_scores(labels, base)
    _, b = validate_labels_scores(labels, challenger)
    approve_a, approve_b = a < base_threshold, b < challenger_threshold
    groups = {
        "approved by both": approve_a & approve_b,
        "swap-in: challenger approves, this run declines": ~approve_a & approve_b,
        "swap-out: this run approves, challenger declines": approve_a & ~approve_b,
        "declined by both": ~approve_a & ~approve_b,
    }
    rows = []
    for name, mask in groups.items():
        count = int(mask.sum())
        bads = int(y[mask].sum())
        rows.append(
            {
                "group": name,
                "count": count,
                "share": count / len(y),
                "bads": bads,
                "bad_rate": bads / count if count else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def comparison_verdict(
    comparison: AucComparison,
    overlaps: Sequence[TrainingOverlap],
    base_name: str,
    challenger_name: str,
    level: float = 1 - CONFIDENCE,
) -> str:
    """Which run ranks better, or why none is named: a model trained on over 10% of the rows
    (its AUC there is optimistic), or a difference within DeLong's noise."""
    leaked = [o for o in overlaps if o.checkable and o.share > NO_WINNER_SHARE]
    if leaked:
        names = "; ".join(f"{o.model} trained on {o.n_seen:,} ({o.share:.1%})" for o in leaked)
        return (
            f"No winner is stated: {names} of these {comparison_rows(overlaps):,} rows, "
            f"beyond {NO_WINNER_SHARE:.0%}, so its AUC here is optimistic. Compare on rows "
            "neither model trained on."
        )
    if comparison.p_value >= level:
        return (
            f"No significant difference (DeLong p = {comparison.p_value:.3g} ≥ {level:g}): "
            "these rows do not tell the two runs apart."
        )
    better = challenger_name if comparison.difference > 0 else base_name
    better = better[:1].upper() + better[1:]
    return f"{better} ranks risk better on these rows (DeLong p = {comparison.p_value:.3g})."


def comparison_rows(overlaps: Sequence[TrainingOverlap]) -> int:
    """The number of rows compared (0 when no overlap was computed)."""
    return max((o.n_rows for o in overlaps), default=0)
