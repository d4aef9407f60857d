"""Periods and runs of recent decisions: month or Monday-started week codes, runs in time order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Period = Literal["month", "week"]
PERIODS: tuple[Period, ...] = ("month", "week")
ALL_ROWS = "all rows"


@dataclass(frozen=True)
class Groups:
    """Row -> period code, the period labels, and row -> run code."""

    period: np.ndarray
    labels: list[str]
    run: np.ndarray
    runs: list[str]


def _naive_times(times: pd.Series) -> np.ndarray:
    """Timestamps as a numpy datetime64 array in UTC (never an array of objects)."""
    naive = times.dt.tz_convert(None) if times.dt.tz is not None else times
    return naive.to_numpy()


def _period_ordinals(values: np.ndarray, period: Period) -> np.ndarray:
    """Months (or Monday-started weeks) since 1970 of each timestamp, by numpy."""
    if period == "month":
        return values.astype("datetime64[M]").astype(np.int64)
    return (values.astype("datetime64[D]").astype(np.int64) + 3) // 7


def period_label(ordinal: int, period: Period) -> str:
    """'2026-03' for a month, the Monday '2026-03-02' for a week."""
    if period == "month":
        return str(np.datetime64(int(ordinal), "M"))
    return str(np.datetime64(int(ordinal) * 7 - 3, "D"))


def group_rows(decisions: pd.DataFrame, period: Period) -> Groups:
    """Period of every row (every period in the span, empty ones too) and run of every row."""
    times = _naive_times(decisions["time"])
    known = ~np.isnat(times)
    run_codes, runs = _runs_in_time_order(decisions["run_id"], times)
    if not known.any():
        return Groups(np.zeros(len(known), np.intp), [ALL_ROWS], run_codes, runs)
    ordinals = _period_ordinals(times, period)
    first, last = ordinals[known].min(), ordinals[known].max()
    labels = [period_label(o, period) for o in range(first, last + 1)]
    codes = np.where(known, ordinals - first, last - first + 1)
    if not known.all():
        labels.append(ALL_ROWS)
    return Groups(codes.astype(np.intp), labels, run_codes, runs)


def _runs_in_time_order(run_ids: pd.Series, times: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Run code per row, runs ordered by their first decision."""
    codes, runs = pd.factorize(run_ids.astype(str), sort=False)
    first = pd.Series(times).groupby(codes).min()
    order = np.argsort(first.reindex(range(len(runs))).to_numpy(), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[codes], [runs[i] for i in order]
