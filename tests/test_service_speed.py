"""The service computes only what it answers: /invocations and /predict still equal the What-if
computation on the rows they return, the declines' reasons reach the log after the answer
(none lost on SIGTERM), and several workers each log, follow a promotion and drain on stop."""

from __future__ import annotations

import json
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from core.data.synthetic import demo_dataset
from core.decision_log.reader import read_decision_log
from core.record.manifest import read_manifest
from core.scoring.reason_codes import load_reason_codes
from core.scoring.scorer import scorer_for
from core.store.access import load_model
from tests.helpers import ROOT
from tests.helpers.processes import free_port, serving
from tests.helpers.serving_fixtures import Promoted, promote_run, promoted_copy

EXACT = 1e-9


def _applicants(n: int, seed: int = 11) -> list[dict]:
    """Demo applicants as JSON objects (missing values as null), with ids."""
    frame = demo_dataset(n_rows=max(n, 60), seed=seed).features.head(n)
    rows = json.loads(frame.to_json(orient="records"))
    return [{"id": f"app-{i}", **row} for i, row in enumerate(rows)]


def _whatif(promoted: Promoted, applicants: list[dict]):
    """The What-if computation (the run's model, the one Scorer) on the applicants."""
    settings = promoted.settings
    manifest = read_manifest(settings.promotion_manifest)
    model = load_model(settings.tracking_uri, manifest.run_id)
    frame = pd.DataFrame([{k: v for k, v in a.items() if k != "id"} for a in applicants])
    book = load_reason_codes(settings.reason_codes_file)
    return scorer_for(model).score(frame, manifest.threshold, reason_book=book)


def _serve(promoted: Promoted, workers: int, log: str):
    """`python -m core serve --workers N` over promoted (a context manager) and its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "core", "serve", "--workers", str(workers)]
    command += ["--port", str(port)]
    health = (f"{url}/health", '{"status":"ok"}')
    return url, serving(command, ROOT, promoted.env, promoted.folder / log, health)


@pytest.fixture(scope="module", name="state")
def state_fixture(promotion_template, promoted_states, tmp_path_factory) -> Promoted:
    """A promoted copy for this module."""
    return promoted_copy(promotion_template, promoted_states, tmp_path_factory.mktemp("speed"))


def _post(url: str, path: str, body: object, request_id: str) -> requests.Response:
    """POST JSON with a request id."""
    return requests.post(
        f"{url}{path}", json=body, headers={"X-Request-ID": request_id}, timeout=30
    )


def test_each_endpoint_computes_what_it_answers_and_logs_every_reason(state) -> None:
    # given a one-worker service and 60 applicants, some declined
    applicants = _applicants(60)
    expected = _whatif(state, applicants)
    declined = expected.scores["decision"].to_numpy() == "decline"
    assert declined.any() and not declined.all()
    url, context = _serve(state, 1, "one.log")
    with context as process:
        # when /invocations, /predict and /predict?reasons=all score them
        split = {
            "columns": list(applicants[0])[1:],
            "data": [list(a.values())[1:] for a in applicants],
        }
        invocations = _post(url, "/invocations", {"dataframe_split": split}, "inv-0").json()
        default = _post(url, "/predict", {"applicants": applicants}, "pred-0").json()
        every = _post(url, "/predict?reasons=all", {"applicants": applicants}, "pred-1").json()
        bad = _post(url, "/predict?reasons=some", {"applicants": applicants}, "pred-2")
        # and more /invocations requests are answered right before a SIGTERM
        ids = [f"burst-{i}" for i in range(20)]
        for request_id in ids:
            assert _post(url, "/invocations", {"dataframe_split": split}, request_id).ok
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
    # then /invocations gives the What-if probability to 1e-9
    probability = expected.scores["probability"].to_numpy()
    assert np.abs(np.asarray(invocations["predictions"]) - probability).max() <= EXACT
    # and /predict says which reasons it gives, and both modes equal the What-if output
    assert (default["reasons_for"], every["reasons_for"]) == ("declines", "all")
    assert bad.status_code == 400 and "reasons=all" in bad.json()["fix"]
    for body in (default, every):
        for i, item in enumerate(body["predictions"]):
            assert abs(item["probability_of_default"] - probability[i]) <= EXACT
            assert item["decision"] == expected.scores["decision"].iloc[i]
            texts = [t for t in expected.reasons.iloc[i].tolist() if t]
            assert [r["text"] for r in item["reasons"]] == texts
            for reason in item["reasons"]:
                want = expected.contributions.iloc[i][reason["feature"]]
                assert abs(reason["contribution"] - want) <= EXACT
    assert default["predictions"] == every["predictions"]
    # and the log holds every decision with its reasons: /invocations' declines logged null
    # before the answer, their reasons joined from the reasons records written after it
    folder = state.folder / "decisions"
    lines = [json.loads(x) for p in folder.glob("decisions-*.jsonl") for x in p.open()]
    burst = [r for r in lines if r["request_id"].startswith("burst-")]
    assert len(burst) == 20 * len(applicants)
    assert all(r["reasons"] is None for r in burst if r["decision"] == "decline")
    assert list(folder.glob("reasons-*.jsonl"))
    recent = read_decision_log(folder)
    want = [[n for n in row if n] for row in _reason_names(expected)]
    for request_id in ["inv-0", "pred-0", *ids]:
        rows = (recent.decisions["request_id"] == request_id).to_numpy()
        got = recent.reasons[rows].tolist()
        assert got == [w if d else [] for w, d in zip(want, declined, strict=True)], request_id
    assert not any("no reason codes" in note for note in recent.notes)


def _reason_names(result) -> list[list[str]]:
    """Per row, the names of the What-if reasons (declines only carry texts)."""
    from core.scoring.reason_codes import top_reason_features

    chosen = top_reason_features(result.contributions, result.reasons.shape[1], result.withheld)
    return chosen.tolist()


def _load(url: str, prefix: str, n: int) -> list[tuple[str, str, int]]:
    """n one-applicant /predict requests from 8 clients: (request id, run id, worker pid)."""
    body = {"applicants": _applicants(3)}

    def one(i: int) -> tuple[str, str, int]:
        response = _post(url, "/predict", body, f"{prefix}-{i}")
        assert response.ok, response.text
        ready = requests.get(f"{url}/ready", timeout=30).json()
        return f"{prefix}-{i}", response.headers["X-Run-ID"], ready["pid"]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def _load_both(url: str, prefix: str, n: int = 16, seconds: float = 60.0) -> list:
    """Rounds of _load until both workers have answered, or seconds have passed: a worker may
    still be loading its model, and the kernel spreads connections over the workers' sockets
    by hash, so one round may reach only one."""
    answers: list[tuple[str, str, int]] = []
    deadline = time.monotonic() + seconds
    while True:
        answers += _load(url, f"{prefix}{len(answers)}", n)
        if len({pid for _, _, pid in answers}) == 2 or time.monotonic() > deadline:
            return answers


def test_workers_each_log_follow_a_promotion_within_2_s_and_drain_on_stop(state) -> None:
    # given a two-worker service
    url, context = _serve(state, 2, "two.log")
    with context as process:
        versions = {json.dumps(requests.get(f"{url}/version", timeout=30).json()) for _ in range(8)}
        before = _load_both(url, "before")
        # when another run is promoted
        promote_run(state.settings, state.store.second)
        time.sleep(2.0)
        after = _load_both(url, "after")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    # then /version is identical on both workers
    assert len(versions) == 1
    assert len({pid for _, _, pid in before}) == 2
    # and 2 s after the promotion every worker answers with the promoted run
    assert {run for _, run, _ in after} == {state.store.second}
    assert len({pid for _, _, pid in after}) == 2
    # and each worker wrote its own files, holding every answered decision after the stop
    folder = state.folder / "decisions"
    names = sorted(p.name for p in folder.glob("decisions-*.w*.jsonl"))
    assert {Path(n).suffixes[0] for n in names} == {".w0", ".w1"}, names
    logged = set(read_decision_log(folder).decisions["request_id"])
    assert {request_id for request_id, _, _ in before + after} <= logged
