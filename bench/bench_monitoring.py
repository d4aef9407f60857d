"""Benchmark the monitoring report on 1,000,000 logged decisions x 30 features over 12 months.

Ours (one run): core.monitoring.report.build_report against a frozen reference profile, fed
  (a) frames directly, and (b) through the decision log reader (the log is written first, not
  timed). The report holds, per month: volume, approval rate, score PSI with its noise level,
  PSI / out-of-range / missing / unseen-category per feature, category shares, AUC/KS/Gini with
  intervals on the labelled months, score-band tests and the alerts.
Baseline (same data, same run): Evidently 0.7.23's DataDriftPreset(method="psi") on the whole
  current set against the reference (one comparison, not twelve), run in its own virtualenv
  bench/.venv-evidently (Evidently needs pandas 2.3.3) as a subprocess that reports its timing.
Goals: report < 5 s, at least 20x faster than Evidently.

DuckDB (monitor --engine duckdb): on the compacted log of (b), the report must equal the pandas
  engine's; then on --duckdb-rows (10M) decisions written as compacted Parquet day files, timed
  in a child process with its peak RSS. Goals: < 15 s and < 1 GB.

Run: python bench/bench_monitoring.py [--rows 1000000] [--reference 200000] [--skip-log]
  [--duckdb-rows 10000000]
Build the baseline's venv once with `make bench-evidently`, or:
  python3.11 -m venv bench/.venv-evidently &&
  bench/.venv-evidently/bin/pip install -r bench/requirements-evidently.txt
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.decision_log.compact import compact_log
from core.decision_log.contract import SCORE
from core.decision_log.reader import RecentData, read_decision_log
from core.decision_log.writer import records_from_frames, write_records
from core.monitoring.log_engines import duckdb_report
from core.monitoring.profiles import ProfileSet
from core.monitoring.reference import ReferenceProfile, build_profile, read_profile
from core.monitoring.report import MonitoringReport, build_report

ROOT = Path(__file__).resolve().parent.parent
REPORT_GOAL_S = 5.0
DUCKDB_GOAL_S = 15.0
DUCKDB_MEMORY_GOAL_MB = 1024
SPEEDUP_GOAL = 20.0
N_NUMERIC = 26
N_CATEGORICAL = 4
MONTHS = 12
LABELLED_MONTHS = 9
THRESHOLD = 0.4542
EVIDENTLY_PYTHON = ROOT / "bench" / ".venv-evidently" / "bin" / "python"
EVIDENTLY_SCRIPT = """
import sys, time, json
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
start, cpu = time.perf_counter(), time.process_time()
report = Report([DataDriftPreset(method="psi")])
snapshot = report.run(current_data=current, reference_data=reference)
result = snapshot.dict()
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "metrics": len(result["metrics"])}))
"""


def features(rows: int, rng: np.random.Generator, drift: np.ndarray) -> pd.DataFrame:
    """30 features: 26 numeric (some drifting with `drift`, 2% missing) and 4 categorical."""
    columns: dict[str, np.ndarray] = {}
    for i in range(N_NUMERIC):
        values = rng.normal(0.0, 1.0, rows) + (drift * (0.5 if i % 5 == 0 else 0.0))
        values[rng.random(rows) < 0.02] = np.nan
        columns[f"num_{i:02d}"] = values
    categories = np.array(["A", "B", "C", "D", "E", "F"])
    for j in range(N_CATEGORICAL):
        shift = drift * (0.2 if j == 0 else 0.0)
        draw = np.clip(rng.random(rows) - shift, 0, 0.999)
        columns[f"cat_{j}"] = categories[(draw * len(categories)).astype(int)]
    return pd.DataFrame(columns)


def scores_and_outcomes(
    frame: pd.DataFrame, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A score driven by a few features, and outcomes drawn from it."""
    logit = (
        -1.8
        + 0.8 * np.nan_to_num(frame["num_00"].to_numpy())
        + 0.4 * np.nan_to_num(frame["num_01"].to_numpy())
    )
    scores = 1.0 / (1.0 + np.exp(-logit))
    outcomes = (rng.random(len(frame)) < scores).astype(float)
    return scores, outcomes


def make_data(
    rows: int, reference_rows: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, RecentData]:
    """The reference sample (features, scores, labels) and the recent decisions as frames."""
    rng = np.random.default_rng(0)
    reference = features(reference_rows, rng, np.zeros(reference_rows))
    ref_scores, ref_labels = scores_and_outcomes(reference, rng)
    month = np.sort(rng.integers(0, MONTHS, rows))
    recent = features(rows, rng, month / (MONTHS - 1))
    scores, outcomes = scores_and_outcomes(recent, rng)
    outcomes[month >= LABELLED_MONTHS] = np.nan
    start = pd.Timestamp("2026-01-01", tz="UTC")
    times = pd.Series(start + pd.to_timedelta(month * 30 + rng.integers(0, 28, rows), unit="D"))
    decisions = pd.DataFrame(
        {
            "time": times,
            "request_id": [f"r{i}" for i in range(rows)],
            "run_id": "bench-run",
            "threshold": THRESHOLD,
            "applicant_id": None,
            "probability_of_default": scores,
            "decision": np.where(scores < THRESHOLD, "approve", "decline"),
            "outcome": outcomes,
        }
    )
    return reference, ref_scores, ref_labels, RecentData(decisions, recent, "bench frames")


def write_log(folder: Path, recent: RecentData) -> None:
    """Write the decisions as the service's decision log (one JSONL file per day)."""
    meta = recent.decisions
    records = records_from_frames(
        recent.features, meta[SCORE].to_numpy(), meta["time"], "bench-run", THRESHOLD
    )
    write_records(folder, records)


def _bytes(folder: Path, suffix: str) -> int:
    """Total size of a folder's files with this suffix."""
    return sum(p.stat().st_size for p in folder.iterdir() if p.name.endswith(suffix))


def compacted_read(folder: Path, jsonl: RecentData, profiles: dict) -> None:
    """Compact the log to Parquet (`python -m core compact-log`), read it again and check the
    report's numbers are those of the JSONL read."""
    start = time.perf_counter()
    done = compact_log(folder, dt.date.max)
    compact_s = time.perf_counter() - start
    start = time.perf_counter()
    read = read_decision_log(folder)
    read_s = time.perf_counter() - start
    pandas_report = build_report(read, profiles)
    same = pandas_report.features.equals(build_report(jsonl, profiles).features)
    print(
        f"compact-log: {len(done.compacted)} day files in {compact_s:.2f} s, "
        f"{_bytes(folder, '.jsonl') / 1e6:,.0f} MB JSONL -> "
        f"{_bytes(folder, '.parquet') / 1e6:,.0f} MB Parquet; read {read_s:.2f} s from Parquet "
        f"(report numbers identical to the JSONL read: {same})"
    )
    start = time.perf_counter()
    counted = duckdb_report(folder, lambda runs: ProfileSet(dict(profiles), ()))
    duckdb_s = time.perf_counter() - start
    print(
        f"monitor --engine duckdb on the Parquet log: {duckdb_s:.2f} s (pandas engine: read "
        f"{read_s:.2f} s + report); report identical to the pandas engine's: "
        f"{same_report(counted, pandas_report)}"
    )


def same_report(left: MonitoringReport, right: MonitoringReport) -> bool:
    """Every table, alert and note of two reports equal."""
    tables = ("segments", "features", "categories", "score_bins")
    equal = all(getattr(left, t).equals(getattr(right, t)) for t in tables)
    return equal and left.alerts == right.alerts


def write_parquet_log(folder: Path, rows: int, seed: int = 1) -> None:
    """rows decisions as compacted Parquet day files (compact-log's layout), a month at a time
    (never all rows in memory)."""
    rng = np.random.default_rng(seed)
    per_month = rows // MONTHS
    for month in range(MONTHS):
        frame = features(per_month, rng, np.full(per_month, month / (MONTHS - 1)))
        scores, _ = scores_and_outcomes(frame, rng)
        day = np.sort(rng.integers(0, 28, per_month))
        seconds = rng.integers(0, 86_400, per_month)
        first = np.datetime64("2026-01-01") + np.timedelta64(month * 30, "D")
        stamps = (first + day.astype("timedelta64[D]")).astype("datetime64[us]")
        stamps = stamps + seconds.astype("timedelta64[s]")
        text = np.char.add(np.datetime_as_string(stamps, unit="us"), "+00:00")
        struct = pa.StructArray.from_arrays(
            [pa.array(frame[c], from_pandas=True) for c in frame.columns], names=list(frame.columns)
        )
        table = pa.table(
            {
                "time": pa.array(text.tolist(), pa.string()),
                "request_id": pa.array([f"m{month}r{i}" for i in range(per_month)], pa.string()),
                "run_id": pa.array(["bench-run"] * per_month, pa.string()),
                "threshold": np.full(per_month, THRESHOLD),
                "applicant_id": pa.nulls(per_month, pa.string()),
                "probability_of_default": scores,
                "decision": np.where(scores < THRESHOLD, "approve", "decline"),
                "features": struct,
            }
        )
        for d in np.unique(day):
            rows_of_day = np.flatnonzero(day == d)
            name = f"decisions-{first + np.timedelta64(int(d), 'D')}.parquet"
            pq.write_table(table.take(rows_of_day), folder / name, compression="zstd")


def duckdb_at_scale(rows: int, profile: ReferenceProfile, folder: Path) -> None:
    """DuckDB on `rows` decisions of compacted Parquet, in a child process (its own peak RSS)."""
    log = folder / "parquet-log"
    log.mkdir()
    start = time.perf_counter()
    write_parquet_log(log, rows)
    write_s = time.perf_counter() - start
    (folder / "profile.json").write_text(profile.model_dump_json(), "utf-8")
    result = subprocess.run(
        [sys.executable, __file__, "--count-duckdb", str(log), str(folder / "profile.json")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = json.loads(result.stdout.strip().splitlines()[-1])
    met = (
        "met"
        if found["seconds"] < DUCKDB_GOAL_S and found["peak_mb"] < DUCKDB_MEMORY_GOAL_MB
        else "MISSED"
    )
    print(
        f"monitor --engine duckdb, {rows:,} decisions on Parquet "
        f"({_bytes(log, '.parquet') / 1e6:,.0f} MB, {len(list(log.iterdir()))} day files, "
        f"written in {write_s:.0f} s): {found['seconds']:.2f} s, CPU {found['cpu']:.2f} s, "
        f"peak RSS {found['peak_mb']:,.0f} MB ({found['decisions']:,} decisions, "
        f"{found['alerts']} alerts)  goal < {DUCKDB_GOAL_S:g} s and < "
        f"{DUCKDB_MEMORY_GOAL_MB} MB: {met}"
    )


def _peak_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def count_duckdb(log: Path, profile_path: Path) -> None:
    """Child process: the DuckDB report of a log, its time and this process's peak memory."""
    profile = read_profile(profile_path)
    start, cpu = time.perf_counter(), time.process_time()
    report = duckdb_report(log, lambda runs: ProfileSet({profile.run_id: profile}, ()))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = _peak_mb()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "peak_mb": peak,
                "decisions": int(report.segments["decisions"].sum()),
                "alerts": len(report.alerts),
            }
        )
    )


def evidently_seconds(
    reference: pd.DataFrame, current: pd.DataFrame, folder: Path
) -> tuple[float, float] | None:
    """Evidently's PSI drift preset (wall, CPU seconds) in its own venv, or None without it."""
    if not EVIDENTLY_PYTHON.exists():
        print(
            "baseline skipped: bench/.venv-evidently is missing. Build it with "
            "`make bench-evidently`, or\n"
            "  python3.11 -m venv bench/.venv-evidently && "
            "bench/.venv-evidently/bin/pip install -r bench/requirements-evidently.txt"
        )
        return None
    reference.to_parquet(folder / "reference.parquet")
    current.to_parquet(folder / "current.parquet")
    result = subprocess.run(
        [str(EVIDENTLY_PYTHON), "-c", EVIDENTLY_SCRIPT, str(folder / "reference.parquet"),
         str(folder / "current.parquet")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        print(f"baseline failed: {result.stderr.strip().splitlines()[-1:]}")
        return None
    timing = json.loads(result.stdout.strip().splitlines()[-1])
    return float(timing["seconds"]), float(timing["cpu"])


def main() -> None:
    """Build the data, time our report (frames and log) and Evidently, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reference", type=int, default=200_000)
    parser.add_argument("--skip-log", action="store_true", help="do not time the log reader")
    parser.add_argument(
        "--duckdb-rows",
        type=int,
        default=10_000_000,
        help="decisions of the DuckDB-on-Parquet row (0: skip it)",
    )
    parser.add_argument("--count-duckdb", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_duckdb:
        count_duckdb(*args.count_duckdb)
        return
    reference, ref_scores, ref_labels, recent = make_data(args.rows, args.reference)
    names = list(reference.columns)
    categorical = [c for c in names if c.startswith("cat_")]
    start = time.perf_counter()
    profile = build_profile(
        reference, names, categorical, ref_scores, THRESHOLD, run_id="bench-run",
        source="bench", labels=ref_labels,
    )  # fmt: skip
    profile_s = time.perf_counter() - start
    print(
        f"{args.rows:,} decisions x {len(names)} features over {MONTHS} months; reference "
        f"{args.reference:,} rows (profile built once, at promotion: {profile_s:.2f} s)"
    )
    start, cpu = time.perf_counter(), time.process_time()
    report = build_report(recent, {"bench-run": profile}, "month")
    frames_s, frames_cpu = time.perf_counter() - start, time.process_time() - cpu
    verdict = "met" if frames_s < REPORT_GOAL_S else "MISSED"
    print(f"ours, frames -> report:           {frames_s:6.2f} s  ({len(report.segments)} months, "
          f"{len(report.features)} feature rows, {len(report.alerts)} alerts)  "
          f"goal < {REPORT_GOAL_S:g} s: {verdict}; CPU {frames_cpu:.2f} s")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.skip_log:
            (folder / "log").mkdir()
            write_log(folder / "log", recent)
            start = time.perf_counter()
            read = read_decision_log(folder / "log")
            read_s = time.perf_counter() - start
            start = time.perf_counter()
            build_report(read, {"bench-run": profile}, "month")
            log_report_s = time.perf_counter() - start
            print(
                f"ours, decision log -> report:     {read_s + log_report_s:6.2f} s  (read "
                f"{read_s:.2f} s, report {log_report_s:.2f} s, {len(read.decisions):,} rows)"
            )
            compacted_read(folder / "log", read, {"bench-run": profile})
        if args.duckdb_rows:
            duckdb_at_scale(args.duckdb_rows, profile, folder)
        evidently_s = evidently_seconds(reference, recent.features, folder)
    if evidently_s is not None:
        wall, cpu = evidently_s
        ratio = wall / frames_s
        print(f"Evidently DataDriftPreset(psi):    {wall:6.2f} s  (one comparison of all rows; "
              f"CPU {cpu:.2f} s)")  # fmt: skip
        met = "met" if ratio >= SPEEDUP_GOAL else "MISSED"
        print(f"speed-up vs Evidently: {ratio:.1f}x wall, {cpu / frames_cpu:.1f}x CPU  "
              f"goal >= {SPEEDUP_GOAL:g}x: {met}")  # fmt: skip
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
