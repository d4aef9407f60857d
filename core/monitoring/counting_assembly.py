"""Grouped SQL counts (core.monitoring.counting_sql) turned into the report's BinCounts."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from core.decision_log.contract import SCORE
from core.monitoring.counting import BinCounts, FeatureCounts
from core.monitoring.counting_sql import SCORE_COLUMN, CountPlan
from core.monitoring.periods import Period, period_label
from core.monitoring.reference import CategoricalProfile, NumericProfile, ReferenceProfile

_NO_LABELS = pd.DataFrame({SCORE: np.zeros(0), "key": np.zeros(0, np.intp)})


def _totals(grouped: pd.DataFrame, bins: list[str]) -> pd.DataFrame:
    """Rows of the (run, period) grouping set, summed over files."""
    rows = grouped[(grouped[[f"g_{b}" for b in bins]] == 1).all(axis=1)]
    sums = [c for c in rows.columns if c == "n" or c == "approved" or c[:2] in ("lo", "hi")]
    table = rows.groupby(["run_id", "period"], dropna=False)[sums].sum()
    first = rows.groupby(["run_id", "period"], dropna=False)["first_time"].min()
    return table.assign(first_time=first).reset_index()


def _matrix(
    grouped: pd.DataFrame, column: str, run_id: str, n_periods: int, first: int, width: int
) -> np.ndarray:
    """(period x bin) counts of one bin column for one run."""
    rows = grouped[(grouped[f"g_{column}"] == 0) & (grouped["run_id"] == run_id)]
    rows = rows[rows["period"].notna()]
    matrix = np.zeros((n_periods, width), dtype=np.int64)
    np.add.at(
        matrix,
        (rows["period"].to_numpy(dtype=np.int64) - first, rows[column].to_numpy(dtype=np.int64)),
        rows["n"].to_numpy(dtype=np.int64),
    )
    return matrix


def _per_period(totals: pd.DataFrame, run_id: str, column: str, n: int, first: int) -> np.ndarray:
    """One summed column of one run per period."""
    rows = totals[totals["run_id"] == run_id]
    values = np.zeros(n, dtype=np.int64)
    np.add.at(values, rows["period"].to_numpy(dtype=np.int64) - first, rows[column].to_numpy())
    return values


def _features(
    grouped: pd.DataFrame,
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
            counts = _matrix(grouped, plan.bin_column(name), run_id, n, first, width)
            found[name] = FeatureCounts(counts, {"unseen": counts[:, len(part.categories)]})
            continue
        assert isinstance(part, NumericProfile)
        counts = _matrix(grouped, plan.bin_column(name), run_id, n, first, len(part.edges) + 2)
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
    bins = [SCORE_COLUMN, *(plan.bin_column(n) for n in plan.features)]
    totals = _totals(grouped, bins)
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
        width = len(profile.score.edges) + 2
        scores[run_id] = _matrix(grouped, SCORE_COLUMN, run_id, n_periods, first, width)
        features[run_id] = _features(grouped, totals, plan, run_id, profile, (n_periods, first))
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
