"""Discrimination metrics for binary default models: AUC, Gini and KS."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from core.errors import DataValidationError


def _as_arrays(y_true: object, scores: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert labels and scores to numpy arrays."""
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(scores, dtype=float)
    if y.shape != s.shape or y.ndim != 1:
        raise DataValidationError(f"Labels {y.shape} and scores {s.shape} do not line up.")
    classes = np.unique(y)
    if len(classes) < 2:
        raise DataValidationError(
            "Only one class in the labels: AUC and KS are undefined.",
            fix="Evaluate on data that holds both goods (0) and bads (1).",
        )
    return y, s


def auc_score(y_true: object, scores: object) -> float:
    """Area under the ROC curve (sklearn's definition, ties counted half)."""
    y, s = _as_arrays(y_true, scores)
    return float(roc_auc_score(y, s))


def gini(y_true: object, scores: object) -> float:
    """Gini coefficient, 2 * AUC - 1."""
    return 2.0 * auc_score(y_true, scores) - 1.0


def ks_statistic(y_true: object, scores: object) -> float:
    """Kolmogorov-Smirnov statistic: max distance between the two classes' score CDFs."""
    y, s = _as_arrays(y_true, scores)
    order = np.argsort(s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    bads = np.cumsum(y_sorted)
    goods = np.cumsum(1.0 - y_sorted)
    last_of_tie = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    diff = np.abs(bads[last_of_tie] / bads[-1] - goods[last_of_tie] / goods[-1])
    return float(diff.max())
