"""The service as a real process under abuse: a SIGKILL under load loses no answered decision, a
failed log write is a 503, a half-sent body gets 408, and /health answers while a large body is
parsed."""

from __future__ import annotations

import json
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient

from core.data.synthetic import demo_dataset
from core.decision_log.writer import DecisionLog
from core.serving.app import create_app
from core.serving.model_holder import ModelHolder, load_promoted
from core.serving.service_state import ServiceState
from tests.helpers import ROOT
from tests.helpers.processes import free_port, serving
from tests.helpers.serving_fixtures import Promoted, promoted_copy

LOAD_CLIENTS = 4
KILL_ROUNDS = 5
BODY_TIMEOUT = "1"


@dataclass(frozen=True)
class Running:
    """A service process, its URL and the state it serves."""

    url: str
    promoted: Promoted
    process: object


def _start(promoted: Promoted, log_name: str, **env: str):
    """`python -m core serve` over promoted on a free port (a context manager)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "core", "serve", "--workers", "1", "--port", str(port)]
    health = (f"{url}/health", '{"status":"ok"}')
    return url, serving(command, ROOT, {**promoted.env, **env}, promoted.folder / log_name, health)


@pytest.fixture(scope="module", name="promoted_state")
def promoted_state_fixture(promotion_template, promoted_states, tmp_path_factory) -> Promoted:
    """A promoted copy shared by this module's services."""
    return promoted_copy(promotion_template, promoted_states, tmp_path_factory.mktemp("resil"))


@pytest.fixture(scope="module", name="running")
def running_fixture(promoted_state: Promoted) -> Iterator[Running]:
    """A service with a 1 s body timeout and the default applicant limit (40 MB bodies)."""
    url, context = _start(
        promoted_state, "limits.log", SCORING_BODY_TIMEOUT=BODY_TIMEOUT, SCORING_MAX_APPLICANTS=""
    )
    with context as process:
        yield Running(url, promoted_state, process)


def _applicants(n: int) -> list[dict]:
    """Demo applicants as JSON objects."""
    frame = demo_dataset(n_rows=max(n, 10), seed=5).features.head(n)
    return json.loads(frame.to_json(orient="records"))


def _load(url: str, prefix: str, answered: list[str], stop: threading.Event) -> None:
    """Post one applicant at a time until stopped or refused; record the ids answered 200."""
    body = {"applicants": _applicants(2)}
    n = 0
    while not stop.is_set():
        request_id = f"{prefix}-{n}"
        n += 1
        try:
            response = requests.post(
                f"{url}/predict", json=body, headers={"X-Request-ID": request_id}, timeout=10
            )
        except requests.RequestException:
            return
        if response.status_code == 200:
            answered.append(request_id)


def _logged_ids(folder: Path) -> set[str]:
    """Request ids in the decision log (a torn last line, if any, is skipped)."""
    ids = set()
    for path in folder.glob("decisions-*.jsonl"):
        for line in path.read_text("utf-8").splitlines():
            try:
                ids.add(json.loads(line)["request_id"])
            except json.JSONDecodeError:
                continue
    return ids


def test_a_sigkill_under_load_loses_no_answered_decision(promoted_state) -> None:
    missing: list[str] = []
    answered_total = 0
    for round_number in range(KILL_ROUNDS):
        # given a service under a bounded load of LOAD_CLIENTS clients
        url, context = _start(promoted_state, f"kill-{round_number}.log")
        answered: list[str] = []
        stop = threading.Event()
        with context as process:
            clients = [
                threading.Thread(target=_load, args=(url, f"k{round_number}c{c}", answered, stop))
                for c in range(LOAD_CLIENTS)
            ]
            for client in clients:
                client.start()
            while len(answered) < 40:
                time.sleep(0.01)
            # when it is killed with SIGKILL mid-load
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            stop.set()
            for client in clients:
                client.join(timeout=15)
        # then every decision answered 200 is in the log
        logged = _logged_ids(promoted_state.folder / "decisions")
        missing += [request_id for request_id in answered if request_id not in logged]
        answered_total += len(answered)
    assert answered_total >= KILL_ROUNDS * 40
    assert missing == [], f"{len(missing)} of {answered_total} answered decisions not logged"


def test_a_failed_log_write_answers_503_saying_so(promoted_state, tmp_path) -> None:
    # given a service whose decision log folder cannot be created (a file is in the way)
    blocked = tmp_path / "decisions"
    blocked.write_text("not a folder")
    settings = promoted_state.settings
    loaded = load_promoted(settings.promotion_manifest, settings.reason_codes_file)
    log = DecisionLog(blocked)
    state = ServiceState(ModelHolder(loaded), log, settings.scoring_max_applicants)
    # when an applicant is scored
    with TestClient(create_app(state)) as client:
        response = client.post("/predict", json=_applicants(1)[0])
    log.close()
    # then no unlogged 200: a 503 says the decisions could not be logged
    assert response.status_code == 503, response.text
    assert "could not be logged" in response.json()["message"]
    assert log.failed == 1 and log.written == 0


def _read_until_closed(sock: socket.socket) -> str:
    """Everything the server sends until it closes the connection (or 15 s pass)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_half_sent_body_gets_408_after_the_body_timeout(running) -> None:
    # given a client that announces 1,000 bytes and sends 10
    port = int(running.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"credit_'
        )
        started = time.monotonic()
        # when it waits (the answer may arrive in several reads: headers, then the body)
        answer = _read_until_closed(sock)
        waited = time.monotonic() - started
    # then the service answers 408 after about the configured second and says why
    assert answer.startswith("HTTP/1.1 408"), answer[:200]
    assert "did not arrive within 1 s" in answer
    assert waited < 10


def _health_latencies(url: str, busy: threading.Event) -> list[float]:
    """/health round-trip times measured while busy is set."""
    latencies: list[float] = []
    with requests.Session() as session:
        while busy.is_set():
            started = time.perf_counter()
            assert session.get(f"{url}/health", timeout=10).ok
            latencies.append(time.perf_counter() - started)
            time.sleep(0.005)
    return latencies


def _slowest_health_while_posting(url: str, body: bytes) -> tuple[float, int, int]:
    """The slowest /health answer while body is posted to /invocations, the number of /health
    answers, and the post's status."""
    busy = threading.Event()
    busy.set()
    results: dict[str, requests.Response] = {}

    def post() -> None:
        time.sleep(0.05)
        results["response"] = requests.post(
            f"{url}/invocations", data=body, headers={"Content-Type": "application/json"},
            timeout=60,
        )  # fmt: skip
        busy.clear()

    poster = threading.Thread(target=post)
    poster.start()
    latencies = _health_latencies(url, busy)
    poster.join()
    return max(latencies), len(latencies), results["response"].status_code


def test_health_answers_within_100_ms_while_a_6_mb_body_is_parsed(running) -> None:
    # given a 6 MB body of 6,000 applicants that parses and validates in full, then fails
    rows = [{**row, "note": "x" * 900} for row in _applicants(10)] * 600
    rows[-1] = {k: v for k, v in rows[-1].items() if k != "credit_score"}
    body = json.dumps({"dataframe_records": rows}).encode()
    assert len(body) > 6_000_000
    # when /health is asked every 5 ms while it is posted (up to three attempts: on this shared
    # machine the OS alone sometimes leaves a process unscheduled for over 100 ms; a service
    # that parses on its event loop stalls /health for a second or more in every attempt)
    attempts = []
    for _ in range(3):
        attempts.append(_slowest_health_while_posting(running.url, body))
        if attempts[-1][0] < 0.1:
            break
    # then the big body got its answer (the missing feature), and /health never waited 100 ms
    slowest, answers, status = attempts[-1]
    assert status == 422 and answers >= 5
    assert slowest < 0.1, attempts
