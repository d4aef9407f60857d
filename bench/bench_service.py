"""Benchmark the scoring service on loopback against `mlflow models serve` and the Scorer itself.

All in one run, on models trained here: the categorical demo model (the goals) and the same
configuration on the numeric features only (the one `mlflow models serve` can score).
- /predict for one applicant with 1 and 32 concurrent clients: p50, p99, requests/s;
- /explain p50; the Scorer called in-process as the floor;
- `mlflow models serve --env-manager local` on the numeric model (its failure on the demo model
  is reported), against our /predict and /invocations on the same numeric model;
- zero failed requests while a promotion and a rollback hot-swap the model under load;
- the cost of writing each request's decisions before answering: the same model served with
  DECISION_LOG_FSYNC=off (the default) and =batch and, with --baseline-tree, by the code of
  another checkout (e.g. main, whose writer queued decisions and answered at once).
The runs are logged the seed's way (no CV), so they are promoted with --force and a reason.
Every measure runs once per round, in turn, for --rounds rounds; each figure is its round with
the lowest p50 (the machine is shared).
Run: python bench/bench_service.py [--requests 300] [--per-client 30] [--rounds 3]
     [--baseline-tree /path/to/main-checkout]
100-applicant requests, mlflow, today's path and --workers 2: `--batches`
(bench/bench_service_batches.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.data.synthetic import DEMO_MONOTONE, demo_dataset  # noqa: E402
from core.promotion import use_cases as promotion  # noqa: E402
from core.scoring.loaded_model import LoadedModel  # noqa: E402
from core.scoring.reason_codes import load_reason_codes  # noqa: E402
from core.scoring.scorer import scorer_for  # noqa: E402
from core.settings import load_settings, prepare_mlflow_environment  # noqa: E402
from core.training.configs import DEMO_CONFIGS  # noqa: E402
from core.training.model_config import build_model  # noqa: E402
from tests.helpers.processes import free_port, stop_process  # noqa: E402

THRESHOLD = 0.4542
HOT_SWAP_CLIENTS = 8


@dataclass(frozen=True)
class Load:
    """Latencies (s) of the successful requests, failures, and the wall time of a load run."""

    latencies: list[float]
    failures: int
    seconds: float
    bodies: list[bytes]
    # CPU ms per successful request of the server's process group (its background work too)
    cpu_ms: float = float("nan")

    @property
    def p50_ms(self) -> float:
        """Median latency in ms."""
        return float(np.percentile(self.latencies, 50) * 1000) if self.latencies else np.nan

    @property
    def p99_ms(self) -> float:
        """99th percentile latency in ms."""
        return float(np.percentile(self.latencies, 99) * 1000) if self.latencies else np.nan

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else np.nan

    def line(self, label: str) -> str:
        """One printed row."""
        return (
            f"  {label:<46} p50 {self.p50_ms:7.2f} ms  p99 {self.p99_ms:7.2f} ms  "
            f"{self.rps:8.1f} req/s  failed {self.failures}"
            + ("" if np.isnan(self.cpu_ms) else f"  CPU {self.cpu_ms:6.2f} ms/req")
        )


async def _client(
    port: int,
    request: bytes,
    count: int,
    out: list,
    stop: threading.Event | None,
    keep: bool,
) -> None:
    """One keep-alive connection sending count requests (or until stop is set)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    while (stop is None and sent < count) or (stop is not None and not stop.is_set()):
        sent += 1
        start = time.perf_counter()
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            data = await reader.readexactly(length)
            out.append((status == 200, time.perf_counter() - start, data if keep else b""))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            out.append((False, time.perf_counter() - start, b""))
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()


def _request_bytes(port: int, path: str, body: bytes, content_type: str) -> bytes:
    """A raw HTTP/1.1 POST."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


def run_load(
    port: int,
    path: str,
    body: bytes | list[bytes],
    clients: int,
    per_client: int,
    content_type: str = "application/json",
    stop: threading.Event | None = None,
    during: Callable[[], None] | None = None,
    keep: bool = False,
) -> Load:
    """Run concurrent keep-alive clients on one asyncio loop (a thread when `during` is given).

    One loop thread with raw HTTP/1.1 keeps the load generator cheap, so the servers, not the
    client, set the pace. A list of bodies gives client i the body i (modulo the list).
    """
    bodies = body if isinstance(body, list) else [body]
    requests = [_request_bytes(port, path, b, content_type) for b in bodies]
    results: list[list] = [[] for _ in range(clients)]

    async def all_clients() -> None:
        await asyncio.gather(
            *(
                _client(port, requests[i % len(requests)], per_client, results[i], stop, keep)
                for i in range(clients)
            )
        )

    start = time.perf_counter()
    if during is not None and stop is not None:
        thread = threading.Thread(target=asyncio.run, args=(all_clients(),))
        thread.start()
        try:
            during()
        finally:
            stop.set()
            thread.join()
    else:
        asyncio.run(all_clients())
    seconds = time.perf_counter() - start
    flat = [r for rows in results for r in rows]
    return Load(
        [t for ok, t, _ in flat if ok],
        sum(not ok for ok, _, _ in flat),
        seconds,
        [b for ok, _, b in flat if ok and b],
    )


def _wait(port: int, path: str, log: Path, timeout: float = 120.0) -> None:
    """Poll GET path until it answers 200 (else fail with the tail of the server's log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    raise TimeoutError(f"port {port} did not answer {path} within {timeout} s:\n{tail}")


def _start(
    command: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT
) -> subprocess.Popen:
    """A server in its own process group."""
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _log_run(uri: str, model, features: pd.DataFrame, target: pd.Series, name: str) -> str:
    """Log a fitted model the seed's way (params, val_auc, model); return the run id."""
    import mlflow
    import mlflow.lightgbm
    from sklearn.metrics import roc_auc_score

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench_service")
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_params(model.get_params())
        mlflow.log_metric("val_auc", roc_auc_score(target, model.predict_proba(features)[:, 1]))
        mlflow.lightgbm.log_model(model, name="model")
    return run.info.run_id


def _promote(uri: str, manifest: Path, run_id: str) -> promotion.PromotionResult:
    """Promote through the real use case."""
    settings = load_settings({"MLFLOW_TRACKING_URI": uri, "PROMOTION_MANIFEST": str(manifest)})
    request = promotion.PromotionRequest(
        run_id=run_id,
        threshold=THRESHOLD,
        by="bench",
        reason="bench",
        force=True,
        force_reason="bench runs are logged the seed's way, without CV folds",
    )
    return promotion.promote(settings, request)


def bench_store(prefix: str) -> tuple[Path, str]:
    """A temporary folder and the MLflow file store in it (library warnings quieted)."""
    warnings.filterwarnings("ignore")
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    uri = f"file:{folder / 'mlruns'}"
    prepare_mlflow_environment(uri)
    return folder, uri


def _service(
    uri: str,
    manifest: Path,
    folder: Path,
    name: str,
    tree: Path = ROOT,
    workers: int | None = None,
    **extra: str,
) -> tuple[subprocess.Popen, int]:
    """`python -m core serve` over a manifest, from the code in tree (this tree: one worker
    unless `workers` says; another tree: its own default unless `workers` says)."""
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "PROMOTION_MANIFEST": str(manifest),
        "DECISION_LOG": str(folder / f"decisions-{name}"),
        **extra,
    }
    command = [sys.executable, "-m", "core", "serve", "--port", str(port)]
    if workers is None and tree == ROOT:
        workers = 1
    if workers is not None:
        command += ["--workers", str(workers)]
    return _start(command, env, folder / f"{name}.log", tree), port


def _mlflow_serve(uri: str, run_id: str, folder: Path, name: str) -> tuple[subprocess.Popen, int]:
    """`mlflow models serve --env-manager local` on a run's model, one worker."""
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        sys.executable, "-m", "mlflow", "models", "serve", "-m", f"runs:/{run_id}/model",
        "--env-manager", "local", "-p", str(port), "-h", "127.0.0.1", "-w", "1",
    ]  # fmt: skip
    return _start(command, env, folder / f"{name}.log"), port


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON objects (missing as null)."""
    return json.loads(frame.to_json(orient="records"))


def _split_body(frame: pd.DataFrame) -> bytes:
    """A dataframe_split body."""
    rows = _records(frame)
    columns = list(frame.columns)
    return json.dumps(
        {"dataframe_split": {"columns": columns, "data": [[r[c] for c in columns] for r in rows]}}
    ).encode()


def interleaved(rounds: int, measures: dict[str, Callable[[], Load]]) -> dict[str, Load]:
    """Each measure once per round, in turn (ours and mlflow side by side in time); per measure
    the round with the lowest p50 is kept (the machine is shared: the others carry its noise)."""
    loads: dict[str, list[Load]] = {name: [] for name in measures}
    for _ in range(rounds):
        for name, measure in measures.items():
            loads[name].append(measure())
    return {name: min(found, key=lambda load: load.p50_ms) for name, found in loads.items()}


def _floor(model, row: pd.DataFrame, calls: int) -> float:
    """p50 ms of the Scorer's whole path on one applicant, in-process."""
    book = load_reason_codes()
    scorer = scorer_for(LoadedModel(model))
    scorer.score(row, THRESHOLD, reason_book=book)
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        scorer.score(row, THRESHOLD, reason_book=book)
        samples.append(time.perf_counter() - start)
    return float(np.percentile(samples, 50) * 1000)


def _goal(label: str, ok: bool) -> str:
    """A goal line."""
    return f"  [{'met' if ok else 'MISSED'}] {label}"


def main() -> int:
    """Train, promote, serve, load, compare; print figures, ratios and goals."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="requests for one client")
    parser.add_argument("--per-client", type=int, default=30, help="requests per client of 32")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per figure (best kept)")
    parser.add_argument("--swap-seconds", type=float, default=2.0, help="load before each swap")
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        default=None,
        help="a checkout whose `python -m core serve` is measured beside ours on the same model "
        "(e.g. main, before decisions were written before answering)",
    )
    args = parser.parse_args()
    folder, uri = bench_store("bench-service-")
    processes: list[subprocess.Popen] = []
    try:
        dataset = demo_dataset()
        features, target = dataset.features, dataset.target
        config = replace(
            next(c for c in DEMO_CONFIGS if c.run_name == "lgb_baseline"),
            monotone_constraints=DEMO_MONOTONE,
        )
        numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]
        demo = build_model(config, list(features.columns)).fit(features, target)
        other = build_model(replace(config, seed=7), list(features.columns)).fit(features, target)
        plain = build_model(replace(config, monotone_constraints=None), numeric).fit(
            features[numeric], target
        )
        demo_run = _log_run(uri, demo, features, target, "demo_categorical")
        other_run = _log_run(uri, other, features, target, "demo_categorical_seed7")
        plain_run = _log_run(uri, plain, features[numeric], target, "numeric_only")
        demo_manifest = folder / "deploy-demo" / "promotion.json"
        plain_manifest = folder / "deploy-numeric" / "promotion.json"
        _promote(uri, demo_manifest, demo_run)
        _promote(uri, plain_manifest, plain_run)
        print(
            f"models: lgb_baseline ({demo.booster_.num_trees()} trees) on {len(features.columns)} "
            f"features ({len(features.columns) - len(numeric)} categorical) and on the "
            f"{len(numeric)} numeric ones; {os.cpu_count()} CPU(s), load average "
            f"{os.getloadavg()[0]:.1f}"
        )
        ours, ours_port = _service(uri, demo_manifest, folder, "service-demo")
        ours_plain, plain_port = _service(uri, plain_manifest, folder, "service-numeric")
        theirs, theirs_port = _mlflow_serve(uri, plain_run, folder, "mlflow-numeric")
        theirs_demo, theirs_demo_port = _mlflow_serve(uri, demo_run, folder, "mlflow-demo")
        synced, synced_port = _service(
            uri, demo_manifest, folder, "service-fsync", DECISION_LOG_FSYNC="batch"
        )
        processes += [ours, ours_plain, theirs, theirs_demo, synced]
        waits = [(synced_port, "/health", "service-fsync")]
        if args.baseline_tree is not None:
            base, base_port = _service(
                uri, demo_manifest, folder, "service-baseline", args.baseline_tree.resolve()
            )
            processes.append(base)
            waits.append((base_port, "/health", "service-baseline"))
        for port, path, name in [
            *waits,
            (ours_port, "/health", "service-demo"),
            (plain_port, "/health", "service-numeric"),
            (theirs_port, "/ping", "mlflow-numeric"),
            (theirs_demo_port, "/ping", "mlflow-demo"),
        ]:
            _wait(port, path, folder / f"{name}.log")

        row = features.iloc[[123]]
        one = json.dumps({"applicants": _records(row)}).encode()
        one_plain = json.dumps({"applicants": _records(row[numeric])}).encode()
        split_plain = _split_body(row[numeric])
        for port, path, body in [
            (ours_port, "/predict", one),
            (ours_port, "/explain", one),
            (plain_port, "/predict", one_plain),
            (plain_port, "/invocations", split_plain),
            (theirs_port, "/invocations", split_plain),
        ]:
            run_load(port, path, body, 4, 25)  # warm-up

        print(f"\n/predict, one applicant, categorical demo model (ours), best of {args.rounds}:")
        measures: dict[str, Callable[[], Load]] = {
            "single": lambda: run_load(ours_port, "/predict", one, 1, args.requests),
            "many": lambda: run_load(ours_port, "/predict", one, 32, args.per_client),
            "explain": lambda: run_load(ours_port, "/explain", one, 1, args.requests),
            "plain_single": lambda: run_load(plain_port, "/predict", one_plain, 1, args.requests),
            "plain_many": lambda: run_load(plain_port, "/predict", one_plain, 32, args.per_client),
            "inv_many": lambda: run_load(
                plain_port, "/invocations", split_plain, 32, args.per_client
            ),
            "mlflow_single": lambda: run_load(
                theirs_port, "/invocations", split_plain, 1, args.requests
            ),
            "mlflow_many": lambda: run_load(
                theirs_port, "/invocations", split_plain, 32, args.per_client
            ),
            "fsync_single": lambda: run_load(synced_port, "/predict", one, 1, args.requests),
            "fsync_many": lambda: run_load(synced_port, "/predict", one, 32, args.per_client),
        }
        if args.baseline_tree is not None:
            measures["base_single"] = lambda: run_load(base_port, "/predict", one, 1, args.requests)
            measures["base_many"] = lambda: run_load(
                base_port, "/predict", one, 32, args.per_client
            )
        best = interleaved(args.rounds, measures)
        single, many, explain = best["single"], best["many"], best["explain"]
        print(single.line("1 client"))
        print(many.line("32 clients"))
        print(explain.line("/explain, 1 client"))
        floor = _floor(demo, row, args.requests)
        print(f"  {'Scorer.score in-process (the floor)':<46} p50 {floor:7.2f} ms")

        print("\nDecisions written before answering (same model, /predict):")
        print(best["fsync_single"].line("DECISION_LOG_FSYNC=batch, 1 client"))
        print(best["fsync_many"].line("DECISION_LOG_FSYNC=batch, 32 clients"))
        if args.baseline_tree is not None:
            print(best["base_single"].line(f"{args.baseline_tree.name} (queued), 1 client"))
            print(best["base_many"].line(f"{args.baseline_tree.name} (queued), 32 clients"))

        print("\nSame numeric-only model, our service vs `mlflow models serve`:")
        plain_single, plain_many = best["plain_single"], best["plain_many"]
        inv_many, mlflow_single = best["inv_many"], best["mlflow_single"]
        mlflow_many = best["mlflow_many"]
        print(plain_single.line("ours /predict, 1 client"))
        print(plain_many.line("ours /predict, 32 clients"))
        print(inv_many.line("ours /invocations, 32 clients"))
        print(mlflow_single.line("mlflow /invocations, 1 client"))
        print(mlflow_many.line("mlflow /invocations, 32 clients"))

        print("\n`mlflow models serve` on the categorical demo model:")
        failed = run_load(theirs_demo_port, "/invocations", _split_body(row), 1, 1, keep=True)
        connection = http.client.HTTPConnection("127.0.0.1", theirs_demo_port, timeout=60)
        connection.request(
            "POST", "/invocations", _split_body(row), {"Content-Type": "application/json"}
        )
        answer = connection.getresponse()
        message = answer.read().decode("utf-8", "replace")
        with contextlib.suppress(ValueError, AttributeError):
            message = json.loads(message).get("message", message)
        print(
            f"  HTTP {answer.status}: {message.splitlines()[0][:160] if message else ''}"
            f" ({'fails' if answer.status != 200 or failed.failures else 'scores'})"
        )
        ours_demo_inv = run_load(ours_port, "/invocations", _split_body(row), 1, 1, keep=True)
        ours_answer = ours_demo_inv.bodies[0].decode() if ours_demo_inv.bodies else "FAILED"
        print(f"  ours on the same model and body: {ours_answer}")

        print(f"\nHot swap under load ({HOT_SWAP_CLIENTS} clients on /predict):")
        settings = load_settings(
            {"MLFLOW_TRACKING_URI": uri, "PROMOTION_MANIFEST": str(demo_manifest)}
        )

        def swaps() -> None:
            time.sleep(args.swap_seconds)
            _promote(uri, demo_manifest, other_run)
            time.sleep(args.swap_seconds)
            promotion.rollback(settings, by="bench", reason="bench")
            time.sleep(args.swap_seconds)

        swap = run_load(
            ours_port, "/predict", one, HOT_SWAP_CLIENTS, 0, stop=threading.Event(),
            during=swaps, keep=True,
        )  # fmt: skip
        runs = pd.Series([json.loads(b)["run_id"] for b in swap.bodies]).value_counts()
        print(swap.line("promote + rollback during the load"))
        print(
            "  answered by: "
            + ", ".join(f"{'demo' if r == demo_run else 'seed7'} run {n}" for r, n in runs.items())
        )

        ratio_rps = plain_many.rps / mlflow_many.rps
        print("\nRatios:")
        print(f"  ours /predict vs mlflow /invocations, 32 clients: {ratio_rps:.2f}x throughput")
        print(
            f"  ours /invocations vs mlflow /invocations, 32 clients: "
            f"{inv_many.rps / mlflow_many.rps:.2f}x throughput"
        )
        print(
            f"  ours /predict vs mlflow, 1 client p50: "
            f"{mlflow_single.p50_ms / plain_single.p50_ms:.2f}x faster"
        )
        print(f"  /predict p50 over the in-process Scorer: {single.p50_ms / floor:.2f}x")
        print("Goals:")
        print(_goal(f"1 client p50 < 5 ms ({single.p50_ms:.2f})", single.p50_ms < 5))
        print(_goal(f"1 client p99 < 25 ms ({single.p99_ms:.2f})", single.p99_ms < 25))
        print(_goal(f">= 2x mlflow's throughput ({ratio_rps:.2f}x)", ratio_rps >= 2))
        print(_goal(f"/explain p50 < 10 ms ({explain.p50_ms:.2f})", explain.p50_ms < 10))
        if args.baseline_tree is not None:
            kept = many.rps / best["base_many"].rps
            print(
                _goal(
                    f"32-client throughput within 10% of {args.baseline_tree.name}'s "
                    f"({kept:.2f}x; 1 client p50 {best['base_single'].p50_ms:.2f} ms there)",
                    kept >= 0.9,
                )
            )
        swapped = len(runs) == 2
        print(
            _goal(
                f"zero failed requests during a hot swap ({swap.failures} failed, "
                f"{'both models answered' if swapped else 'NO SWAP SEEN'})",
                swap.failures == 0 and swapped,
            )
        )
    finally:
        for process in processes:
            stop_process(process, timeout=15)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if "--batches" in sys.argv:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_service_batches import main as batches

        sys.exit(batches())
    sys.exit(main())
