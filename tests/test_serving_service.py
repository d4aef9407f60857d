"""The scoring service as a real uvicorn process: scoring, What-if equality, bad input, MLflow
formats, hot reload under load, and a SIGTERM that flushes the decision log (last test)."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
import requests

from core.cli.main import main
from core.data.synthetic import demo_dataset
from core.decision_log.contract import LOG_KEYS as DECISION_LOG_KEYS
from core.promotion import use_cases as promotion
from core.record.manifest import read_manifest
from core.scoring.reason_codes import load_reason_codes
from core.scoring.scorer import scorer_for
from core.store.access import load_model
from tests.helpers.apptest_helpers import exceptions, open_page, texts
from tests.helpers.processes import free_port
from tests.helpers.serving_fixtures import MAX_APPLICANTS, SERVED_THRESHOLD, promote_run

EXACT = 1e-9
# The writer must write exactly what Monitoring's reader reads: one contract, one list.
LOG_KEYS = set(DECISION_LOG_KEYS)


def _applicants(n: int = 12, seed: int = 3) -> list[dict]:
    """Demo applicants as JSON objects (missing values as null), with ids."""
    frame = demo_dataset(n_rows=max(n, 10), seed=seed).features.head(n)
    rows = json.loads(frame.to_json(orient="records"))
    return [{"id": f"app-{i}", **row} for i, row in enumerate(rows)]


def _whatif(service, applicant: dict):
    """What the What-if page computes for one applicant: the run's model, the one Scorer."""
    settings = service.promoted.settings
    manifest = read_manifest(settings.promotion_manifest)
    model = load_model(settings.tracking_uri, manifest.run_id)
    frame = pd.DataFrame([{k: v for k, v in applicant.items() if k != "id"}])
    frame = frame.astype({c: "float64" for c in frame.columns if frame[c].isna().all()})
    book = load_reason_codes(settings.reason_codes_file)
    return scorer_for(model).score(frame, manifest.threshold, reason_book=book)


def test_version_and_ready_name_the_promoted_model(service) -> None:
    # given a service started on a promoted run
    manifest = read_manifest(service.promoted.settings.promotion_manifest)
    # when /version and /ready are asked
    version = service.get("/version").json()
    ready = service.get("/ready")
    # then they name the manifest's run, export, threshold and ledger entry
    assert version["run_id"] == manifest.run_id
    assert version["model_sha256"] == manifest.exported_model_sha256
    assert version["threshold"] == manifest.threshold == SERVED_THRESHOLD
    assert version["ledger_entry_hash"] == manifest.ledger_entry_hash
    assert version["promoted_by"] == "alice" and version["promoted_at"] == manifest.promoted_at
    assert version["manifest_schema_version"] == manifest.schema_version
    assert version["experiment"]["name"] == manifest.experiment_name
    assert {"fastapi", "uvicorn", "lightgbm", "python"} <= set(version["packages"])
    assert ready.status_code == 200 and ready.json()["ready"] is True


def test_explain_equals_the_whatif_computation(service) -> None:
    # given applicants, some declined, one with a missing value
    applicants = _applicants(12)
    applicants[0]["annual_income"] = None
    # when /explain scores them
    response = service.post("/explain", {"applicants": applicants})
    assert response.status_code == 200
    body = response.json()
    assert body["run_id"] == response.headers["X-Run-ID"]
    # then each prediction equals the What-if page's numbers for that applicant, to 1e-9
    declined = 0
    for applicant, item in zip(applicants, body["predictions"], strict=True):
        expected = _whatif(service, applicant)
        row = expected.scores.iloc[0]
        assert item["id"] == applicant["id"]
        assert abs(item["probability_of_default"] - row["probability"]) <= EXACT
        assert abs(item["raw_score"] - row["raw_score"]) <= EXACT
        assert abs(item["base_value"] - expected.base_value) <= EXACT
        assert item["decision"] == row["decision"]
        contributions = expected.contributions.iloc[0]
        assert list(item["contributions"]) == list(contributions.index)
        gaps = [abs(item["contributions"][k] - contributions[k]) for k in contributions.index]
        assert max(gaps) <= EXACT
        texts = [t for t in expected.reasons.iloc[0].tolist() if t]
        assert [r["text"] for r in item["reasons"]] == texts
        declined += row["decision"] == "decline"
        total = sum(item["contributions"].values()) + item["base_value"]
        assert abs(total - item["raw_score"]) <= 1e-6
    assert declined, "the sample should hold at least one decline with reasons"


def test_predict_warns_and_echoes_the_request_id(service) -> None:
    # given one applicant (not wrapped) with an unknown field, an unseen category,
    # an out-of-range value and a missing value
    applicant = _applicants(1)[0]
    applicant.update(
        {"nickname": "x", "home_ownership": "CASTLE", "credit_score": 9999, "loan_amount": None}
    )
    # when it is scored with a client request id
    response = service.post("/predict", applicant, headers={"X-Request-ID": "client-42"})
    # then it is scored, every oddity is listed, the id is echoed, no SHAP is attached
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "client-42"
    item = response.json()["predictions"][0]
    notes = " | ".join(item["warnings"])
    assert "unknown field 'nickname'" in notes
    assert "home_ownership: category 'CASTLE' was never seen" in notes
    assert "credit_score: 9999 is outside the training range" in notes
    assert "loan_amount: missing value" in notes
    assert "contributions" not in item and item["decision"] in ("approve", "decline")


def _numbers(**changes) -> bytes:
    """A one-applicant body with changes applied, serialised allowing NaN/Infinity."""
    applicant = _applicants(1)[0]
    applicant.update(changes)
    return json.dumps({"applicants": [applicant]}).encode()


def _without(name: str) -> bytes:
    """A body whose applicant lacks one feature."""
    applicant = _applicants(1)[0]
    del applicant[name]
    return json.dumps({"applicants": [applicant]}).encode()


BAD_INPUTS = [
    ("empty", b"", 400, "body", "empty"),
    ("malformed", b'{"applicants": [', 400, "body", "not valid JSON"),
    ("not an object", b"[1, 2]", 422, "body", "must be a JSON object"),
    ("applicants not a list", b'{"applicants": 3}', 422, "applicants", "must be a list"),
    ("no applicants", b'{"applicants": []}', 422, "applicants", "no applicants"),
    ("applicant not an object", b'{"applicants": [7]}', 422, "applicants[0]", "object"),
    ("text for a number", _numbers(credit_score="700"), 422, "credit_score", "must be a number"),
    ("bool for a number", _numbers(credit_score=True), 422, "credit_score", "must be a number"),
    ("list for a category", _numbers(home_ownership=[1]), 422, "home_ownership", "category"),
    ("NaN", _numbers(debt_to_income=float("nan")), 422, "debt_to_income", "NaN"),
    ("infinity", _numbers(loan_amount=float("inf")), 422, "loan_amount", "Infinity"),
    ("huge integer", _numbers(credit_score=10**400), 422, "credit_score", "too large"),
    ("missing feature", _without("term_months"), 422, "applicants[0].term_months", "missing"),
    ("object as id", _numbers(id={"a": 1}), 422, "applicants[0].id", "text"),
]


@pytest.mark.parametrize(("body", "status", "field", "words"), [c[1:] for c in BAD_INPUTS],
                         ids=[c[0] for c in BAD_INPUTS])  # fmt: skip
def test_bad_input_gets_a_4xx_naming_the_field(service, body, status, field, words) -> None:
    # when a bad body is posted to both scoring endpoints
    for path in ("/predict", "/explain"):
        response = requests.post(
            f"{service.url}{path}",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        # then the answer is the 4xx that names the field, its problem and a fix
        assert response.status_code == status, response.text
        error = response.json()
        assert field in error["problems"][0]["field"]
        assert words.lower() in error["message"].lower()
        assert error["fix"] and error["request_id"] == response.headers["X-Request-ID"]
    # and the service stays up
    assert service.get("/health").json() == {"status": "ok"}


def test_too_large_requests_get_413(service) -> None:
    # given the service's limit of MAX_APPLICANTS applicants per request
    many = {"applicants": _applicants(1) * (MAX_APPLICANTS + 1)}
    # when more are sent, or a body over the byte limit
    too_many = service.post("/predict", many)
    too_big = requests.post(
        f"{service.url}/predict",
        data=b" " * (MAX_APPLICANTS * 4096 + 1),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    # then both are refused with 413 and say how to split
    assert too_many.status_code == 413 and f"{MAX_APPLICANTS:,}" in too_many.json()["message"]
    assert too_big.status_code == 413 and "Split" in too_big.json()["fix"]


def _split(rows: list[dict]) -> dict:
    """dataframe_split of rows."""
    columns = [k for k in rows[0] if k != "id"]
    return {"columns": columns, "data": [[r[c] for c in columns] for r in rows]}


INVOCATION_FORMATS = {
    "dataframe_split": lambda rows: {"dataframe_split": _split(rows)},
    "dataframe_records": lambda rows: {"dataframe_records": rows},
    "instances": lambda rows: {"instances": rows},
    "inputs (columnar)": lambda rows: {"inputs": {k: [r[k] for r in rows] for k in rows[0]}},
}


@pytest.mark.parametrize("fmt", [*INVOCATION_FORMATS, "text/csv"])
def test_invocations_accepts_mlflow_formats(service, fmt) -> None:
    # given applicants and the probabilities /predict gives them
    rows = _applicants(6)
    expected = [p["probability_of_default"] for p in service.post(
        "/predict", {"applicants": rows}).json()["predictions"]]  # fmt: skip
    # when they are sent in an MLflow scoring format
    if fmt == "text/csv":
        csv = pd.DataFrame(rows).drop(columns="id").to_csv(index=False)
        response = requests.post(
            f"{service.url}/invocations",
            data=csv.encode(),
            headers={"Content-Type": "text/csv"},
            timeout=30,
        )
    else:
        response = service.post("/invocations", INVOCATION_FORMATS[fmt](rows))
    # then the answer is MLflow's shape with the same probabilities
    assert response.status_code == 200, response.text
    np.testing.assert_allclose(response.json()["predictions"], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("payload", "content_type", "status", "words"),
    [
        (b'{"instances": [], "inputs": []}', "application/json", 400, "exactly one"),
        (b'{"rows": []}', "application/json", 400, "exactly one"),
        (b'{"instances": [[1, 2]]}', "application/json", 422, "row objects"),
        (b'{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}', "application/json", 422,
         "one per column"),
        (b"<xml/>", "application/xml", 415, "content types"),
        (b"credit_score\nabc\n", "text/csv", 422, "must be a number"),
    ],
)  # fmt: skip
def test_invocations_refuses_bad_requests(service, payload, content_type, status, words) -> None:
    response = requests.post(
        f"{service.url}/invocations",
        data=payload,
        headers={"Content-Type": content_type},
        timeout=30,
    )
    assert response.status_code == status, response.text
    assert words in response.json()["message"]


def test_features_are_accepted_as_the_training_data_spelled_them(service) -> None:
    # given an applicant whose features use the training data's spaces ('credit score' for
    # LightGBM's credit_score), as the dashboard's uploads may
    applicant = _applicants(1)[0]
    spaced = {k.replace("_", " ") if k != "id" else k: v for k, v in applicant.items()}
    # when it is scored
    for path in ("/predict", "/explain"):
        response = service.post(path, {"applicants": [applicant, spaced]})
        # then it is the same applicant, with no warning about unknown fields
        assert response.status_code == 200, response.text
        first, second = response.json()["predictions"]
        assert second["probability_of_default"] == first["probability_of_default"]
        assert not [w for w in second["warnings"] if "unknown field" in w]
    # and so is it through the MLflow protocol, as JSON and as CSV
    mlflow_split = service.post("/invocations", {"dataframe_split": _split([spaced])})
    csv = pd.DataFrame([spaced]).drop(columns="id").to_csv(index=False).encode()
    mlflow_csv = requests.post(
        f"{service.url}/invocations", data=csv, headers={"Content-Type": "text/csv"}, timeout=30
    )
    for answer in (mlflow_split, mlflow_csv):
        assert answer.json()["predictions"] == [first["probability_of_default"]], answer.text
    # when one feature is given under both names
    both = dict(applicant, **{"credit score": 500})
    response = service.post("/predict", {"applicants": [applicant, both]})
    # then the answer is a 422 naming both spellings
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["field"] == "applicants[1].credit_score"
    assert "'credit_score' and 'credit score' both name the model feature" in problem["message"]
    # and /version and the OpenAPI schema document the names accepted
    assert service.get("/version").json()["feature_aliases"]["credit score"] == "credit_score"
    body = service.get("/openapi.json").json()["paths"]["/predict"]["post"]["requestBody"]
    assert "`credit score` for `credit_score`" in body["description"]


def test_docs_carry_an_example_built_from_the_model(service) -> None:
    schema = service.get("/openapi.json").json()
    example = schema["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    applicant = example["example"]["applicants"][0]
    assert set(service.get("/version").json()["features"]) <= set(applicant)
    assert service.post("/predict", example["example"]).status_code == 200
    assert service.get("/docs").status_code == 200


def _request_loop(service, stop: threading.Event, seen: list, failures: list) -> None:
    """POST /predict until stopped, recording (run_id, threshold) or the failure."""
    body = {"applicants": _applicants(2)}
    session = requests.Session()
    while not stop.is_set():
        try:
            response = session.post(f"{service.url}/predict", json=body, timeout=30)
            data = response.json()
            if response.status_code != 200 or data["run_id"] != response.headers["X-Run-ID"]:
                failures.append(response.text[:300])
                continue
            seen.append((data["run_id"], data["threshold"]))
        except (requests.RequestException, ValueError, KeyError) as exc:
            failures.append(repr(exc))


def _wait_for_run(service, run_id: str, seen: list, timeout: float = 30.0) -> None:
    """Wait until the request loop has been answered by run_id (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if seen and seen[-1][0] == run_id:
            return
        time.sleep(0.05)
    raise AssertionError(f"the service never answered with run {run_id}")


def test_hot_reload_under_load_never_fails_and_never_mixes(service) -> None:
    # given two clients scoring in a loop against the first promoted run
    settings = service.promoted.settings
    store = service.promoted.store
    stop, seen, failures = threading.Event(), [], []
    clients = [
        threading.Thread(target=_request_loop, args=(service, stop, seen, failures))
        for _ in range(2)
    ]
    for client in clients:
        client.start()
    try:
        # when the second run is promoted at another threshold, then rolled back
        promote_run(settings, store.second, threshold=0.3)
        _wait_for_run(service, store.second, seen)
        promotion.rollback(settings, by="bob", reason="serving test")
        _wait_for_run(service, store.first, seen)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)
    # then no request failed, and each answer names one run with that run's threshold
    assert not failures, failures[:3]
    assert set(seen) == {(store.first, SERVED_THRESHOLD), (store.second, 0.3)}
    assert service.get("/ready").json()["ready"] is True


def test_a_bad_new_manifest_keeps_the_old_model_and_ready_says_why(service) -> None:
    # given the service in step with the manifest
    path = service.promoted.settings.promotion_manifest
    good = path.read_bytes()
    served = service.get("/version").json()["run_id"]
    try:
        # when the manifest is edited by hand
        edited = json.loads(good)
        edited["threshold"] = 0.2
        path.write_text(json.dumps(edited))
        deadline = time.monotonic() + 30
        while service.get("/ready").status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        # then /ready says why, and the old model (and threshold) keeps serving
        ready = service.get("/ready")
        assert ready.status_code == 503
        assert "cannot be trusted" in ready.json()["detail"] and served in ready.json()["detail"]
        answer = service.post("/predict", {"applicants": _applicants(1)}).json()
        assert (answer["run_id"], answer["threshold"]) == (served, SERVED_THRESHOLD)
    finally:
        path.write_bytes(good)
    deadline = time.monotonic() + 30
    while service.get("/ready").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert service.get("/ready").status_code == 200


def test_promote_verify_compares_the_live_service(service, monkeypatch, capsys) -> None:
    # given SCORING_URL pointing at the running service, then at a port nobody serves
    settings = service.promoted.settings
    monkeypatch.setenv("MLFLOW_TRACKING_URI", settings.tracking_uri)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(settings.promotion_manifest))
    monkeypatch.setenv("SCORING_URL", service.url)
    # when promote --verify runs
    code = main(["promote", "--verify"])
    out = capsys.readouterr().out
    # then the service's /version agrees with the manifest
    assert code == 0 and "[ok] scoring service:" in out and "in step" in out
    monkeypatch.setenv("SCORING_URL", f"http://127.0.0.1:{free_port()}")
    assert main(["promote", "--verify"]) == 1
    captured = capsys.readouterr()
    assert "[FAIL] scoring service:" in captured.out and "did not answer" in captured.err


def test_promotion_page_shows_the_live_version_beside_the_manifest(service, app_env) -> None:
    settings = service.promoted.settings
    app_env(
        settings.tracking_uri,
        PROMOTION_MANIFEST=str(settings.promotion_manifest),
        SCORING_URL=service.url,
    )
    at = open_page("pages/promotion.py")
    assert exceptions(at) == []
    assert "in step with the manifest" in texts(at)
    table = next(d.value for d in at.dataframe if "live service" in d.value.columns)
    assert table["agrees"].all() and len(table) == 5


def test_sigterm_flushes_every_decision_to_the_log(service) -> None:
    # given a burst of scored requests with known request ids (this test stops the service)
    ids = [f"flush-{i}" for i in range(40)]
    body = {"applicants": _applicants(3)}
    for request_id in ids:
        assert service.post("/predict", body, headers={"X-Request-ID": request_id}).ok
    # when the service gets SIGTERM right after
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises it
    # then every decision is in the day's file, in the contract's format
    folder = service.promoted.folder / "decisions"
    files = sorted(folder.glob("decisions-*.jsonl"))
    assert files and all(re.fullmatch(r"decisions-\d{4}-\d{2}-\d{2}\.jsonl", f.name) for f in files)
    records = [json.loads(line) for f in files for line in f.read_text("utf-8").splitlines()]
    flushed = [r for r in records if r["request_id"].startswith("flush-")]
    assert len(flushed) == 3 * len(ids)
    assert {r["request_id"] for r in flushed} == set(ids)
    for record in flushed:
        assert set(record) == LOG_KEYS
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", record["time"])
        assert datetime.fromisoformat(record["time"]).utcoffset().total_seconds() == 0
        assert record["decision"] in ("approve", "decline")
        assert record["applicant_id"].startswith("app-")
        assert set(record["features"]) >= {"credit_score", "home_ownership"}
        assert all(isinstance(r, str) for r in record["reasons"])
