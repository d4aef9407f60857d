"""A tracking server's runs read newest page first, the rest in concurrent start-time windows."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
import requests
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from core.store import access, server_runs
from core.store.server_runs import ServerRunsCache
from tests.helpers.apptest_helpers import (
    exceptions,
    open_app,
    texts,
)
from ui.shared import cache

pytestmark = pytest.mark.server
N_RUNS = 30
BASE_TIME = 1_790_000_000_000
# Start times with ties: pairs share a millisecond, so a page boundary falls inside a tie.
START_TIMES = [BASE_TIME + 1000 * (i // 2) for i in range(N_RUNS)]


def _seed_experiment(uri: str) -> tuple[str, list[str]]:
    """A fresh experiment of N_RUNS runs (params, metrics, step-logged folds), one deleted."""
    client = MlflowClient(uri)
    experiment_id = client.create_experiment(f"windows-{uuid.uuid4().hex[:8]}")
    run_ids = []
    for i, start in enumerate(START_TIMES):
        run = client.create_run(experiment_id, start_time=start, run_name=f"run {i} <b>&")
        folds = [Metric("cv_auc", 0.7 + 0.01 * k + 0.001 * i, start, k) for k in range(3)]
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("val_auc", 0.7 + 0.001 * i, start, 0), *folds],
            params=[Param("num_leaves", str(8 + i))],
        )
        client.set_terminated(run.info.run_id, end_time=start + 500)
        run_ids.append(run.info.run_id)
    client.delete_run(run_ids.pop(3))
    return experiment_id, run_ids


@pytest.fixture(scope="module")
def windows_experiment(server_store) -> tuple[str, str, list[str]]:
    """(server URI, experiment id, live run ids) of the seeded experiment."""
    experiment_id, run_ids = _seed_experiment(server_store.uri)
    return server_store.uri, experiment_id, run_ids


def _reader(uri: str, experiment_id: str, first_page: int) -> server_runs.ServerRunsReader:
    """A reader with a small first page, so 29 runs leave older ones to read."""
    return server_runs.ServerRunsReader(MlflowClient(uri), experiment_id, first_page)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in run-id order, columns by name, for comparing two reads."""
    return frame.sort_values("run_id").reset_index(drop=True).sort_index(axis=1)


@pytest.mark.parametrize("first_page", [1, 7, 8, 28, 29, 100])
def test_windowed_read_equals_one_whole_search(windows_experiment, first_page) -> None:
    """Every live run once, with its folds, whatever page boundary (ties included) is hit."""
    uri, experiment_id, run_ids = windows_experiment
    reader = _reader(uri, experiment_id, first_page)
    first = reader.read_first_page()
    assert len(first.table.runs) == min(first_page, len(run_ids))
    assert first.complete == (first_page >= len(run_ids))
    whole = reader.read_rest() if not first.complete else first
    assert whole.complete and whole.error is None
    assert sorted(whole.table.runs["run_id"]) == sorted(run_ids)
    searched = MlflowClient(uri).search_runs([experiment_id], max_results=1000)
    assert {r.info.run_id for r in searched} == set(run_ids)
    reference = access.load_runs_table(MlflowClient(uri), uri, experiment_id)
    pd.testing.assert_frame_equal(_sorted(whole.table.runs), _sorted(reference.runs))
    assert whole.table.runs["cv_auc_mean"].notna().all()


def test_the_newest_page_comes_first(windows_experiment) -> None:
    """The first page is the newest runs, so a page shows recent work at once."""
    uri, experiment_id, _run_ids = windows_experiment
    first = _reader(uri, experiment_id, 5).read_first_page()
    newest = pd.Series(START_TIMES).drop(3).nlargest(5)
    shown = [int(t.timestamp() * 1000) for t in first.table.runs["start_time"]]
    assert sorted(shown) == sorted(newest)


def test_background_read_and_renewal(windows_experiment) -> None:
    """The cache answers the first page at once, the whole read later, and renews it when old."""
    uri, experiment_id, run_ids = windows_experiment
    cache = ServerRunsCache(lambda: _reader(uri, experiment_id, 6), min_age=0.0)
    first = cache.current()
    assert not first.complete and len(first.table.runs) == 6
    progress = _wait(cache, lambda p: p.complete)
    assert sorted(progress.table.runs["run_id"]) == sorted(run_ids)
    client = MlflowClient(uri)
    added = client.create_run(experiment_id, start_time=BASE_TIME + 99_000_000).info.run_id
    try:
        renewed = _wait(cache, lambda p: added in set(p.table.runs["run_id"]))
        assert renewed.complete and len(renewed.table.runs) == len(run_ids) + 1
    finally:
        client.delete_run(added)


def _wait(cache: ServerRunsCache, done, timeout: float = 60.0) -> server_runs.RunsProgress:
    """Poll the cache until done(progress) or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = cache.current()
        if done(progress):
            return progress
        time.sleep(0.1)
    raise AssertionError(f"the read did not get there in {timeout} s: {progress}")


def test_runs_page_shows_the_newest_runs_then_all(windows_experiment, app_env, monkeypatch):
    """The page says it is still reading, then shows every run once the read is whole."""
    uri, experiment_id, run_ids = windows_experiment
    name = MlflowClient(uri).get_experiment(experiment_id).name
    monkeypatch.setattr(server_runs, "FIRST_PAGE_RUNS", 4)
    app_env(uri, MLFLOW_EXPERIMENT_NAME=name)
    # app.py opens on Runs: its first run is the one that reads the first page
    at = open_app()
    assert not exceptions(at)
    # The banner is drawn right after the first page is read, long before 8 windows are.
    assert "Showing the newest 4 runs while the older ones are read" in texts(at)
    deadline = time.monotonic() + 60
    while "while the older ones are read" in texts(at) and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    assert not exceptions(at)
    assert "while the older ones are read" not in texts(at)
    assert f"{len(run_ids)} run(s) in" in texts(at)


class _CuttableProxy(ThreadingHTTPServer):
    """An HTTP proxy to the real tracking server that can stop answering run searches.

    `searches_allowed` run searches go through; later ones get a 503, as from a server that
    went down in the middle of a read. Every other request is forwarded as it is.
    """

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _ForwardingHandler)
        self.upstream = upstream
        self.searches_allowed: int | None = None

    @property
    def uri(self) -> str:
        """The proxy's tracking URI."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ForwardingHandler(BaseHTTPRequestHandler):
    """Forward one request upstream, or refuse a run search past the allowance."""

    server: _CuttableProxy

    def _forward(self) -> None:
        """Answer the request from the upstream server, or with a 503."""
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.split("?")[0].endswith("/runs/search") and self._refuse_search():
            self._answer(503, b"server went down", {"Content-Type": "text/plain"})
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host"}}
        response = requests.request(
            self.command, self.server.upstream + self.path, data=body, headers=headers, timeout=60
        )
        kept = {"Content-Type": response.headers.get("Content-Type", "application/json")}
        self._answer(response.status_code, response.content, kept)

    def _refuse_search(self) -> bool:
        """Count a run search against the allowance; True when it must be refused."""
        with _PROXY_LOCK:
            allowed = self.server.searches_allowed
            if allowed is None:
                return False
            self.server.searches_allowed = allowed - 1
            return allowed <= 0

    def _answer(self, status: int, content: bytes, headers: dict[str, str]) -> None:
        """Send a whole response."""
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(content))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PATCH = do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


_PROXY_LOCK = threading.Lock()


@pytest.fixture()
def cuttable_server(server_store) -> Iterator[_CuttableProxy]:
    """A proxy to the session's tracking server, answering until told to refuse searches."""
    proxy = _CuttableProxy(server_store.uri)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_a_read_cut_short_keeps_the_newest_runs_and_says_why(
    windows_experiment, cuttable_server, app_env, monkeypatch
) -> None:
    """The server goes down after the first page: the page keeps it, warns, and Reload recovers."""
    _uri, experiment_id, run_ids = windows_experiment
    proxy = cuttable_server
    name = MlflowClient(proxy.uri).get_experiment(experiment_id).name
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # fail at once, not after backoff
    monkeypatch.setattr(server_runs, "FIRST_PAGE_RUNS", 4)
    app_env(proxy.uri, MLFLOW_EXPERIMENT_NAME=name)
    # given a server that answers the newest page's search and then goes down
    proxy.searches_allowed = 1
    at = open_app()
    deadline = time.monotonic() + 60
    while "Showing only the newest" not in texts(at) and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    # then the page keeps the four runs it has and says why the rest is missing, and what to do
    assert not exceptions(at)
    warning = next(w.value for w in at.warning if "Showing only the newest 4 runs" in w.value)
    assert f"Could not read the runs of experiment {experiment_id}" in warning
    assert "press 'Reload runs'" in warning
    assert "4 run(s) in" in texts(at)
    # when the server is back and the analyst presses Reload runs
    proxy.searches_allowed = None
    # (AppTest does not keep app.py's sidebar elements: do what the Reload button does)
    cache.clear_all()
    at.run()
    deadline = time.monotonic() + 60
    while f"{len(run_ids)} run(s) in" not in texts(at) and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    # then every run is read and the warning is gone
    assert not exceptions(at)
    assert f"{len(run_ids)} run(s) in" in texts(at)
    assert "Showing only the newest" not in texts(at)
