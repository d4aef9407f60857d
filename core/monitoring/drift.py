"""Monitoring: population drift (PSI per feature and on the score) and recent performance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.evaluation.metrics import auc_score, ks_statistic
from core.scoring.scorer import APPROVE, decide
from core.settings import AUC_DROP_ALERT, PSI_MODERATE_SHIFT, PSI_SIGNIFICANT_SHIFT

DriftStatus = Literal["stable", "moderate shift", "significant shift"]
MISSING_BIN = "(missing)"
OTHER_BIN = "(unseen category)"
_EPSILON = 1e-4
_DEFAULT_BINS = 10


def drift_status(psi: float) -> DriftStatus:
    """Classify a PSI value with the usual credit-risk bands (0.10 and 0.25)."""
    if psi >= PSI_SIGNIFICANT_SHIFT:
        return "significant shift"
    if psi >= PSI_MODERATE_SHIFT:
        return "moderate shift"
    return "stable"


def population_stability_index(reference_share: np.ndarray, recent_share: np.ndarray) -> float:
    """PSI = sum((recent - ref) * ln(recent / ref)), shares floored at 1e-4 to stay finite."""
    ref = np.clip(np.asarray(reference_share, dtype=float), _EPSILON, None)
    cur = np.clip(np.asarray(recent_share, dtype=float), _EPSILON, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def numeric_bin_edges(reference: pd.Series, n_bins: int = _DEFAULT_BINS) -> np.ndarray:
    """Inner quantile edges of the reference (unique), so bins hold similar reference shares."""
    values = pd.to_numeric(reference, errors="coerce").dropna().to_numpy()
    if values.size == 0:
        return np.array([])
    quantiles = np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.unique(quantiles)


def _numeric_labels(values: pd.Series, edges: np.ndarray) -> pd.Series:
    """Bin label per value: interval text by reference edges, or the missing bin."""
    numbers = pd.to_numeric(values, errors="coerce")
    index = np.searchsorted(edges, numbers.to_numpy(), side="right")
    bounds = np.r_[-np.inf, edges, np.inf]
    names = [f"[{_fmt(bounds[i])}, {_fmt(bounds[i + 1])})" for i in range(len(bounds) - 1)]
    labels = pd.Series(np.asarray(names, dtype=object)[index], index=values.index)
    return labels.where(numbers.notna(), MISSING_BIN)


def _fmt(value: float) -> str:
    """Short text for a bin edge."""
    if np.isinf(value):
        return "−∞" if value < 0 else "∞"
    return f"{value:.4g}"


def _categorical_labels(values: pd.Series, known: list[str]) -> pd.Series:
    """Category label per value: itself, the unseen bin, or the missing bin."""
    text = values.astype("string")
    labels = text.where(text.isin(known), OTHER_BIN)
    return labels.where(text.notna(), MISSING_BIN).astype(object)


def distribution_comparison(
    reference: pd.Series, recent: pd.Series, categorical: bool, n_bins: int = _DEFAULT_BINS
) -> pd.DataFrame:
    """Shares of reference and recent data per bin (numeric: reference deciles)."""
    if categorical:
        known = sorted(reference.dropna().astype("string").unique().tolist())
        ref_labels = _categorical_labels(reference, known)
        cur_labels = _categorical_labels(recent, known)
        order = [*known, OTHER_BIN, MISSING_BIN]
    else:
        edges = numeric_bin_edges(reference, n_bins)
        ref_labels = _numeric_labels(reference, edges)
        cur_labels = _numeric_labels(recent, edges)
        bounds = np.r_[-np.inf, edges, np.inf]
        order = [f"[{_fmt(bounds[i])}, {_fmt(bounds[i + 1])})" for i in range(len(bounds) - 1)]
        order.append(MISSING_BIN)
    table = pd.DataFrame(
        {
            "reference_count": ref_labels.value_counts().reindex(order, fill_value=0),
            "recent_count": cur_labels.value_counts().reindex(order, fill_value=0),
        }
    )
    table = table[(table["reference_count"] > 0) | (table["recent_count"] > 0)]
    table["reference_share"] = table["reference_count"] / max(len(reference), 1)
    table["recent_share"] = table["recent_count"] / max(len(recent), 1)
    table.index.name = "bin"
    return table.reset_index()


def feature_drift(
    reference: pd.DataFrame, recent: pd.DataFrame, categorical: list[str] | tuple[str, ...]
) -> pd.DataFrame:
    """PSI, status and missing-rate change per feature present in both frames, worst first."""
    rows = []
    for feature in reference.columns:
        if feature not in recent.columns:
            continue
        is_categorical = feature in categorical
        table = distribution_comparison(reference[feature], recent[feature], is_categorical)
        psi = population_stability_index(table["reference_share"], table["recent_share"])
        unseen = table.loc[table["bin"] == OTHER_BIN, "recent_count"].sum()
        rows.append(
            {
                "feature": feature,
                "type": "categorical" if is_categorical else "numeric",
                "psi": psi,
                "status": drift_status(psi),
                "missing_reference": float(reference[feature].isna().mean()),
                "missing_recent": float(recent[feature].isna().mean()),
                "unseen_category_rows": int(unseen),
            }
        )
    frame = pd.DataFrame(rows)
    return frame.sort_values("psi", ascending=False).reset_index(drop=True) if rows else frame


@dataclass(frozen=True)
class DecisionSummary:
    """Decisions at a threshold on one data set, and bad rates where labels are known."""

    n_rows: int
    approval_rate: float
    bad_rate: float | None
    bad_rate_approved: float | None
    auc: float | None
    ks: float | None


def decision_summary(
    scores: np.ndarray, threshold: float, labels: np.ndarray | None = None
) -> DecisionSummary:
    """Approval rate (score below threshold), and with labels: bad rates, AUC and KS."""
    scores = np.asarray(scores, dtype=float)
    if scores.size == 0:
        raise DataValidationError("No rows to summarise.", fix="Give data with at least one row.")
    approved = decide(scores, threshold) == APPROVE
    if labels is None:
        return DecisionSummary(int(scores.size), float(approved.mean()), None, None, None, None)
    y = np.asarray(labels, dtype=float)
    both_classes = len(np.unique(y)) == 2
    return DecisionSummary(
        n_rows=int(scores.size),
        approval_rate=float(approved.mean()),
        bad_rate=float(y.mean()),
        bad_rate_approved=float(y[approved].mean()) if approved.any() else None,
        auc=auc_score(y, scores) if both_classes else None,
        ks=ks_statistic(y, scores) if both_classes else None,
    )


@dataclass(frozen=True)
class PerformanceAlert:
    """Whether recent AUC dropped materially against the reference."""

    auc_drop: float | None
    alert: bool
    message: str


def performance_alert(reference: DecisionSummary, recent: DecisionSummary) -> PerformanceAlert:
    """Compare recent AUC with the reference AUC against the alert tolerance."""
    if recent.auc is None or reference.auc is None:
        return PerformanceAlert(
            None, False, "Recent data has no usable labels: performance cannot be checked yet."
        )
    drop = reference.auc - recent.auc
    if drop > AUC_DROP_ALERT:
        return PerformanceAlert(
            drop,
            True,
            f"AUC fell by {drop:.3f} (from {reference.auc:.3f} to {recent.auc:.3f}), more than "
            f"the {AUC_DROP_ALERT:.2f} tolerance: retrain and promote a new run.",
        )
    return PerformanceAlert(
        drop, False, f"AUC moved by {-drop:+.3f}, within the {AUC_DROP_ALERT:.2f} tolerance."
    )


def summary_by_period(
    dates: pd.Series,
    scores: np.ndarray,
    threshold: float,
    labels: np.ndarray | None = None,
    freq: str = "M",
) -> pd.DataFrame:
    """Approval rate (and bad rate among approved, AUC where labels exist) per calendar period."""
    when = pd.to_datetime(dates, errors="coerce")
    if when.isna().all():
        raise DataValidationError(
            f"Column '{dates.name}' holds no dates.", fix="Pick a date column (YYYY-MM-DD)."
        )
    frame = pd.DataFrame({"period": when.dt.to_period(freq).astype("string"), "score": scores})
    if labels is not None:
        frame["label"] = labels
    rows = []
    for period, group in frame.dropna(subset=["period"]).groupby("period", sort=True):
        summary = decision_summary(
            group["score"].to_numpy(),
            threshold,
            group["label"].to_numpy() if labels is not None else None,
        )
        rows.append(
            {
                "period": period,
                "applications": summary.n_rows,
                "approval_rate": summary.approval_rate,
                "bad_rate_approved": summary.bad_rate_approved,
                "auc": summary.auc,
            }
        )
    return pd.DataFrame(rows)
