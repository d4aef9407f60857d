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

Engines (monitor --engine pandas|duckdb|spark): on --engines-rows (1M) decisions written as
  compacted Parquet day files, each engine's report in a child process (time, CPU, peak RSS;
  Spark's CPU counts the local JVM, its session start is not counted) and a check that the
  DuckDB and Spark reports equal the pandas engine's. The Spark row runs with --spark (skipped
  with the reason without Java or pyspark). Then DuckDB on --duckdb-rows (10M) decisions.
  Goals: DuckDB at 10M < 15 s wall and < 1 GB peak; the same numbers as pandas.
  The numeric features are written as the service logs the demo's (whole numbers, money to the
  cent, ratios to 4 decimals); --full-entropy writes raw normal doubles instead (2.6x the bytes).

Run: python bench/bench_monitoring.py [--rows 1000000] [--reference 200000] [--skip-log]
  [--engines-rows 1000000] [--spark] [--duckdb-rows 10000000] [--full-entropy]
Build the baseline's venv once with `make bench-evidently`, or:
  python3.11 -m venv bench/.venv-evidently &&
  bench/.venv-evidently/bin/pip install -r bench/requirements-evidently.txt
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import pickle
import resource
import shutil
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
from core.monitoring.log_engines import duckdb_report, spark_report
from core.monitoring.profiles import ProfileSet
from core.monitoring.reference import ReferenceProfile, build_profile, read_profile
from core.monitoring.report import MonitoringReport, build_report
from core.monitoring.use_cases import report_with_profiles

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


# Numeric features as the service logs them (the demo's columns): whole numbers (a bureau
# score), money to the cent (an income) and ratios to 4 decimals; `--full-entropy` keeps the
# raw normal draws (every value a distinct double, 4x the Parquet bytes).
UNITS = ((650.0, 60.0, 0), (10.0, 0.5, 2), (0.3, 0.1, 4))


def _in_units(i: int, z: np.ndarray) -> np.ndarray:
    """A standard normal draw in feature i's unit, rounded as logged (money: log-normal)."""
    centre, spread, decimals = UNITS[i % len(UNITS)]
    values = centre + spread * z
    return np.round(np.exp(values) if decimals == 2 else values, decimals)


def _standard(i: int, values: np.ndarray) -> np.ndarray:
    """Feature i back on the standard normal scale (the inverse of _in_units, up to rounding)."""
    centre, spread, decimals = UNITS[i % len(UNITS)]
    return ((np.log(values) if decimals == 2 else values) - centre) / spread


FULL_ENTROPY = False


def features(rows: int, rng: np.random.Generator, drift: np.ndarray) -> pd.DataFrame:
    """30 features: 26 numeric (some drifting with `drift`, 2% missing) and 4 categorical."""
    columns: dict[str, np.ndarray] = {}
    for i in range(N_NUMERIC):
        values = rng.normal(0.0, 1.0, rows) + (drift * (0.5 if i % 5 == 0 else 0.0))
        values = values if FULL_ENTROPY else _in_units(i, values)
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
    first, second = (frame[f"num_{i:02d}"].to_numpy() for i in (0, 1))
    if not FULL_ENTROPY:
        first, second = _standard(0, first), _standard(1, second)
    logit = -1.8 + 0.8 * np.nan_to_num(first) + 0.4 * np.nan_to_num(second)
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


def _goal(label: str, met: bool | None, detail: str) -> None:
    """One goal line: [met], [MISSED] or [not run]."""
    verdict = "[not run]" if met is None else "[met]" if met else "[MISSED]"
    print(f"  goal {label}: {verdict} {detail}")


def _child(engine: str, log: Path, profile_path: Path, master: str = "local[2]") -> dict:
    """One engine's report of a log in a child process (its own peak RSS), its figures."""
    result = subprocess.run(
        [sys.executable, __file__, "--count", engine, str(log), str(profile_path), master],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"{engine} child failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _engine_line(engine: str, rows: int, found: dict) -> str:
    """A bench row of one engine's report of a Parquet log."""
    start = f", session start {found['start_s']:.1f} s not counted" if "start_s" in found else ""
    return (
        f"monitor --engine {engine}, {rows:,} decisions on Parquet: {found['seconds']:.2f} s, "
        f"CPU {found['cpu']:.2f} s{found.get('cpu_note', '')}, peak RSS "
        f"{found['peak_mb']:,.0f} MB ({found['decisions']:,} decisions, {found['alerts']} "
        f"alerts{start})"
    )


def _parquet_log(rows: int, profile: ReferenceProfile, folder: Path) -> tuple[Path, Path]:
    """`rows` decisions written as compacted Parquet day files, and the profile's file."""
    log = folder / f"parquet-log-{rows}"
    log.mkdir()
    start = time.perf_counter()
    write_parquet_log(log, rows)
    print(
        f"{rows:,} decisions as Parquet day files: {_bytes(log, '.parquet') / 1e6:,.0f} MB in "
        f"{len(list(log.iterdir()))} files (written in {time.perf_counter() - start:.0f} s)"
    )
    (folder / "profile.json").write_text(profile.model_dump_json(), "utf-8")
    return log, folder / "profile.json"


def spark_missing() -> str | None:
    """Why the Spark row cannot run here, or None."""
    if shutil.which("java") is None:
        return "Java is not installed (apt-get install default-jre-headless)"
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -r requirements-spark.txt)"
    return None


def engines_compared(rows: int, profile: ReferenceProfile, folder: Path, spark: bool) -> None:
    """pandas, DuckDB and (with --spark) Spark on the same Parquet log: times and equality."""
    log, profile_path = _parquet_log(rows, profile, folder)
    reports = {}
    engines = ["pandas", "duckdb"]
    why = spark_missing() if spark else "run with --spark"
    if why is None:
        engines.append("spark")
    for engine in engines:
        found = _child(engine, log, profile_path)
        reports[engine] = pickle.loads(Path(found["report"]).read_bytes())
        print(_engine_line(engine, rows, found))
    if why is not None:
        print(f"monitor --engine spark: skipped ({why})")
    for engine in engines[1:]:
        same = same_report(reports[engine], reports["pandas"])
        _goal(f"{engine} report = pandas report at {rows:,}", same, "")


def duckdb_at_scale(rows: int, profile: ReferenceProfile, folder: Path) -> None:
    """DuckDB on `rows` decisions of compacted Parquet, in a child process (its own peak RSS)."""
    log, profile_path = _parquet_log(rows, profile, folder)
    found = _child("duckdb", log, profile_path)
    print(_engine_line("duckdb", rows, found))
    _goal(f"DuckDB {rows:,} < {DUCKDB_GOAL_S:g} s wall", found["seconds"] < DUCKDB_GOAL_S,
          f"({found['seconds']:.2f} s; load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    _goal(f"DuckDB {rows:,} < {DUCKDB_MEMORY_GOAL_MB} MB peak",
          found["peak_mb"] < DUCKDB_MEMORY_GOAL_MB, f"({found['peak_mb']:,.0f} MB)")  # fmt: skip


def _peak_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _jvm_cpu(session) -> float | None:
    """CPU seconds of the local Spark JVM (py4j's gateway process), None when not local."""
    proc = getattr(getattr(session.sparkContext, "_gateway", None), "proc", None)
    stat = Path(f"/proc/{getattr(proc, 'pid', -1)}/stat")
    if not stat.exists():
        return None
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_child(engine: str, log: Path, profile_path: Path, master: str) -> None:
    """Child process: one engine's report of a log, its time, CPU and peak memory (JSON)."""
    profile = read_profile(profile_path)
    profiles = ProfileSet({profile.run_id: profile}, ())
    extra: dict[str, object] = {}
    session, jvm_before = None, None
    if engine == "spark":
        from core.data.spark_session import spark_session

        start = time.perf_counter()
        session = spark_session(master, 100_000, app_name="bench monitor")
        extra["start_s"] = time.perf_counter() - start
        jvm_before = _jvm_cpu(session)
    start, cpu = time.perf_counter(), time.process_time()
    if engine == "pandas":
        report = report_with_profiles(read_decision_log(log), profiles)
    elif engine == "duckdb":
        report = duckdb_report(log, lambda runs: profiles)
    else:
        report = spark_report(log, lambda runs: profiles, master=master)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if session is not None:
        jvm_after = _jvm_cpu(session)
        if jvm_before is not None and jvm_after is not None:
            cpu += jvm_after - jvm_before
            extra["cpu_note"] = " (driver + JVM)"
    out = log.parent / f"{engine}-report.pickle"
    out.write_bytes(pickle.dumps(report))
    print(json.dumps({
        "seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb(), "report": str(out),
        "decisions": int(report.segments["decisions"].sum()), "alerts": len(report.alerts),
        **extra,
    }))  # fmt: skip


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
    parser.add_argument(
        "--engines-rows",
        type=int,
        default=1_000_000,
        help="decisions of the pandas / DuckDB / Spark comparison on Parquet (0: skip it)",
    )
    parser.add_argument("--spark", action="store_true", help="add the Spark engine's row")
    parser.add_argument(
        "--full-entropy",
        action="store_true",
        help="numeric features as raw normal doubles (the first bench's data), not logged units",
    )
    parser.add_argument("--count", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global FULL_ENTROPY
    FULL_ENTROPY = args.full_entropy
    if args.count:
        engine, log, profile_path, master = args.count
        count_child(engine, Path(log), Path(profile_path), master)
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
        if args.engines_rows:
            engines_compared(args.engines_rows, profile, folder, args.spark)
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
