"""Run an app on a free loopback port inside this process (promotion's smoke test, benches)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from core.serving.errors import ServiceStartError

LOOPBACK = "127.0.0.1"
START_TIMEOUT_SECONDS = 15.0


@contextlib.contextmanager
def serve_in_thread(app: FastAPI, host: str = LOOPBACK) -> Iterator[str]:
    """Serve app over real HTTP from a thread; yields its base URL, stops it on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="scoring-service", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise ServiceStartError(
                "The scoring service did not start on a loopback port.",
                fix="Check that loopback networking is available.",
            )
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
