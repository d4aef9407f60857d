"""Benchmark 100-applicant requests and the worker count: `python bench/bench_service.py --batches`.

On the numeric demo model (the one `mlflow models serve` can score), all in one run, interleaved
round by round, with the asyncio raw-HTTP load generator of bench_service.py (not the service's
own code path):
- 100 applicants per request at 32 clients: `mlflow models serve` /invocations, ours /invocations
  and /predict (declines' reasons), one worker; with --baseline-tree, the same two endpoints
  served by another checkout's code (today's path: SHAP for every row);
- one applicant, 1 client: ours /predict p50;
- --workers 2 against one worker on /invocations, 100 applicants, 32 clients.
Each client sends its own 100 rows (--same-rows: all send the same rows, which flatters any
grouping across requests). Each figure is the round with the lowest p50, with the server's CPU
per request (its process group, measured until its background work is done: the log's reason
codes included); the load average is printed before and after.
Run: python bench/bench_service.py --batches [--rounds 3] [--per-client 6] [--same-rows]
     [--baseline-tree /path/to/checkout]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd
from bench_service import (
    THRESHOLD,
    Load,
    _goal,
    _log_run,
    _mlflow_serve,
    _promote,
    _records,
    _service,
    _split_body,
    _wait,
    bench_store,
    interleaved,
    run_load,
)

from core.data.synthetic import demo_dataset
from core.serving.background_reasons import GATHER_SECONDS
from core.training.configs import DEMO_CONFIGS
from core.training.model_config import build_model
from tests.helpers.processes import stop_process

BATCH = 100
CLIENTS = 32


def _group_cpu(group: int) -> float:
    """CPU seconds (user + system) of the live processes of a process group."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _settled_cpu(group: int, quiet: float, timeout: float = 60.0) -> float:
    """The group's CPU seconds once it spent none for `quiet` seconds (its background work
    done: the log's reason codes wait up to GATHER_SECONDS to gather a batch)."""
    deadline = time.monotonic() + timeout
    last = _group_cpu(group)
    calm_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - calm_since < quiet:
        time.sleep(0.25)
        now = _group_cpu(group)
        if now - last >= 0.01:
            calm_since = time.monotonic()
        last = now
    return last


def _with_cpu(group: int, measure: Callable[[], Load]) -> Callable[[], Load]:
    """The measure, with the server's CPU per request until its background work is done."""

    def run() -> Load:
        before = _settled_cpu(group, quiet=0.3)
        load = measure()
        spent = _settled_cpu(group, quiet=GATHER_SECONDS + 0.6) - before
        return replace(load, cpu_ms=1000 * spent / max(len(load.latencies), 1))

    return run


def main() -> int:
    """Train, promote, serve, load, compare; print figures, ratios and goals."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", action="store_true", help="(selects this bench)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per figure (best kept)")
    parser.add_argument("--per-client", type=int, default=6, help="requests per client of 32")
    parser.add_argument("--requests", type=int, default=200, help="one-applicant requests")
    parser.add_argument("--baseline-tree", type=Path, default=None, help="today's code path")
    parser.add_argument(
        "--same-rows", action="store_true", help="every client sends the same 100 rows"
    )
    args = parser.parse_args()
    folder, uri = bench_store("bench-batches-")
    processes: list[subprocess.Popen] = []
    try:
        dataset = demo_dataset()
        features, target = dataset.features, dataset.target
        numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]
        config = next(c for c in DEMO_CONFIGS if c.run_name == "lgb_baseline")
        plain = build_model(replace(config, monotone_constraints=None), numeric).fit(
            features[numeric], target
        )
        run = _log_run(uri, plain, features[numeric], target, "numeric_only")
        manifest = folder / "deploy" / "promotion.json"
        _promote(uri, manifest, run)
        load_before = os.getloadavg()
        servers = {
            "one": _service(uri, manifest, folder, "one", workers=1),
            "two": _service(uri, manifest, folder, "two", workers=2),
            "mlflow": _mlflow_serve(uri, run, folder, "mlflow"),
        }
        if args.baseline_tree is not None:
            servers["base"] = _service(uri, manifest, folder, "base", args.baseline_tree)
        processes += [p for p, _ in servers.values()]
        ports = {name: port for name, (_, port) in servers.items()}
        for name, port in ports.items():
            _wait(port, "/ping" if name == "mlflow" else "/health", folder / f"{name}.log")

        samples = [
            features[numeric].sample(BATCH, random_state=3 + (0 if args.same_rows else k))
            for k in range(CLIENTS)
        ]
        split = [_split_body(rows) for rows in samples]
        applicants = [json.dumps({"applicants": _records(rows)}).encode() for rows in samples]
        answered = run_load(ports["one"], "/invocations", split, CLIENTS, 1, keep=True).bodies
        scores = [p for b in answered for p in json.loads(b)["predictions"]]
        declines = sum(p >= THRESHOLD for p in scores)
        rows_sent = pd.concat(samples)  # in the order of the answers (client i sends sample i)
        first = {d: rows_sent.iloc[[next(i for i, p in enumerate(scores) if (p >= THRESHOLD) == d)]]
                 for d in (False, True)}  # fmt: skip
        one = {d: json.dumps({"applicants": _records(r)}).encode() for d, r in first.items()}
        groups = {name: process.pid for name, (process, _) in servers.items()}

        def many(name: str, path: str, body: list[bytes]) -> Callable[[], Load]:
            measure = lambda: run_load(ports[name], path, body, CLIENTS, args.per_client)  # noqa: E731
            return _with_cpu(groups[name], measure)

        measures: dict[str, Callable[[], Load]] = {
            "mlflow": many("mlflow", "/invocations", split),
            "inv": many("one", "/invocations", split),
            "pred": many("one", "/predict", applicants),
            "inv2": many("two", "/invocations", split),
            "single": lambda: run_load(ports["one"], "/predict", one[False], 1, args.requests),
            "single_decline": lambda: run_load(
                ports["one"], "/predict", one[True], 1, args.requests
            ),
        }
        if args.baseline_tree is not None:
            measures["base_inv"] = many("base", "/invocations", split)
            measures["base_pred"] = many("base", "/predict", applicants)
        for measure in measures.values():
            measure()  # warm-up
        best = interleaved(args.rounds, measures)
        load_after = os.getloadavg()
        print(
            f"numeric demo model ({plain.booster_.num_trees()} trees, {len(numeric)} features), "
            f"{BATCH} applicants per request ({declines / len(answered):.0f} declined on average; "
            f"{'the same rows' if args.same_rows else 'different rows'} from each of {CLIENTS} "
            f"clients), best of "
            f"{args.rounds}; {os.cpu_count()} CPU(s); load average {load_before[0]:.1f} before, "
            f"{load_after[0]:.1f} after"
        )
        print(best["mlflow"].line("mlflow models serve /invocations"))
        print(best["inv"].line("ours /invocations, 1 worker"))
        print(best["pred"].line("ours /predict (declines' reasons), 1 worker"))
        print(best["inv2"].line("ours /invocations, --workers 2"))
        if args.baseline_tree is not None:
            print(best["base_inv"].line(f"{args.baseline_tree.name} /invocations"))
            print(best["base_pred"].line(f"{args.baseline_tree.name} /predict"))
        print(best["single"].line("ours /predict, 1 approved applicant, 1 client"))
        print(best["single_decline"].line("ours /predict, 1 declined applicant, 1 client"))
        inv = best["inv"].rps / best["mlflow"].rps
        pred = best["pred"].rps / best["mlflow"].rps
        scale = best["inv2"].rps / best["inv"].rps
        print("Goals:")
        print(_goal(f"/invocations >= 1.5x mlflow's req/s ({inv:.2f}x)", inv >= 1.5))
        print(_goal(f"/predict >= 0.7x mlflow's req/s ({pred:.2f}x)", pred >= 0.7))
        slowest = max(best["single"].p50_ms, best["single_decline"].p50_ms)
        print(_goal(f"1 applicant p50 < 5 ms ({slowest:.2f}, approved or declined)", slowest < 5))
        print(_goal(f"--workers 2 >= 1.6x one worker ({scale:.2f}x)", scale >= 1.6))
        mlflow_cpu = best["mlflow"].cpu_ms
        print(
            "Server CPU per request (background reason codes included; a loaded machine "
            f"moves it less than req/s): mlflow {mlflow_cpu:.2f} ms, ours /invocations "
            f"{best['inv'].cpu_ms:.2f} ms ({mlflow_cpu / best['inv'].cpu_ms:.2f}x mlflow's "
            f"rate), /predict {best['pred'].cpu_ms:.2f} ms "
            f"({mlflow_cpu / best['pred'].cpu_ms:.2f}x)"
        )
        if args.baseline_tree is not None:
            for key, path in (("inv", "/invocations"), ("pred", "/predict")):
                gain = best[key].rps / best[f"base_{key}"].rps
                print(f"  {path}: {gain:.2f}x {args.baseline_tree.name}'s req/s")
    finally:
        for process in processes:
            stop_process(process, timeout=15)
        shutil.rmtree(folder, ignore_errors=True)
    return 0
