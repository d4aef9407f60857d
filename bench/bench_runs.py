"""Benchmark the Runs page: runs table with CV stats vs a plain-MLflow baseline, and a rerun.

Builds (once, cached) a file store and a SQLite store of 2,000 runs with 20 params, 10 metrics
and 5 CV folds each (cv_auc / cv_ks logged with step = fold, no summary metrics, so every
reader must fetch the fold history), then times in this one process:

(a) building the runs table with CV stats: the baseline (`mlflow.search_runs` plus
    `MlflowClient.get_metric_history` per run and fold metric, then the fold statistics)
    against `core.store.access.load_runs_table` (cold: a fresh call; warm: the st.cache_data hit the
    page gets on a rerun);
(b) the Runs page in AppTest: first view with cold caches, then reruns after a filter change.

Server mode (`--stores server`, on by default; needs PostgreSQL's initdb/pg_ctl): a throwaway
PostgreSQL cluster under `mlflow server`, seeded with 20,000 runs by COPY straight into MLflow's
tables, timed twice: through the HTTP server ([server]: paged search_runs, fold histories in
concurrent bulk requests) and with the database itself as the tracking URI ([pg-db]: the direct
SQL reader). Both baselines are `mlflow.search_runs` plus per-run `get_metric_history` on the
same URI. A [search] line first compares the server's runs read as one paged search with the
start-time windows searched in parallel (core.store.access).

Usage: python bench/bench_runs.py [--runs 2000] [--repeat 3] [--cache-dir /tmp/bench-runs]
       [--stores file,sqlite,server] [--server-runs 20000] [--server-workers 2] [--no-baseline]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import logging
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

import mlflow  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from core.settings import DEFAULT_RUNS_SEARCH_PARTITION, store_kind  # noqa: E402
from core.store import access as store  # noqa: E402
from core.store import server_reader  # noqa: E402

EXPERIMENT = "bench_runs"
N_FOLDS = 5
PARAMS = (
    "n_estimators", "max_depth", "num_leaves", "learning_rate", "subsample",
    "colsample_bytree", "reg_alpha", "reg_lambda", "min_child_samples", "is_unbalance",
    "cv_folds", "seed", "subsample_freq", "boosting_type", "objective", "min_split_gain",
    "max_bin", "data_version", "features", "target",
)  # fmt: skip
SCALAR_METRICS = (
    "val_auc", "val_ks", "train_auc", "val_logloss", "val_bad_rate", "n_train",
    "n_validation", "val_brier",
)  # fmt: skip
FOLD_METRICS = ("cv_auc", "cv_ks")
T0 = 1_790_000_000_000
# Filter changes timed in (b): they keep 1,000, 1,000, 2,000 and 100 of the 2,000 runs.
SEARCHES = ("run_00", "run_01", "run_0", "run_001")
READING_BANNER = "while the older ones are read"  # ui/shared/context.py, until every run is in


def _run_content(index: int, rng: random.Random) -> dict:
    """Params, scalar metrics, fold values and tags of one synthetic run."""
    auc = 0.78 + rng.random() * 0.06
    params = {name: str(rng.choice([15, 31, 63, 127])) for name in PARAMS}
    params.update(
        learning_rate=f"{rng.choice([0.01, 0.03, 0.05, 0.1]):g}",
        boosting_type=rng.choice(["gbdt", "dart"]),
        data_version=f"v{index % 3}",
        features="age,income,debt_ratio,utilisation,tenure,region",
        target="default",
    )
    metrics = {name: rng.random() for name in SCALAR_METRICS}
    metrics.update(val_auc=auc, train_auc=auc + rng.random() * 0.1)
    folds = {
        "cv_auc": [auc + rng.gauss(0, 0.01) for _ in range(N_FOLDS)],
        "cv_ks": [0.45 + rng.gauss(0, 0.02) for _ in range(N_FOLDS)],
    }
    tags = {
        "mlflow.runName": f"run_{index:05d}",
        "mlflow.user": "bench",
        "mlflow.source.name": "bench_runs.py",
        "mlflow.source.type": "LOCAL",
        "data_version": params["data_version"],
    }
    return {"params": params, "metrics": metrics, "folds": folds, "tags": tags}


def _write_key_files(folder: Path, values: dict[str, str]) -> None:
    """One file per key, as MLflow's file store lays out params and tags."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, value in values.items():
        (folder / key).write_text(value, encoding="utf-8")


def build_file_store(root: Path, n_runs: int) -> str:
    """A file store of n_runs runs, written in MLflow's documented layout; returns the URI."""
    uri = f"file:{root}"
    client = MlflowClient(uri)
    experiment_id = client.create_experiment(EXPERIMENT)
    template = client.create_run(experiment_id).info.run_id
    experiment_dir = root / experiment_id
    meta = yaml.safe_load((experiment_dir / template / "meta.yaml").read_text())
    client.delete_run(template)
    rng = random.Random(1)
    for index in range(n_runs):
        run_id = uuid.uuid4().hex
        content = _run_content(index, rng)
        run_dir = experiment_dir / run_id
        (run_dir / "artifacts").mkdir(parents=True)
        start = T0 + index * 60_000
        meta.update(
            run_id=run_id,
            run_uuid=run_id,
            run_name=content["tags"]["mlflow.runName"],
            artifact_uri=f"file://{run_dir}/artifacts",
            start_time=start,
            end_time=start + 30_000,
            status=3,
            lifecycle_stage="active",
            user_id="bench",
        )
        (run_dir / "meta.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
        _write_key_files(run_dir / "params", content["params"])
        _write_key_files(run_dir / "tags", content["tags"])
        lines = {k: f"{start + 1000} {v!r} 0\n" for k, v in content["metrics"].items()}
        for name, values in content["folds"].items():
            lines[name] = "".join(f"{start + 1000 + k} {v!r} {k}\n" for k, v in enumerate(values))
        _write_key_files(run_dir / "metrics", lines)
    return uri


RUN_COLUMNS = (
    "run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, "
    "end_time, source_version, lifecycle_stage, artifact_uri, experiment_id"
)
TABLE_COLUMNS = {
    "runs": RUN_COLUMNS,
    "params": "key, value, run_uuid",
    "tags": "key, value, run_uuid",
    "metrics": "key, value, timestamp, run_uuid, step, is_nan",
    "latest_metrics": "key, value, timestamp, step, is_nan, run_uuid",
}


def store_rows(n_runs: int, experiment_id: int, artifact_root: str) -> dict[str, list[tuple]]:
    """The rows of MLflow's runs, params, tags, metrics and latest_metrics tables for n_runs."""
    rng = random.Random(1)
    rows: dict[str, list[tuple]] = {table: [] for table in TABLE_COLUMNS}
    for index in range(n_runs):
        run_id = uuid.uuid4().hex
        content = _run_content(index, rng)
        start = T0 + index * 60_000
        rows["runs"].append(
            (run_id, content["tags"]["mlflow.runName"], "LOCAL", "", "", "bench", "FINISHED",
             start, start + 30_000, "", "active", f"{artifact_root}/{run_id}", experiment_id)
        )  # fmt: skip
        rows["params"] += [(k, v, run_id) for k, v in content["params"].items()]
        rows["tags"] += [(k, v, run_id) for k, v in content["tags"].items()]
        for key, value in content["metrics"].items():
            rows["metrics"].append((key, value, start + 1000, run_id, 0, False))
            rows["latest_metrics"].append((key, value, start + 1000, 0, False, run_id))
        for key, values in content["folds"].items():
            rows["metrics"] += [
                (key, v, start + 1000 + k, run_id, k, False) for k, v in enumerate(values)
            ]
            rows["latest_metrics"].append(
                (key, values[-1], start + 1000 + N_FOLDS - 1, N_FOLDS - 1, False, run_id)
            )
    return rows


def build_sqlite_store(db: Path, n_runs: int) -> str:
    """A SQLite store of n_runs runs: schema by MLflow, rows inserted in bulk; returns the URI."""
    uri = f"sqlite:///{db}"
    experiment_id = int(MlflowClient(uri).create_experiment(EXPERIMENT))
    rows = store_rows(n_runs, experiment_id, str(db.parent / "artifacts"))
    with sqlite3.connect(db) as connection:
        for table, columns in TABLE_COLUMNS.items():
            marks = ",".join("?" * len(columns.split(",")))
            connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows[table])
    return uri


def _copy_rows(cursor, table: str, columns: str, rows: list[tuple]) -> None:
    """COPY rows into a PostgreSQL table (CSV through memory: far faster than INSERTs)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)


@contextlib.contextmanager
def postgres_server(n_runs: int, workers: int) -> Iterator[tuple[str, str]]:
    """A throwaway PostgreSQL cluster under `mlflow server`, seeded with n_runs runs straight
    into its tables (schema by MLflow's migrations); yields the server's URI and the database's
    SQLAlchemy URL (the dashboard can be pointed at either)."""
    import psycopg2

    from tests.helpers.postgres_cluster import mlflow_server_command, postgres_cluster
    from tests.helpers.processes import free_port

    with postgres_cluster() as cluster, tempfile.TemporaryDirectory() as folder:
        port = free_port()
        command = mlflow_server_command(
            cluster.url, Path(folder) / "artifacts", port, workers=workers
        )
        log = (Path(folder) / "server.log").open("w")
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        uri = f"http://127.0.0.1:{port}"
        try:
            _wait_for_health(uri, process)
            started = time.perf_counter()
            experiment_id = int(MlflowClient(uri).create_experiment(EXPERIMENT))
            rows = store_rows(n_runs, experiment_id, "mlflow-artifacts:/bench")
            with psycopg2.connect(cluster.dsn) as connection, connection.cursor() as cursor:
                for table, columns in TABLE_COLUMNS.items():
                    _copy_rows(cursor, table, columns, rows[table])
                cursor.execute("ANALYZE")
            print(f"seeded PostgreSQL with {n_runs} runs in {time.perf_counter() - started:.1f} s")
            yield uri, cluster.url
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
            log.close()


def _wait_for_health(uri: str, process: subprocess.Popen, timeout: float = 180) -> None:
    """Poll the server's /health until OK (the first start migrates the schema)."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("mlflow server exited during start-up")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{uri}/health", timeout=1).text.startswith("OK"):
                return
        time.sleep(0.3)
    raise TimeoutError(f"{uri}/health did not answer within {timeout} s")


def cached_store(kind: str, cache_dir: Path, n_runs: int) -> str:
    """Build a store once per (kind, size) under cache_dir; return its URI."""
    folder = cache_dir / f"{kind}-{n_runs}"
    done = folder / ".complete"
    target = folder / ("mlruns" if kind == "file" else "mlflow.db")
    uri = f"file:{target}" if kind == "file" else f"sqlite:///{target}"
    if done.exists():
        return uri
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    (build_file_store if kind == "file" else build_sqlite_store)(target, n_runs)
    found = len(MlflowClient(uri).search_runs([_experiment_id(uri)], max_results=n_runs + 10))
    if found != n_runs:
        raise RuntimeError(f"{kind} store holds {found} runs, expected {n_runs}")
    done.touch()
    print(f"built {kind} store of {n_runs} runs in {time.perf_counter() - started:.1f} s")
    return uri


def _experiment_id(uri: str) -> str:
    """The bench experiment's id."""
    return MlflowClient(uri).get_experiment_by_name(EXPERIMENT).experiment_id


def baseline_table(uri: str, experiment_id: str) -> pd.DataFrame:
    """The plain-MLflow way: search_runs, then get_metric_history per run and fold metric."""
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    runs = mlflow.search_runs(experiment_ids=[experiment_id], max_results=100_000)
    stats = []
    for run_id in runs["run_id"]:
        row = {"run_id": run_id}
        for name in FOLD_METRICS:
            values = pd.Series([m.value for m in client.get_metric_history(run_id, name)])
            row |= {f"{name}_{s}": getattr(values, s)() for s in ("mean", "std", "min", "max")}
        stats.append(row)
    return runs.merge(pd.DataFrame(stats), on="run_id")


def timed(function: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time in seconds of `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _wait_for_whole_read(uri: str, experiment_id: str) -> None:
    """Wait until the dashboard's cached read of a tracking server's runs is whole (no-op for
    other stores, whose read is whole at once)."""
    from ui.shared import cache

    if store_kind(uri) != "server":
        return
    while True:
        progress = cache.server_runs(uri, experiment_id, DEFAULT_RUNS_SEARCH_PARTITION)
        if progress.error is not None:
            raise RuntimeError(f"the background read failed: {progress.error.message}")
        if progress.complete:
            return
        time.sleep(0.2)


def bench_table(uri: str, repeat: int, baseline_repeat: int) -> dict[str, float]:
    """(a) Baseline vs core cold vs cached warm, checking both agree on the CV means."""
    import streamlit as st

    from ui.shared import cache

    experiment_id = _experiment_id(uri)
    client = MlflowClient(uri)
    st.cache_data.clear()
    first_started = time.perf_counter()
    store.load_runs_table(client, uri, experiment_id)
    first = time.perf_counter() - first_started
    cold, ours = timed(lambda: store.load_runs_table(client, uri, experiment_id), repeat)
    cache.runs_table(uri, experiment_id, DEFAULT_RUNS_SEARCH_PARTITION)
    # A server's read goes on in the background: let it end, so that "warm" is the whole
    # table's cache hit and the Runs page's own read below does not share the server with it.
    _wait_for_whole_read(uri, experiment_id)
    warm, _ = timed(
        lambda: cache.runs_table(uri, experiment_id, DEFAULT_RUNS_SEARCH_PARTITION), repeat
    )
    if baseline_repeat < 1:  # --no-baseline: the plain-MLflow reads take minutes at 20,000 runs
        return {"first": first, "cold": cold, "baseline": float("nan"), "warm": warm}
    base, reference = timed(lambda: baseline_table(uri, experiment_id), baseline_repeat)
    merged = ours.runs.merge(reference, on="run_id", suffixes=("", "_base"))
    if len(merged) != len(reference) or not (
        (merged["cv_auc_mean"] - merged["cv_auc_mean_base"]).abs().max() < 1e-9
    ):
        raise RuntimeError("core and baseline disagree on the runs or their CV means")
    return {"first": first, "cold": cold, "baseline": base, "warm": warm}


def bench_rerun(uri: str, repeat: int) -> tuple[float, float, float, float]:
    """(b) Open the Runs page with cold caches (first view), wait for every run to show, then
    time reruns after filter changes; returns (first view, every run shown, median rerun, max
    rerun) in seconds."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["MLFLOW_TRACKING_URI"] = uri
    os.environ["MLFLOW_EXPERIMENT_NAME"] = EXPERIMENT
    st.cache_data.clear()
    st.cache_resource.clear()
    started = time.perf_counter()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
    at = at.switch_page("pages/runs.py").run()
    first_view = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"the Runs page raised: {at.exception[0].value}")
    # A server's older runs arrive in the background: wait for the read (the page's own poll
    # reruns only its banner, so a full rerun per poll here would slow the read), then rerun.
    if any(READING_BANNER in str(e.value) for e in at.info):
        _wait_for_whole_read(uri, _experiment_id(uri))
        at.run()
    whole_view = time.perf_counter() - started
    at.text_input(key="q").set_value("run_000").run()
    times = []
    for index in range(max(7, repeat)):
        widget = at.text_input(key="q").set_value(SEARCHES[index % len(SEARCHES)])
        started = time.perf_counter()
        widget.run()
        times.append(time.perf_counter() - started)
        if at.exception:
            raise RuntimeError(f"the Runs page raised: {at.exception[0].value}")
    return first_view, whole_view, statistics.median(times), max(times)


def bench_search(uri: str, repeat: int) -> None:
    """[search] The server's runs read as one paged search (pages follow each other's tokens)
    against start-time windows searched in parallel; both must find the same runs."""
    client = MlflowClient(uri)
    experiment_id = _experiment_id(uri)
    serial, paged = timed(
        lambda: server_reader._search_pages(client, experiment_id, "", 1000), repeat
    )
    windows, parallel = timed(lambda: server_reader.search_all_runs(client, experiment_id), repeat)
    if sorted(r.info.run_id for r in paged) != sorted(r.info.run_id for r in parallel):
        raise RuntimeError("the windowed search and the paged search found different runs")
    print(
        f"[search] {len(paged)} runs | one paged search {serial:6.2f} s | parallel start-time "
        f"windows {windows:6.2f} s | speed-up {serial / windows:4.1f}x (median of {repeat})"
    )


def report(kind: str, n_runs: int, uri: str, repeat: int, baseline_repeat: int = -1) -> None:
    """Time one store kind and print its line of figures and ratios."""
    if baseline_repeat < 0:
        baseline_repeat = max(1, repeat - 1)
    table = bench_table(uri, repeat, baseline_repeat)
    first_view, whole_view, median, worst = bench_rerun(uri, repeat)
    ratio = table["baseline"] / table["cold"]
    print(
        f"[{kind:6}] {n_runs} runs | baseline {table['baseline']:7.2f} s | core cold "
        f"{table['cold']:6.2f} s (first call {table['first']:.2f} s) | speed-up {ratio:5.1f}x"
        f" | warm (cache hit) {table['warm'] * 1000:6.1f} ms | Runs page first view "
        f"{first_view:5.2f} s (every run shown {whole_view:5.2f} s) | rerun after a filter "
        f"change {median * 1000:6.0f} ms "
        f"(median of {max(7, repeat)}; max {worst * 1000:.0f} ms)"
    )


def main() -> int:
    """Build or reuse the stores, run both benchmarks, print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/bench-runs-cache"))
    parser.add_argument("--stores", default="file,sqlite,server")
    parser.add_argument("--server-runs", type=int, default=20_000)
    parser.add_argument("--server-workers", type=int, default=2)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the plain-MLflow reads (minutes)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    warnings.filterwarnings("ignore")
    for logger_name in ("mlflow", "alembic", "streamlit"):
        logging.getLogger(logger_name).setLevel(logging.ERROR)
    print(f"{args.runs} runs (server: {args.server_runs}) x {len(PARAMS)} params, "
          f"{len(SCALAR_METRICS) + 2} metrics, "
          f"{N_FOLDS} CV folds; median of {args.repeat}; cpus={os.cpu_count()}")  # fmt: skip
    for kind in args.stores.split(","):
        if kind == "server":
            n_runs = args.server_runs
            with postgres_server(n_runs, args.server_workers) as (uri, database_url):
                baseline_repeat = 0 if args.no_baseline else 1
                bench_search(uri, args.repeat)
                report("server", n_runs, uri, 1, baseline_repeat=baseline_repeat)
                report("pg-db", n_runs, database_url, args.repeat, baseline_repeat=baseline_repeat)
        else:
            uri = cached_store(kind, args.cache_dir, args.runs)
            report(kind, args.runs, uri, args.repeat, baseline_repeat=0 if args.no_baseline else -1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
