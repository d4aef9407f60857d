"""Benchmark portfolio scoring in rows per CPU-second: the local engine, the Spark engine, and
the bare LightGBM floor (Booster.predict raw scores plus pred_contrib on every row, on one
thread: the floor; on all threads: OpenMP's spinning threads cost CPU on a busy machine).

Scores the promoted model of the environment's settings (PROMOTION_MANIFEST, MLFLOW_TRACKING_URI;
e.g. after `make demo-serve`). CPU time counts this process and every process it started (local
workers, Spark's JVM and its Python workers), so the rate does not depend on other load.
The bare floor is a rate, so it may be measured on the first --floor-rows rows only (pred_contrib
on every row of 1M takes minutes of CPU); every engine scores all --rows rows.
Run: python bench/bench_batch.py [--rows 1000000] [--floor-rows 200000] [--workers 2] [--no-spark]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.batch.job import run_batch_job
from core.batch.options import BatchOptions
from core.data.synthetic import DEMO_TARGET, make_synthetic_credit_data
from core.scoring.prepare import feature_matrix
from core.serving.model_holder import load_promoted
from core.settings import load_settings, prepare_mlflow_environment

_TICKS = os.sysconf("SC_CLK_TCK")


def _descendants_cpu() -> float:
    """User + system seconds of the live descendants of this process (Spark's JVM, workers)."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry), int(fields[1])
        children.setdefault(parent, []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    total, stack = 0.0, list(children.get(os.getpid(), []))
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0.0)
        stack += children.get(pid, [])
    return total


def _cpu() -> float:
    """CPU seconds of this process, its reaped children and its live descendants."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime + _descendants_cpu()


def _measure(label: str, rows: int, function) -> tuple[str, float, float, int]:
    """Wall and CPU seconds of one call that scores rows."""
    cpu, wall = _cpu(), time.perf_counter()
    function()
    return label, time.perf_counter() - wall, _cpu() - cpu, rows


def main() -> int:
    """Write the book, then time the bare floor, the local engine and the Spark engine."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--floor-rows", type=int, default=None, help="rows of the bare floor")
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    settings = load_settings()
    prepare_mlflow_environment(settings.tracking_uri)
    served = load_promoted(
        settings.promotion_manifest, settings.reason_codes_file, settings.feature_policy_file
    )
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    book = make_synthetic_credit_data(n_rows=args.rows, seed=7).drop(columns=[DEMO_TARGET])
    book.to_parquet(work / "book.parquet", index=False)
    floor_rows = min(args.floor_rows or args.rows, args.rows)
    matrix = feature_matrix(served.scorer.prepare(book.iloc[:floor_rows]).frame)
    booster = served.scorer.booster

    def bare(threads: int) -> None:
        booster.predict(matrix, raw_score=True, num_threads=threads)
        booster.predict(matrix, pred_contrib=True, num_threads=threads)

    def job(engine: str, explain: str, name: str):
        options = BatchOptions(
            input=work / "book.parquet",
            output=work / name,
            engine=engine,
            workers=args.workers,
            batch_rows=args.batch_rows,
            explain=explain,  # type: ignore[arg-type]
            spark_master=f"local[{args.workers}]",
        )
        return lambda: run_batch_job(settings, options)

    bare_label = "bare LightGBM, {}: predict + pred_contrib"
    results = [
        _measure(bare_label.format("1 thread"), floor_rows, lambda: bare(1)),
        _measure(bare_label.format("all threads"), floor_rows, lambda: bare(0)),
        _measure(
            "local engine, --explain declines",
            args.rows,
            job("local", "declines", "local-declines"),
        ),
        _measure("local engine, --explain all", args.rows, job("local", "all", "local-all")),
    ]
    if not args.no_spark:
        from core.data.spark_session import spark_session

        spark_session(f"local[{args.workers}]", args.batch_rows)  # start-up not counted
        small = book.iloc[:1_000]
        small.to_parquet(work / "warm.parquet", index=False)
        run_batch_job(settings, BatchOptions(input=work / "warm.parquet", output=work / "warm",
                                             engine="spark", check_sample=10,
                                             spark_master=f"local[{args.workers}]"))  # fmt: skip
        results.append(
            _measure(
                "Spark engine, --explain declines", args.rows, job("spark", "declines", "spark")
            )
        )
    floor = floor_rows / results[0][2]
    print(f"\n{args.rows:,} rows ({floor_rows:,} for the bare floor), {args.workers} worker(s), "
          f"batches of {args.batch_rows:,}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'path':<52} {'rows':>9} {'wall s':>8} {'CPU s':>8} {'rows/CPU-s':>11} {'vs floor':>9}")
    for label, wall, cpu, rows in results:
        rate = rows / cpu
        print(f"{label:<52} {rows:9,} {wall:8.1f} {cpu:8.1f} {rate:11,.0f} {rate / floor:8.2f}x")
    print(f"(work folder {work}; 1 core-hour scores {floor * 3600 / 1e6:,.1f}M rows at the floor)")
    return 0 if np.isfinite(floor) else 1


if __name__ == "__main__":
    raise SystemExit(main())
