"""Services in their own process group: a free port, start, wait for health, stop.

Shared by the test fixtures and bench/.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_process(
    command: list[str], cwd: Path, env: dict[str, str], log: Path
) -> subprocess.Popen:
    """Start a service in its own process group, logging to a file."""
    handle = log.open("w")
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_for_http(url: str, expected: str, timeout: float = 60.0) -> None:
    """Poll url until its body starts with expected, or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = requests.get(url, timeout=1)
            if response.ok and response.text.strip().startswith(expected):
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer '{expected}' within {timeout} s")


def stop_process(process: subprocess.Popen, timeout: float = 3) -> None:
    """Stop a service's whole process group: SIGTERM, then SIGKILL after `timeout` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def serving(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    log: Path,
    health: tuple[str, str],
    timeout: float = 90.0,
) -> Iterator[subprocess.Popen]:
    """A started service, once health (url, expected body start) answers; stopped after."""
    process = start_process(command, cwd, env, log)
    try:
        wait_for_http(*health, timeout=timeout)
        yield process
    finally:
        stop_process(process)
