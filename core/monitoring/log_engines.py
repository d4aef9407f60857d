"""Which engine counts the decision log (pandas, DuckDB or Spark), and the report counted in SQL
by DuckDB or Spark (the statistics, tests and alerts are the pandas engine's own)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from core.decision_log.reader import chosen_day_files, log_folders
from core.errors import DataValidationError
from core.monitoring.counting import Engine
from core.monitoring.counting_assembly import assemble
from core.monitoring.counting_duckdb import duckdb_counter
from core.monitoring.counting_log import LogCounter
from core.monitoring.periods import Period
from core.monitoring.profiles import ProfileSet
from core.monitoring.report import MonitoringReport, report_from_counts

# Above this many bytes of day files, "auto" counts with DuckDB (pandas holds the log in memory:
# about 1 GB per million JSONL decisions of 30 features).
AUTO_DUCKDB_BYTES = 256 * 2**20
ProfilesFor = Callable[[tuple[str, ...]], ProfileSet]


def chosen_engine(
    engine: Engine,
    folder: Path | Sequence[Path],
    since: dt.date | None = None,
    with_outcomes: bool = False,
) -> Literal["pandas", "duckdb", "spark"]:
    """The engine to count with: the one named, else DuckDB for a log above the size threshold
    (pandas when outcomes are joined: they need the decisions row by row). Spark only by name."""
    if engine in ("duckdb", "spark") and with_outcomes:
        name = "DuckDB" if engine == "duckdb" else "Spark"
        raise DataValidationError(
            f"The {name} engine counts the log without holding its rows, so it cannot join "
            "outcomes to them.",
            fix="Monitor outcomes with --engine pandas (or auto), or leave out --outcomes.",
        )
    if engine != "auto":
        return engine
    if with_outcomes:
        return "pandas"
    size = sum(path.stat().st_size for _, path in chosen_day_files(log_folders(folder), since))
    return "duckdb" if size >= AUTO_DUCKDB_BYTES else "pandas"


def counted_report(
    counter: LogCounter, profiles_for: ProfilesFor, period: Period = "month"
) -> MonitoringReport:
    """The monitoring report of a log counted in SQL; statistics as with pandas."""
    survey = counter.survey()
    found = profiles_for(survey.run_ids)
    grouped, plan = counter.count(found.profiles, survey, period)
    counted, bad_times = assemble(grouped, plan, found.profiles, survey.fields, period)
    notes = (*counter.notes(survey, bad_times), *found.notes)
    return report_from_counts(counted, found.profiles, period, counter.source, notes)


def duckdb_report(
    folder: Path | Sequence[Path],
    profiles_for: ProfilesFor,
    period: Period = "month",
    since: dt.date | None = None,
) -> MonitoringReport:
    """The monitoring report of a decision log counted in DuckDB; statistics as with pandas."""
    return counted_report(duckdb_counter(folder, since), profiles_for, period)


def spark_report(
    folder: Path | Sequence[Path],
    profiles_for: ProfilesFor,
    period: Period = "month",
    since: dt.date | None = None,
    master: str | None = None,
) -> MonitoringReport:
    """The monitoring report of a decision log counted by Spark SQL on `master` (default:
    spark-submit's session, else local[*]); statistics as with pandas."""
    from core.monitoring.counting_spark import spark_counter  # pyspark only when asked

    return counted_report(spark_counter(folder, master, since), profiles_for, period)
