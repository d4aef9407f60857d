"""`python -m core monitor`: the monitoring report for a scheduled job, one line per alert."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from functools import partial
from pathlib import Path

from core.data.tables import read_table
from core.decision_log.reader import read_decision_log
from core.monitoring import use_cases as monitoring
from core.monitoring.counting import ENGINES
from core.monitoring.log_engines import (
    AUTO_DUCKDB_BYTES,
    chosen_engine,
    duckdb_report,
    spark_report,
)
from core.monitoring.output import write_report
from core.monitoring.periods import PERIODS
from core.monitoring.profiles import load_profiles
from core.monitoring.report import MonitoringReport
from core.settings import Settings
from core.store.client import open_client

EXIT_ALERT = 3


def register(commands: argparse._SubParsersAction) -> None:
    """Add the monitor subcommand."""
    parser = commands.add_parser(
        "monitor",
        help="compare recent decisions with the promoted model's reference profile",
        description="Report volume, approval rate, score and feature drift (and, with "
        "outcomes, bad rate, AUC/KS/Gini and score-band accuracy) per period. Prints one line "
        "per alert. Exit 0 when nothing crosses an alert level, 3 when an alert fires, 2 on "
        "bad input.",
    )
    parser.add_argument(
        "--source",
        default=monitoring.LOG_SOURCE,
        help="'log' for the decision log (DECISION_LOG, default), or a CSV/Parquet file",
    )
    parser.add_argument(
        "--outcomes", type=Path, help="CSV/Parquet of outcomes by request or applicant id"
    )
    parser.add_argument(
        "--log-folder",
        type=Path,
        action="append",
        help="with the log: read these folders (repeat: one per service worker) instead of "
        "DECISION_LOG",
    )
    parser.add_argument("--period", choices=PERIODS, default="month", help="default: month")
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="with the log: who counts the bins: pandas (in memory), duckdb (SQL over the day "
        "files, JSONL or compacted Parquet), spark (the same SQL on Spark: Parquet day files "
        "read by Spark, JSONL parsed here first, so compact a large log; needs "
        "requirements-spark.txt and Java) or auto (default, MONITORING_ENGINE: DuckDB above "
        f"{AUTO_DUCKDB_BYTES // 2**20} MB of day files)",
    )
    parser.add_argument(
        "--spark-master",
        help="with --engine spark: the Spark master (default: spark-submit's, else local[*])",
    )
    parser.add_argument(
        "--since",
        type=dt.date.fromisoformat,
        help="with the log: read the day files from this date on (YYYY-MM-DD)",
    )
    parser.add_argument(
        "--out", type=Path, help="write the full report to report.json or report.html"
    )
    parser.add_argument(
        "--run-id", help="with a file source: the run to compare with (default: the promoted run)"
    )
    parser.add_argument(
        "--date-column", help="with a file source: the date column (guessed otherwise)"
    )
    parser.add_argument("--outcome-column", help="with a file source: a 0/1 outcome column")
    parser.set_defaults(handler=run)


def _report(
    args: argparse.Namespace, settings: Settings, options: dict[str, str | None]
) -> MonitoringReport:
    """The report, the log counted by the chosen engine."""
    client = open_client(settings.tracking_uri)
    if args.source == monitoring.LOG_SOURCE:
        folders = args.log_folder or [settings.decision_log_dir]
        engine = args.engine or settings.monitoring_engine
        chosen = chosen_engine(engine, folders, args.since, args.outcomes is not None)
        profiles_for = partial(load_profiles, settings, client)
        if chosen == "duckdb":
            return duckdb_report(folders, profiles_for, args.period, args.since)
        if chosen == "spark":
            return spark_report(folders, profiles_for, args.period, args.since, args.spark_master)
        recent = read_decision_log(folders, args.since)
    else:
        recent = monitoring.load_recent(settings, args.source, args.since, **options)
    outcomes = read_table(args.outcomes) if args.outcomes else None
    recent = monitoring.with_outcomes(recent, outcomes)
    return monitoring.monitor(settings, client, recent, args.period)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Build the report; print notes to stderr and one line per alert to stdout."""
    options = {}
    if args.source != monitoring.LOG_SOURCE:
        options = {
            "run_id": args.run_id,
            "date_column": args.date_column,
            "outcome_column": args.outcome_column,
        }
    report = _report(args, settings, options)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    for alert in report.alerts:
        print(alert.line())
    if args.out:
        write_report(report, args.out)
    total = int(report.segments["decisions"].sum())
    print(
        f"{len(report.alerts)} alert(s) over {total:,} decisions in "
        f"{report.segments['period'].nunique()} {args.period}(s) from {report.source}.",
        file=sys.stderr,
    )
    return EXIT_ALERT if report.alerts else 0
