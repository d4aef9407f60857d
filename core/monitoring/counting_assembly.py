"""Grouped SQL counts (core.monitoring.counting_sql) turned into the report's BinCounts."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from core.decision_log.contract import SCORE
from core.monitoring.counting import BinCounts, FeatureCounts
from core.monitoring.counting_sql import SCORE_COLUMN, CountPlan, slot_width
from core.monitoring.periods import Period, period_label
from core.monitoring.reference import CategoricalProfile, NumericProfile, ReferenceProfile

_NO_LABELS = pd.DataFrame({SCORE: np.zeros(0), "key": np.zeros(0, np.intp)})


def _totals(grouped: pd.DataFrame) -> pd.DataFrame:
    """Every file's (run, period) rows summed (the first time: the earliest)."""
    sums = [c for c in grouped.columns if c not in ("run_id", "period", "first_time")]
    keys = ["run_id", "period"]
    table = grouped.groupby(keys, dropna=False)[sums].sum()
    first = grouped.groupby(keys, dropna=False)["first_time"].min()
    return pd.concat([table, first.rename("first_time")], axis=1).reset_index()


def _slot_values(
    rows: pd.DataFrame, column: str, part: NumericProfile | CategoricalProfile, numeric: bool
) -> list[np.ndarray]:
    """One run's slot counts of a bin column from its SQL counts: numeric bins are differences
    of the counts of values >= each edge; unseen = present - known; missing = rows - present."""
    rows_n = rows["n"].to_numpy(np.int64)
    if numeric != isinstance(part, NumericProfile):  # a feature profiled as the other kind
        return [np.zeros_like(rows_n)] * slot_width(part)
    present = rows[f"{column}_nn"].to_numpy(np.int64)
    if isinstance(part, NumericProfile):
        above = [rows[f"{column}_c{k}"].to_numpy(np.int64) for k in range(len(part.edges))]
        cumulative = [present, *above, np.zeros_like(present)]
        slots = [cumulative[k] - cumulative[k + 1] for k in range(len(part.edges) + 1)]
    else:
        slots = [rows[f"{column}_c{k}"].to_numpy(np.int64) for k in range(len(part.categories))]
        slots.append(present - sum(slots, np.zeros_like(present)))
    return [*slots, rows_n - present]


def _with_slots(
    totals: pd.DataFrame, plan: CountPlan, profiles: Mapping[str, ReferenceProfile]
) -> pd.DataFrame:
    """The totals with a count column per slot of every profiled run's bin columns (zero on
    other runs' rows)."""
    slots: dict[str, np.ndarray] = {}
    for run_id, profile in profiles.items():
        mask = (totals["run_id"] == run_id).to_numpy()
        parts = [(SCORE_COLUMN, profile.score, True)] + [
            (plan.bin_column(name), part, name in plan.numeric)
            for name, part in profile.features.items()
            if name in plan.features
        ]
        for column, part, numeric in parts:
            values = _slot_values(totals[mask], column, part, numeric)
            for k, counts in enumerate(values):
                name = plan.count_column(column, k)
                slots.setdefault(name, np.zeros(len(totals), np.int64))[mask] = counts
    return pd.concat([totals, pd.DataFrame(slots, index=totals.index)], axis=1)


def _matrix(
    totals: pd.DataFrame, columns: list[str], run_id: str, n_periods: int, first: int
) -> np.ndarray:
    """(period x slot) counts of one run from its count columns."""
    rows = totals[totals["run_id"] == run_id]
    matrix = np.zeros((n_periods, len(columns)), dtype=np.int64)
    matrix[rows["period"].to_numpy(dtype=np.int64) - first] = rows[columns].to_numpy(np.int64)
    return matrix


def _per_period(totals: pd.DataFrame, run_id: str, column: str, n: int, first: int) -> np.ndarray:
    """One summed column of one run per period."""
    rows = totals[totals["run_id"] == run_id]
    values = np.zeros(n, dtype=np.int64)
    np.add.at(values, rows["period"].to_numpy(dtype=np.int64) - first, rows[column].to_numpy())
    return values


def _slots(plan: CountPlan, column: str, width: int) -> list[str]:
    """The count columns of a bin column's first `width` slots."""
    return [plan.count_column(column, k) for k in range(width)]


def _features(
    totals: pd.DataFrame,
    plan: CountPlan,
    run_id: str,
    profile: ReferenceProfile,
    span: tuple[int, int],
) -> dict[str, FeatureCounts]:
    """One run's counts per profiled feature present in the data."""
    n, first = span
    found = {}
    for name, part in profile.features.items():
        if name not in plan.features:
            continue
        if isinstance(part, CategoricalProfile):
            width = len(part.categories) + 2
            counts = _matrix(totals, _slots(plan, plan.bin_column(name), width), run_id, n, first)
            found[name] = FeatureCounts(counts, {"unseen": counts[:, len(part.categories)]})
            continue
        assert isinstance(part, NumericProfile)
        slots = _slots(plan, plan.bin_column(name), len(part.edges) + 2)
        counts = _matrix(totals, slots, run_id, n, first)
        i = plan.numeric.index(name)
        extra = {
            "below_min": _per_period(totals, run_id, f"lo{i}", n, first),
            "above_max": _per_period(totals, run_id, f"hi{i}", n, first),
        }
        found[name] = FeatureCounts(counts, extra)
    return found


def assemble(
    grouped: pd.DataFrame,
    plan: CountPlan,
    profiles: Mapping[str, ReferenceProfile],
    fields: tuple[str, ...],
    period: Period,
) -> tuple[BinCounts, int]:
    """BinCounts from every file's grouped counts, and the rows left out for a bad time."""
    totals = _with_slots(_totals(grouped), plan, profiles)
    bad_times = int(totals.loc[totals["period"].isna(), "n"].sum())
    totals = totals[totals["period"].notna()].copy()
    totals["period"] = totals["period"].astype(np.int64)
    first, last = int(totals["period"].min()), int(totals["period"].max())
    n_periods = last - first + 1
    starts = totals.groupby("run_id")["first_time"].min().reset_index()
    runs = starts.sort_values(["first_time", "run_id"], kind="stable")["run_id"].tolist()
    code = {r: i for i, r in enumerate(runs)}
    key = (totals["period"].to_numpy() - first) * len(runs) + totals["run_id"].map(code).to_numpy()
    volume = np.zeros(n_periods * len(runs), dtype=np.int64)
    approved = np.zeros(n_periods * len(runs), dtype=float)
    np.add.at(volume, key, totals["n"].to_numpy(dtype=np.int64))
    np.add.at(approved, key, totals["approved"].to_numpy(dtype=float))
    scores, features = {}, {}
    for run_id in runs:
        profile = profiles.get(run_id)
        if profile is None:
            continue
        slots = _slots(plan, SCORE_COLUMN, len(profile.score.edges) + 2)
        scores[run_id] = _matrix(totals, slots, run_id, n_periods, first)
        features[run_id] = _features(totals, plan, run_id, profile, (n_periods, first))
    counted = BinCounts(
        labels=[period_label(o, period) for o in range(first, last + 1)],
        runs=runs,
        volume=volume,
        approved=approved,
        score=scores,
        features=features,
        columns=fields,
        labelled=_NO_LABELS,
    )
    return counted, bad_times
