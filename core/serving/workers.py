"""Several service workers on one port: `python -m core serve --workers N`.

The parent binds one listening socket per worker on the port (SO_REUSEPORT, after checking that
no other process holds the port) and starts N worker processes (spawned, so none inherits
LightGBM's threads). Each worker verifies and loads the promoted model itself, follows
promotions with its own watcher (core.serving.model_holder) and writes its own decision-log
files (decisions-YYYY-MM-DD.w<N>.jsonl, reasons-... likewise). The kernel spreads new
connections evenly over the workers' sockets (with one shared socket, the worker whose loop was
idle took a burst of keep-alive connections, and the others' cores sat idle). A restarted worker
gets its predecessor's socket, with the connections waiting in it. SIGTERM or SIGINT to the
parent is passed to every worker, each of which drains its requests, its background reasons
and its decision log before it exits; a worker that dies is started again. Workers ask the
kernel for SIGTERM when the parent dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess

from core.errors import GovernanceError
from core.serving.errors import ServiceStartError
from core.settings import Settings

MAX_DEFAULT_WORKERS = 8
STOP_TIMEOUT_SECONDS = 60.0
_PR_SET_PDEATHSIG = 1
_LOG = logging.getLogger(__name__)


def default_workers() -> int:
    """The number of cores this process may use, capped at MAX_DEFAULT_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def _socket(host: str, port: int, share: bool) -> socket.socket:
    """A TCP socket bound to host:port (SO_REUSEPORT when share)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def bind(host: str, port: int, count: int = 1) -> list[socket.socket]:
    """count listening sockets on host:port, one per worker; ServiceStartError naming the
    address when it cannot be bound (another process holds the port: a plain bind is tried
    first, as SO_REUSEPORT alone would share it; or the host is not this machine's)."""
    try:
        return _listening(host, port, count)
    except OSError as exc:
        raise ServiceStartError(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}).",
            fix="Stop the process that holds the port, or pass --port with a free one "
            "(--host must be an address of this machine).",
        ) from exc


def _listening(host: str, port: int, count: int) -> list[socket.socket]:
    """bind's sockets, or the OSError of the first that fails (none is left open)."""
    if count == 1 or not hasattr(socket, "SO_REUSEPORT"):
        sockets = [_socket(host, port, share=False)]
    else:
        _socket(host, port, share=False).close()
        sockets = []
        try:
            for _ in range(count):
                sockets.append(_socket(host, port, share=True))
        except OSError:
            for sock in sockets:
                sock.close()
            raise
    for sock in sockets:
        sock.listen(2048)
        sock.set_inheritable(True)
    return sockets


def _die_with_parent() -> None:
    """Ask Linux for SIGTERM when the parent dies (a SIGKILLed parent leaves no orphan)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def serve_worker(settings: Settings, worker: int, sock: socket.socket, reasons_for: str) -> None:
    """One worker: verify and load the model, then serve on the shared socket until SIGTERM."""
    _die_with_parent()
    import uvicorn

    from core.serving.app import app_from_settings

    try:
        app = app_from_settings(settings, worker=worker, reasons_for=reasons_for)
    except GovernanceError as exc:
        sys.stderr.write(f"worker {worker}: {exc.message} {exc.fix or ''}\n")
        sys.exit(2)
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """Starts the workers, restarts one that dies, and stops them all on SIGTERM/SIGINT."""

    def __init__(
        self, settings: Settings, sockets: list[socket.socket], count: int, reasons_for: str
    ):
        """Workers 0..count-1, worker i on sockets[i] (or all on the one socket given)."""
        self.settings = settings
        self.sockets = sockets
        self.reasons_for = reasons_for
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[BaseProcess | None] = [None] * count
        self.stopping = threading.Event()

    def _start(self, index: int) -> None:
        """Start worker index."""
        process = self.context.Process(
            target=serve_worker,
            args=(self.settings, index, self.sockets[index % len(self.sockets)], self.reasons_for),
            name=f"scoring-worker-{index}",
        )
        process.start()
        self.workers[index] = process

    def _stop(self, signum: int, _frame: object) -> None:
        """Pass the stop to every worker."""
        self.stopping.set()
        for process in self.workers:
            if process is not None and process.pid and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)

    def run(self) -> int:
        """Serve until stopped; 0 after a graceful stop, 2 when a worker cannot start."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for index in range(len(self.workers)):
            self._start(index)
        while not self.stopping.is_set():
            self.stopping.wait(0.5)
            for index, process in enumerate(self.workers):
                if process is None or process.is_alive() or self.stopping.is_set():
                    continue
                if process.exitcode == 2:  # the model cannot be served: stop everything
                    self._stop(signal.SIGTERM, None)
                    return 2
                _LOG.error("worker %d exited (%s); starting it again", index, process.exitcode)
                time.sleep(0.5)
                self._start(index)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in self.workers:
            if process is not None:
                process.join(max(0.0, deadline - time.monotonic()))
        return 0


def reasons_setting(environ: dict[str, str] | os._Environ) -> str:
    """SCORING_REASONS: which applicants /predict explains by default (declines | all)."""
    raw = environ.get("SCORING_REASONS", "").strip().lower() or "declines"
    if raw not in ("declines", "all"):
        raise GovernanceError(
            f"SCORING_REASONS '{raw}' is not supported.",
            fix="Set it to declines (the default: reasons for declined applicants) or all.",
        )
    return raw
