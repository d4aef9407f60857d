"""Benchmark the Monitoring page on a 10M-decision compacted Parquet decision log.

The log is written by bench_monitoring's writer (30 features, 12 months, 336 Parquet day
files). The page is rendered with Streamlit's AppTest in a child process per row: the app
opens, the user picks *Decision log*, the page counts it (report, alerts, charts, the drift
section and its first feature's distribution) and the child prints its wall and CPU time and
its peak RSS (VmHWM: the whole process, Streamlit and AppTest included).

Rows: DuckDB engine on --rows (10M), DuckDB and pandas engines on --compare-rows (1M; pandas
holds the log in memory, so it is not run at 10M). The run "bench-run" is in no MLflow store:
the child serves the bench's reference profile where the page loads profiles (what a profile
frozen at promotion gives); the temporary store holds one run so the page opens.
Goal: the page on 10M Parquet decisions under 1 GB peak RSS.

Run: python bench/bench_monitoring_page.py [--rows 10000000] [--compare-rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_monitoring import THRESHOLD, features, scores_and_outcomes, write_parquet_log

from core.monitoring.log_summary import size_text
from core.monitoring.reference import build_profile, read_profile
from core.settings import DEFAULT_EXPERIMENT_NAME, prepare_mlflow_environment
from core.store.client import ensure_experiment

ROOT = Path(__file__).resolve().parent.parent
PAGE_MEMORY_GOAL_MB = 1024
RENDER_TIMEOUT_S = 3600
REFERENCE_ROWS = 200_000


def _peak_mb() -> float:
    """This process's peak RSS in MB (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def render(log: Path, profile_path: Path, engine: str, store: Path) -> None:
    """Child process: open the app, pick the decision log, print times and peak memory."""
    from streamlit.testing.v1 import AppTest

    from core.monitoring.profiles import ProfileSet
    from ui.monitoring import cache as cached

    profile = read_profile(profile_path)
    cached.load_profiles = lambda settings, client, runs: ProfileSet(  # type: ignore[assignment]
        {r: profile for r in runs if r == profile.run_id}, ()
    )
    os.environ.update(
        MLFLOW_TRACKING_URI=f"file:{store}",
        MLFLOW_EXPERIMENT_NAME=DEFAULT_EXPERIMENT_NAME,
        PROMOTION_MANIFEST=str(store.parent / "deploy" / "promotion.json"),
        DECISION_LOG=str(log),
        MONITORING_ENGINE=engine,
    )
    os.chdir(store.parent)
    start = time.perf_counter()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=RENDER_TIMEOUT_S).run()
    at.switch_page("pages/monitoring.py").run()
    opened_s = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    at.radio(key="monitoring_source").set_value("Decision log").run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    captions = [c.value for c in at.caption if c.value.startswith("Source: ")]
    print(
        json.dumps(
            {
                "opened_s": opened_s,
                "seconds": seconds,
                "cpu": cpu,
                "peak_mb": _peak_mb(),
                "caption": captions[0] if captions else "",
                "alerts": len(at.table[0].value) if len(at.table) else 0,
                "charts": len(at.get("plotly_chart")),
                "exceptions": [str(e.value)[:200] for e in at.exception],
                "errors": [str(e.value)[:200] for e in at.error],
            }
        )
    )


def _row(name: str, log: Path, profile: Path, engine: str, store: Path) -> dict:
    """Render the page in a child process and print one line."""
    result = subprocess.run(
        [sys.executable, __file__, "--render", str(log), str(profile), engine, str(store)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        print(f"{name}: the child failed\n{result.stderr[-2000:]}")
        return {}
    found = json.loads(lines[-1])
    size = size_text(sum(p.stat().st_size for p in log.iterdir()))
    print(
        f"{name} ({size} of Parquet): page {found['seconds']:.1f} s wall, "
        f"CPU {found['cpu']:.1f} s, peak RSS {found['peak_mb']:,.0f} MB (app opened in "
        f"{found['opened_s']:.1f} s); {found['charts']} charts, {found['alerts']} alerts; "
        f"exceptions {found['exceptions']}, errors {found['errors']}\n  {found['caption']}"
    )
    return found


def _store(folder: Path) -> Path:
    """A file store with one run, so the dashboard opens."""
    from mlflow.tracking import MlflowClient

    path = folder / "mlruns"
    prepare_mlflow_environment(f"file:{path}")
    client = MlflowClient(f"file:{path}")
    experiment = ensure_experiment(client, DEFAULT_EXPERIMENT_NAME)
    run = client.create_run(experiment, run_name="bench_store_run")
    client.log_metric(run.info.run_id, "val_auc", 0.7)
    client.set_terminated(run.info.run_id)
    return path


def _profile(folder: Path) -> Path:
    """The bench run's reference profile, as bench_monitoring builds it."""
    rng = np.random.default_rng(0)
    reference = features(REFERENCE_ROWS, rng, np.zeros(REFERENCE_ROWS))
    scores, labels = scores_and_outcomes(reference, rng)
    names = list(reference.columns)
    profile = build_profile(
        reference, names, [c for c in names if c.startswith("cat_")], scores, THRESHOLD,
        run_id="bench-run", source="bench", labels=labels,
    )  # fmt: skip
    path = folder / "profile.json"
    path.write_text(profile.model_dump_json(), "utf-8")
    return path


def main() -> None:
    """Write the logs, render the page per engine, print the goal line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--compare-rows", type=int, default=1_000_000)
    parser.add_argument("--render", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render:
        log, profile, engine, store = args.render
        render(Path(log), Path(profile), engine, Path(store))
        return
    with tempfile.TemporaryDirectory(prefix="bench-monpage-") as tmp:
        folder = Path(tmp)
        store, profile = _store(folder), _profile(folder)
        small, large = folder / "log-small", folder / "log-large"
        small.mkdir()
        write_parquet_log(small, args.compare_rows)
        print(f"load average before: {os.getloadavg()}")
        _row(f"DuckDB, {args.compare_rows:,} decisions", small, profile, "duckdb", store)
        _row(f"pandas, {args.compare_rows:,} decisions", small, profile, "pandas", store)
        large.mkdir()
        start = time.perf_counter()
        write_parquet_log(large, args.rows)
        print(f"wrote {args.rows:,} decisions in {time.perf_counter() - start:.0f} s")
        found = _row(f"DuckDB, {args.rows:,} decisions", large, profile, "duckdb", store)
        met = found and not found["exceptions"] and found["peak_mb"] < PAGE_MEMORY_GOAL_MB
        print(
            f"goal: the page on {args.rows:,} Parquet decisions under {PAGE_MEMORY_GOAL_MB} MB "
            f"peak RSS: {'met' if met else 'MISSED'}; load average after: {os.getloadavg()}"
        )


if __name__ == "__main__":
    main()
