"""The counts the monitoring report is built from, whichever engine counted them.

An engine (pandas in memory, DuckDB or Spark in SQL) counts volumes, approvals and, per run,
feature and period, the rows in each reference bin plus out-of-range, missing and unseen values.
PSI, its noise level, the tests and the alerts are computed from these counts in core.monitoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Engine = Literal["auto", "pandas", "duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("auto", "pandas", "duckdb", "spark")


@dataclass(frozen=True, eq=False)
class FeatureCounts:
    """One feature of one run: rows per (period, slot), missing slot last, and per-period
    extras (below_min and above_max for a numeric feature, unseen for a categorical one)."""

    counts: np.ndarray
    extra: dict[str, np.ndarray]


@dataclass(frozen=True, eq=False)
class BinCounts:
    """Counts of recent decisions by period and run (key = period * n_runs + run).

    `labelled` holds only the rows with a known outcome (score, outcome, key, approved, run
    code), the few that accuracy needs row by row; it has no outcome column when the data has
    none.
    """

    labels: list[str]
    runs: list[str]
    volume: np.ndarray
    approved: np.ndarray
    score: dict[str, np.ndarray]
    features: dict[str, dict[str, FeatureCounts]]
    columns: tuple[str, ...]
    labelled: pd.DataFrame

    @property
    def n_runs(self) -> int:
        """Runs, at least one (an empty log still has one column of periods)."""
        return max(len(self.runs), 1)
