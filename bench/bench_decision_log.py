"""Benchmark writing decisions before answering: `DecisionLog.commit` with each fsync policy.

One client commits one-decision batches in turn (the latency a response waits for), then 32
concurrent clients commit at once (the group commit: how many decisions one os.write carries).
Run: python bench/bench_decision_log.py [--commits 2000] [--clients 32] [--per-client 100]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.decision_log.writer import DecisionBatch, DecisionLog  # noqa: E402


def _batch(i: int) -> DecisionBatch:
    """One decision, as a /predict request for one applicant logs it."""
    return DecisionBatch(
        datetime.now(UTC), f"req-{i}", "run", 0.4542, [None], [0.3], ["approve"], [[]], [[]],
        [{"credit_score": 640.0, "home_ownership": "RENT"}],
    )  # fmt: skip


async def _client(log: DecisionLog, count: int) -> list[float]:
    """Commit count batches in turn; each commit's latency in seconds."""
    latencies = []
    for i in range(count):
        start = time.perf_counter()
        await log.commit(_batch(i))
        latencies.append(time.perf_counter() - start)
    return latencies


async def _clients(log: DecisionLog, clients: int, count: int) -> float:
    """Decisions per second with clients committing concurrently."""
    start = time.perf_counter()
    await asyncio.gather(*(_client(log, count) for _ in range(clients)))
    return clients * count / (time.perf_counter() - start)


def main() -> int:
    """Measure each policy; print latency, throughput and decisions per group."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--per-client", type=int, default=100)
    args = parser.parse_args()
    for policy in ("off", "batch"):
        folder = Path(tempfile.mkdtemp(prefix="bench-decision-log-"))
        log = DecisionLog(folder, policy)  # type: ignore[arg-type]
        try:
            latencies = sorted(asyncio.run(_client(log, args.commits)))
            groups = log.groups
            rate = asyncio.run(_clients(log, args.clients, args.per_client))
            per_group = args.clients * args.per_client / max(log.groups - groups, 1)
        finally:
            log.close()
            shutil.rmtree(folder, ignore_errors=True)
        print(
            f"DECISION_LOG_FSYNC={policy:<5} 1 client: commit p50 "
            f"{statistics.median(latencies) * 1e3:.3f} ms, p99 "
            f"{latencies[int(len(latencies) * 0.99)] * 1e3:.3f} ms; {args.clients} clients: "
            f"{rate:,.0f} decisions/s, {per_group:.1f} decisions per write"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
