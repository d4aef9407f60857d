"""`python -m core score-batch`: score a whole book through the one Scorer, locally or on Spark."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core.batch.options import (
    DEFAULT_BATCH_ROWS,
    DEFAULT_CHECK_SAMPLE,
    ENGINES,
    BatchOptions,
)
from core.batch.rows import EXPLAIN_CHOICES
from core.settings import Settings
from core.threshold import parse_threshold


def register(commands: argparse._SubParsersAction) -> None:
    """Add the score-batch subcommand."""
    parser = commands.add_parser(
        "score-batch",
        help="score a CSV/Parquet book with the promoted model into a Parquet folder",
        description="Score every applicant of a CSV or Parquet file (or a folder of them) with "
        "the promoted model, verified exactly as the service verifies it, into a Parquet "
        "folder with _SCORING_MANIFEST.json. A hash-chosen sample is re-scored through the "
        "service's own scoring call; any difference above 1e-12 fails the job. Nothing is "
        "written to --output unless the whole job succeeds.",
    )
    parser.add_argument("--input", type=Path, required=True, help="CSV/Parquet file or folder")
    parser.add_argument("--output", type=Path, required=True, help="new output folder")
    parser.add_argument("--engine", choices=ENGINES, default="local", help="default: local")
    parser.add_argument(
        "--workers", type=int, default=BatchOptions.workers, help="local worker processes"
    )
    parser.add_argument(
        "--batch-rows",
        type=int,
        default=DEFAULT_BATCH_ROWS,
        help=f"rows per batch (Spark: maxRecordsPerBatch); default {DEFAULT_BATCH_ROWS:,}",
    )
    parser.add_argument(
        "--explain",
        choices=EXPLAIN_CHOICES,
        default="declines",
        help="SHAP and reason codes for all rows, declined rows only (default), or none",
    )
    parser.add_argument(
        "--check-sample",
        type=int,
        default=DEFAULT_CHECK_SAMPLE,
        help=f"rows re-scored through the service's call (default {DEFAULT_CHECK_SAMPLE:,})",
    )
    parser.add_argument("--run-id", help="score this run instead (marked as not promoted)")
    parser.add_argument(
        "--threshold", type=parse_threshold, help="with --run-id (default DECISION_THRESHOLD)"
    )
    parser.add_argument("--spark-master", help="e.g. local[2] or spark://host:7077")
    parser.set_defaults(handler=run)


class _ProgressLine:
    """Rows done, rows/s and ETA on one refreshed terminal line (stderr)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        rate = done / elapsed
        eta = (total - done) / rate if rate else 0.0
        print(
            f"\r{done:,} / {total:,} rows  {rate:,.0f} rows/s  ETA {eta:,.0f} s ",
            end="" if done < total else "\n",
            file=sys.stderr,
            flush=True,
        )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the job and print one summary line."""
    from core.batch.job import run_batch_job

    options = BatchOptions(
        input=args.input,
        output=args.output,
        engine=args.engine,
        workers=args.workers,
        batch_rows=args.batch_rows,
        explain=args.explain,
        check_sample=args.check_sample,
        run_id=args.run_id,
        threshold=float(args.threshold) if args.threshold is not None else None,
        spark_master=args.spark_master,
    )
    progress = _ProgressLine() if args.engine == "local" and sys.stderr.isatty() else None
    report = run_batch_job(settings, options, progress)
    m = report.manifest
    model = m["model"]
    marked = "promoted" if model["promoted"] else "NOT promoted"
    print(
        f"scored {m['output_rows']:,} applicants ({m['declines']:,} declined) with run "
        f"{model['run_id']} ({marked}, threshold {model['threshold']}) in "
        f"{m['wall_seconds']:,.1f} s into {report.output}; sample check: "
        f"{report.check.rows:,} rows agree with the service within {report.check.tolerance:g}"
    )
    return 0
