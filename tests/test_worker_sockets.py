"""The workers' listening sockets: one per worker on the port, new connections spread over all
of them, and a port another process holds refused rather than shared."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from core.serving.errors import ServiceStartError
from core.serving.workers import bind
from tests.helpers.processes import free_port

ROOT = Path(__file__).resolve().parents[1]

HOST = "127.0.0.1"


def _accepted(sockets: list[socket.socket], expected: int) -> list[int]:
    """Accept every pending connection; how many each socket had."""
    counts = [0] * len(sockets)
    for sock in sockets:
        sock.setblocking(False)
    while sum(counts) < expected:
        ready, _, _ = select.select(sockets, [], [], 5.0)
        assert ready, f"only {sum(counts)} of {expected} connections arrived"
        for sock in ready:
            connection, _ = sock.accept()
            connection.close()
            counts[sockets.index(sock)] += 1
    return counts


def test_each_worker_gets_its_own_socket_and_a_share_of_new_connections() -> None:
    # given two workers' sockets on one port
    port = free_port()
    sockets = bind(HOST, port, 2)
    clients = []
    try:
        assert len(sockets) == 2
        assert {s.getsockname()[1] for s in sockets} == {port}
        # when 64 clients connect at once (as a load balancer's keep-alive pool does)
        clients = [socket.create_connection((HOST, port), timeout=5) for _ in range(64)]
        counts = _accepted(sockets, 64)
        # then the kernel spread them over both sockets, not all to one
        assert min(counts) >= 8, counts
    finally:
        for sock in [*clients, *sockets]:
            sock.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_port_held_by_another_server_is_refused_not_shared(workers: int) -> None:
    # given a port another multi-worker service listens on
    port = free_port()
    held = bind(HOST, port, 2)
    try:
        # when a second service binds it / then the bind fails, naming the address and the fix:
        # no silent sharing
        with pytest.raises(ServiceStartError, match=f"Cannot listen on {HOST}:{port}") as refused:
            bind(HOST, port, workers)
        assert "--port" in (refused.value.fix or "")
    finally:
        for sock in held:
            sock.close()
    # and once it is free, it binds
    for sock in bind(HOST, port, workers):
        sock.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_a_held_port_says_so_in_one_line(tmp_path: Path, workers: str) -> None:
    # given a port another process listens on
    port = free_port()
    with socket.create_server((HOST, port)):
        # when the service is started on it
        env = {**os.environ, "PROMOTION_MANIFEST": str(tmp_path / "promotion.json")}
        done = subprocess.run(
            [sys.executable, "-m", "core", "serve", "--port", str(port), "--workers", workers],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    # then it exits 2 with one line naming the address and the fix, before loading anything
    assert done.returncode == 2, done.stderr
    assert f"error: Cannot listen on {HOST}:{port}" in done.stderr
    assert "Traceback" not in done.stderr and "serving run" not in done.stdout
