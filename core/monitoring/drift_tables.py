"""Drift tables of one run's rows against its profile: per period, feature and score bin."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.monitoring import drift
from core.monitoring.periods import Groups
from core.monitoring.reference import CategoricalProfile, NumericProfile, ReferenceProfile


def _count_feature(
    values: pd.Series, groups: np.ndarray, n: int, profile: NumericProfile | CategoricalProfile
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Counts per (period, bin) and the per-period extras (range, unseen) of one feature."""
    if isinstance(profile, CategoricalProfile):
        counts = drift.categorical_counts(values, groups, n, profile)
        return counts, {"unseen": counts[:, len(profile.categories)]}
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    if not np.issubdtype(numbers.dtype, np.floating):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    result = drift.numeric_counts(numbers, groups, n, profile)
    return result.counts, {"below_min": result.below_min, "above_max": result.above_max}


def _psi_columns(shares: np.ndarray, counts: np.ndarray, n_reference: int) -> dict[str, np.ndarray]:
    """PSI per period and the level sampling noise alone would reach at those sizes."""
    n_cur = counts.sum(axis=1)
    n_bins = int(np.count_nonzero((shares > 0) | (counts.sum(axis=0) > 0)))
    return {
        "psi": drift.psi_by_group(shares, counts),
        "psi_noise": drift.psi_noise_level(n_reference, n_cur, n_bins),
    }


def feature_rows(
    features: pd.DataFrame,
    rows: np.ndarray,
    groups: np.ndarray,
    n: int,
    profile: ReferenceProfile,
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Drift per feature and period for one run's rows, and category shares per period."""
    frames, category_frames = [], []
    for name, part in profile.features.items():
        if name not in features.columns:
            continue
        column = features[name] if rows.size == len(features) else features[name].iloc[rows]
        counts, extra = _count_feature(column, groups, n, part)
        shares = part.shares()
        totals = np.maximum(counts.sum(axis=1), 1)
        table = pd.DataFrame(
            {"period_code": np.arange(n), "feature": name, "kind": part.kind, "n": totals}
        )
        for key, values in _psi_columns(shares, counts, part.n_rows).items():
            table[key] = values
        table["missing_reference"] = part.missing_rate
        table["missing_recent"] = counts[:, -1] / totals
        table["below_min"] = extra.get("below_min", np.zeros(n)) / totals
        table["above_max"] = extra.get("above_max", np.zeros(n)) / totals
        table["unseen_rate"] = extra.get("unseen", np.zeros(n)) / totals
        table["seen_range"] = "" if isinstance(part, CategoricalProfile) else part.range_text()
        frames.append(table[counts.sum(axis=1) > 0])
        if isinstance(part, CategoricalProfile):
            labels = [*part.categories, drift.OTHER_BIN, drift.MISSING_BIN]
            category_frames.append(
                pd.DataFrame(
                    {
                        "period_code": np.repeat(np.arange(n), len(labels)),
                        "feature": name,
                        "category": np.tile(labels, n),
                        "reference_share": np.tile(shares, n),
                        "recent_share": (counts / totals[:, None]).ravel(),
                    }
                ).loc[np.repeat(counts.sum(axis=1) > 0, len(labels))]
            )
    return frames, category_frames


def score_drift(
    scores: np.ndarray, groups: Groups, rows: np.ndarray, run_id: str, profile: ReferenceProfile
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Score PSI per period for one run's rows, and reference vs recent share per score bin."""
    n_periods = len(groups.labels)
    counts = drift.numeric_counts(scores, groups.period[rows], n_periods, profile.score).counts
    labels = drift.numeric_bin_labels(profile.score)
    totals = np.maximum(counts.sum(axis=1, keepdims=True), 1)
    bins = pd.DataFrame(
        {
            "period": np.repeat(groups.labels, len(labels)),
            "run_id": run_id,
            "bin": np.tile(labels, n_periods),
            "reference_share": np.tile(profile.score.shares(), n_periods),
            "recent_share": (counts / totals).ravel(),
        }
    ).loc[np.repeat(counts.sum(axis=1) > 0, len(labels))]
    return _psi_columns(profile.score.shares(), counts, profile.score.n_rows), bins
