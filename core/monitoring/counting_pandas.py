"""The pandas counting engine: bin counts of recent decisions held in memory."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from core.decision_log.contract import DECISION, SCORE
from core.decision_log.reader import RecentData
from core.monitoring import drift
from core.monitoring.counting import BinCounts, FeatureCounts
from core.monitoring.periods import Period, group_rows
from core.monitoring.reference import CategoricalProfile, NumericProfile, ReferenceProfile
from core.monitoring.sources import OUTCOME


def approved_rows(decisions: pd.DataFrame) -> np.ndarray:
    """Approved rows: the logged decision, else score below the logged threshold."""
    if DECISION in decisions.columns:
        return (decisions[DECISION] == "approve").to_numpy(dtype=bool, na_value=False)
    return decisions[SCORE].to_numpy() < decisions["threshold"].to_numpy(dtype=float)


def count_feature(
    values: pd.Series, groups: np.ndarray, n: int, profile: NumericProfile | CategoricalProfile
) -> FeatureCounts:
    """Counts per (period, bin) and the per-period extras (range, unseen) of one feature."""
    if isinstance(profile, CategoricalProfile):
        counts = drift.categorical_counts(values, groups, n, profile)
        return FeatureCounts(counts, {"unseen": counts[:, len(profile.categories)]})
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    if not np.issubdtype(numbers.dtype, np.floating):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    result = drift.numeric_counts(numbers, groups, n, profile)
    return FeatureCounts(
        result.counts, {"below_min": result.below_min, "above_max": result.above_max}
    )


def labelled_rows(
    decisions: pd.DataFrame, key: np.ndarray, approved: np.ndarray, run: np.ndarray
) -> pd.DataFrame:
    """The rows with a known outcome, with their key, approval and run code."""
    if OUTCOME not in decisions.columns:
        return pd.DataFrame({SCORE: np.zeros(0), "key": np.zeros(0, np.intp)})
    outcome = decisions[OUTCOME].to_numpy(dtype=float)
    rows = np.flatnonzero(~np.isnan(outcome))
    return pd.DataFrame(
        {
            SCORE: decisions[SCORE].to_numpy()[rows],
            OUTCOME: outcome[rows],
            "key": key[rows],
            "approved": approved[rows],
            "run": run[rows],
        }
    )


def count_frames(
    recent: RecentData, profiles: Mapping[str, ReferenceProfile], period: Period = "month"
) -> BinCounts:
    """Volumes, approvals and bin counts per period and run of decisions held in pandas."""
    decisions = recent.decisions
    groups = group_rows(decisions, period)
    n_periods, n_runs = len(groups.labels), max(len(groups.runs), 1)
    key = groups.period * n_runs + groups.run
    approved = approved_rows(decisions)
    scores: dict[str, np.ndarray] = {}
    features: dict[str, dict[str, FeatureCounts]] = {}
    for code, run_id in enumerate(groups.runs):
        profile = profiles.get(run_id)
        rows = np.flatnonzero(groups.run == code)
        if profile is None or rows.size == 0:
            continue
        periods = groups.period[rows]
        scores[run_id] = drift.numeric_counts(
            decisions[SCORE].to_numpy()[rows], periods, n_periods, profile.score
        ).counts
        found = {}
        for name, part in profile.features.items():
            if name not in recent.features.columns:
                continue
            column = recent.features[name]
            column = column if rows.size == len(column) else column.iloc[rows]
            found[name] = count_feature(column, periods, n_periods, part)
        features[run_id] = found
    return BinCounts(
        labels=groups.labels,
        runs=groups.runs,
        volume=np.bincount(key, minlength=n_periods * n_runs),
        approved=np.bincount(key, weights=approved, minlength=n_periods * n_runs),
        score=scores,
        features=features,
        columns=tuple(recent.features.columns),
        labelled=labelled_rows(decisions, key, approved, groups.run),
    )
