"""Counting a decision log's files in SQL, whichever engine runs the SQL (DuckDB or Spark).

A first pass (the survey) finds the runs in order of first decision, the feature fields and
the corrupt lines; the profiles are loaded for those runs; the second pass runs the bin-count
SQL of core.monitoring.counting_sql over every unit of the log (core.monitoring.counting_units).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from core.decision_log.reader import (
    chosen_day_files,
    log_folders,
    missing_days,
    no_readable_decision,
    read_notes,
)
from core.monitoring.counting_sql import (
    CountPlan,
    Dialect,
    bin_counts_sql,
    count_plan,
    first_runs_sql,
)
from core.monitoring.counting_units import LogUnit, log_units, unit_rows
from core.monitoring.periods import Period
from core.monitoring.reference import ReferenceProfile

SOURCE = "{source}"


class UnitQuery(Protocol):
    """An SQL engine: its dialect, and SQL run over one unit (named by SOURCE in the text)."""

    dialect: Dialect

    def query(self, unit: LogUnit, sql: str) -> pd.DataFrame:
        """The SQL's result over the unit's rows, as a small pandas frame."""
        ...


@dataclass(frozen=True)
class Survey:
    """What the first pass over the files found: runs by first decision, feature fields, rows,
    the corrupt lines skipped, and the notes the reader would give."""

    run_ids: tuple[str, ...]
    fields: tuple[str, ...]
    rows: int
    problems: tuple[str, ...]


def _file_order(found: Sequence[tuple[object, Path]]) -> dict[str, int]:
    """Each day file's position in reading order, by its resolved path."""
    return {str(path.resolve()): i for i, (_, path) in enumerate(found)}


class LogCounter:
    """Counts a decision log's files (several folders, from `since` on) with an SQL engine."""

    def __init__(
        self, folder: Path | Sequence[Path], engine: UnitQuery, since: dt.date | None = None
    ) -> None:
        self.folders = log_folders(folder)
        self.found = chosen_day_files(self.folders, since)
        self.engine = engine
        self.source = (
            f"decision log {', '.join(map(str, self.folders))} ({len(self.found)} day file(s))"
        )

    def survey(self) -> Survey:
        """Runs in order of first decision, feature fields and corrupt lines (first pass)."""
        order = _file_order(self.found)
        firsts, fields, problems, rows = [], {}, [], 0
        sql = first_runs_sql(SOURCE, self.engine.dialect)
        for unit in log_units(self.found):
            fields.update(dict.fromkeys(unit.fields))
            problems += [(order[str(path.resolve())], p) for path, p in unit.problems]
            rows += unit_rows(unit)
            firsts.append(self.engine.query(unit, sql))
        if rows == 0:
            raise no_readable_decision(len(self.found), self.folders, len(problems))
        first = pd.concat(firsts, ignore_index=True)
        first["file"] = first["filename"].map(lambda name: order[str(Path(name).resolve())])
        first = first.sort_values(["file", "first_row"], kind="stable")
        runs = tuple(dict.fromkeys(first["run_id"]))
        ordered = tuple(p for _, p in sorted(problems, key=lambda item: item[0]))
        return Survey(runs, tuple(fields), rows, ordered)

    def count(
        self,
        profiles: Mapping[str, ReferenceProfile],
        survey: Survey,
        period: Period = "month",
    ) -> tuple[pd.DataFrame, CountPlan]:
        """The grouped counts of every file (second pass) and the plan naming their columns."""
        plan = count_plan(profiles, survey.fields)
        frames = []
        for unit in log_units(self.found):
            sql = bin_counts_sql(SOURCE, plan, profiles, unit.fields, period, self.engine.dialect)
            frames.append(self.engine.query(unit, sql))
        return pd.concat(frames, ignore_index=True), plan

    def notes(self, survey: Survey, bad_times: int) -> list[str]:
        """The reader's sentences on skipped lines, bad times and days without a file."""
        days = list(dict.fromkeys(info.day for info, _ in self.found))
        return read_notes(list(survey.problems), missing_days(days), bad_times)
