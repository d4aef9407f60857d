"""Drift tables of one run's rows against its profile: per period, feature and score bin."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from core.monitoring import drift
from core.monitoring.counting import FeatureCounts
from core.monitoring.reference import CategoricalProfile, ReferenceProfile


def _psi_columns(shares: np.ndarray, counts: np.ndarray, n_reference: int) -> dict[str, np.ndarray]:
    """PSI per period and the level sampling noise alone would reach at those sizes."""
    n_cur = counts.sum(axis=1)
    n_bins = int(np.count_nonzero((shares > 0) | (counts.sum(axis=0) > 0)))
    return {
        "psi": drift.psi_by_group(shares, counts),
        "psi_noise": drift.psi_noise_level(n_reference, n_cur, n_bins),
    }


def feature_rows(
    counted: Mapping[str, FeatureCounts], n: int, profile: ReferenceProfile
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Drift per feature and period from one run's counts, and category shares per period."""
    frames, category_frames = [], []
    for name, part in profile.features.items():
        if name not in counted:
            continue
        counts, extra = counted[name].counts, counted[name].extra
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
    counts: np.ndarray, period_labels: list[str], run_id: str, profile: ReferenceProfile
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Score PSI per period from one run's score bin counts, and reference vs recent shares."""
    n_periods = len(period_labels)
    labels = drift.numeric_bin_labels(profile.score)
    totals = np.maximum(counts.sum(axis=1, keepdims=True), 1)
    bins = pd.DataFrame(
        {
            "period": np.repeat(period_labels, len(labels)),
            "run_id": run_id,
            "bin": np.tile(labels, n_periods),
            "reference_share": np.tile(profile.score.shares(), n_periods),
            "recent_share": (counts / totals).ravel(),
        }
    ).loc[np.repeat(counts.sum(axis=1) > 0, len(labels))]
    return _psi_columns(profile.score.shares(), counts, profile.score.n_rows), bins
