"""The scoring service in-process: token auth, refusing to start, a bad new export, the log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from core.cli.main import main
from core.decision_log.writer import DecisionBatch, DecisionLog
from core.errors import GovernanceError, SettingsError
from core.record.manifest import read_manifest
from core.serving.app import create_app
from core.serving.model_holder import ModelHolder, load_promoted
from core.serving.service_state import ServiceState
from core.settings import load_settings
from tests.helpers.serving_fixtures import Promoted, promote_run

TOKEN = "s3cret-token"


def _client(promoted: Promoted, token: str | None = None) -> TestClient:
    """A TestClient over the promoted model (no watcher, no log)."""
    settings = promoted.settings
    loaded = load_promoted(settings.promotion_manifest, settings.reason_codes_file)
    state = ServiceState(ModelHolder(loaded), None, settings.scoring_max_applicants, token)
    return TestClient(create_app(state))


def test_token_guards_every_endpoint_but_health(promoted) -> None:
    client = _client(promoted, TOKEN)
    applicant = {"applicants": [{"credit_score": 700}]}
    # without the token only /health answers
    assert client.get("/health").status_code == 200
    for method, path in [("get", "/version"), ("get", "/ready"), ("get", "/docs"),
                         ("get", "/openapi.json"), ("post", "/predict"), ("post", "/explain"),
                         ("post", "/invocations")]:  # fmt: skip
        response = getattr(client, method)(
            path, **({"json": applicant} if method == "post" else {})
        )
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "SCORING_API_TOKEN" in response.json()["fix"]
    # a wrong token is refused, the right one works
    assert client.get("/version", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/version", headers={"Authorization": f"Token {TOKEN}"}).status_code == 401
    answer = client.get("/version", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.json()["run_id"] == promoted.store.first


def test_no_token_means_open_on_loopback(promoted) -> None:
    assert _client(promoted).get("/version").status_code == 200


def _serve_cli(monkeypatch, capsys, promoted: Promoted) -> tuple[int, str]:
    """Run `python -m core serve` in-process (it refuses before binding a port)."""
    for key, value in promoted.env.items():
        monkeypatch.setenv(key, value)
    code = main(["serve", "--port", "1"])
    return code, capsys.readouterr().err


def test_serve_refuses_when_nothing_is_promoted(monkeypatch, capsys, tmp_path) -> None:
    empty = load_settings({"PROMOTION_MANIFEST": str(tmp_path / "deploy" / "promotion.json")})
    monkeypatch.setenv("PROMOTION_MANIFEST", str(empty.promotion_manifest))
    code = main(["serve", "--port", "1"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "Nothing is promoted" in err and "python -m core promote --run-id" in err


def test_serve_refuses_a_tampered_export(promoted, monkeypatch, capsys) -> None:
    manifest = read_manifest(promoted.settings.promotion_manifest)
    folder = manifest.exported_model_dir(promoted.settings.promotion_manifest)
    (folder / "MLmodel").write_text((folder / "MLmodel").read_text() + "\n# edited\n")
    code, err = _serve_cli(monkeypatch, capsys, promoted)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "does not match its recorded sha256" in err and "roll back" in err


def test_serve_refuses_a_manifest_that_disagrees_with_the_ledger(
    promoted, monkeypatch, capsys
) -> None:
    path = promoted.settings.promotion_manifest
    edited = json.loads(path.read_text())
    edited["threshold"] = 0.2
    path.write_text(json.dumps(edited))
    code, err = _serve_cli(monkeypatch, capsys, promoted)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "cannot be trusted" in err and "--rollback" in err


def test_a_tampered_new_export_keeps_the_old_model_serving(promoted) -> None:
    # given a holder serving the first run, following the manifest
    settings = promoted.settings
    loaded = load_promoted(settings.promotion_manifest, settings.reason_codes_file)
    holder = ModelHolder(loaded, settings.promotion_manifest, settings.reason_codes_file)
    # when the second run is promoted but its export is changed before the holder looks
    manifest = promote_run(settings, promoted.store.second).manifest
    folder = manifest.exported_model_dir(settings.promotion_manifest)
    (folder / "MLmodel").write_text("tampered")
    swapped = holder.check_once()
    # then the first run keeps serving and readiness says why
    assert not swapped and holder.model.identity.run_id == promoted.store.first
    readiness = holder.readiness()
    assert not readiness.ready and "sha256" in readiness.detail
    assert promoted.store.first in readiness.detail


def _batch(when: datetime, request_id: str) -> DecisionBatch:
    """A two-decision batch."""
    return DecisionBatch(
        time=when,
        request_id=request_id,
        run_id="r1",
        threshold=0.45,
        applicant_ids=["a", None],
        probabilities=[0.1, 0.9],
        decisions=["approve", "decline"],
        reasons=[[], ["debt_to_income"]],
        warnings=[[], ["loan_amount: missing value"]],
        features=[{"x": 1.0}, {"x": None}],
    )


def test_decision_log_writes_one_file_per_utc_day(tmp_path) -> None:
    # given batches either side of midnight UTC
    log = DecisionLog(tmp_path / "decisions")
    midnight = datetime(2026, 11, 28, tzinfo=UTC)
    log.append(_batch(midnight - timedelta(microseconds=1), "late"))
    log.append(_batch(midnight, "early"))
    # when the log is closed
    log.close()
    # then each day has its file with its two lines
    first = (tmp_path / "decisions" / "decisions-2026-11-27.jsonl").read_text().splitlines()
    second = (tmp_path / "decisions" / "decisions-2026-11-28.jsonl").read_text().splitlines()
    assert [json.loads(line)["request_id"] for line in first] == ["late", "late"]
    assert json.loads(second[1]) == {
        "time": "2026-11-28T00:00:00.000000+00:00",
        "request_id": "early",
        "run_id": "r1",
        "threshold": 0.45,
        "applicant_id": None,
        "probability_of_default": 0.9,
        "decision": "decline",
        "reasons": ["debt_to_income"],
        "warnings": ["loan_amount: missing value"],
        "features": {"x": None},
    }
    assert log.written == 4 and log.failed == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SCORING_MAX_APPLICANTS": "0"}, "SCORING_MAX_APPLICANTS"),
        ({"SCORING_MAX_APPLICANTS": "many"}, "SCORING_MAX_APPLICANTS"),
        ({"SCORING_URL": "localhost:8000"}, "SCORING_URL"),
    ],
)
def test_serving_settings_are_validated(env, message) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_serving_settings_defaults_and_overrides(tmp_path) -> None:
    defaults = load_settings({"PROMOTION_MANIFEST": str(tmp_path / "d" / "promotion.json")})
    assert defaults.decision_log_dir == tmp_path / "d" / "decisions"
    assert defaults.scoring_max_applicants == 10_000
    assert defaults.scoring_api_token is None and defaults.scoring_url is None
    custom = load_settings(
        {
            "DECISION_LOG": str(tmp_path / "log"),
            "SCORING_API_TOKEN": TOKEN,
            "SCORING_MAX_APPLICANTS": "50",
            "SCORING_URL": "http://127.0.0.1:8000/",
        }
    )
    assert custom.decision_log_dir == tmp_path / "log"
    assert (custom.scoring_api_token, custom.scoring_max_applicants) == (TOKEN, 50)
    assert custom.scoring_url == "http://127.0.0.1:8000"
    assert TOKEN not in repr(custom)


def test_batched_requests_get_exactly_their_own_scores() -> None:
    # given two models and requests on both, one of them invalid, arriving in the same turn
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import lightgbm as lgb
    import numpy as np

    from core.data.synthetic import demo_dataset
    from core.scoring.loaded_model import LoadedModel
    from core.scoring.reason_codes import ReasonCodeBook
    from core.scoring.scorer import scorer_for
    from core.serving.batcher import ScoringBatcher, score_with
    from core.serving.model_holder import ModelIdentity, ServedModel

    data = demo_dataset(n_rows=600, seed=5)
    models = [
        LoadedModel(
            lgb.LGBMClassifier(n_estimators=n, verbose=-1, random_state=1).fit(
                data.features, data.target
            )
        )
        for n in (10, 20)
    ]
    loaded = [
        ServedModel(ModelIdentity.candidate(f"r{i}", "n", 0.3, "x"), m, scorer_for(m),
                    ReasonCodeBook(), "")
        for i, m in enumerate(models)
    ]  # fmt: skip
    frames = [data.features.iloc[i : i + 1 + i % 3].reset_index(drop=True) for i in range(12)]
    bad = data.features.head(2).assign(credit_score=float("inf"))
    jobs = [(loaded[i % 2], f) for i, f in enumerate(frames)] + [(loaded[0], bad)]

    async def all_at_once():
        batcher = ScoringBatcher()
        return await asyncio.gather(
            *(
                batcher.score(model, {c: frame[c].tolist() for c in frame}, len(frame))
                for model, frame in jobs
            ),
            return_exceptions=True,
        )

    # when they are scored through the batcher
    # (a fresh thread: a browser test may keep an event loop running on this one)
    with ThreadPoolExecutor(1) as pool:
        results = pool.submit(asyncio.run, all_at_once()).result()
    # then each equals scoring it alone with its own model, and only the bad one fails
    for (model, frame), result in zip(jobs[:-1], results[:-1], strict=True):
        alone = score_with(model, frame)
        assert np.abs(alone.raw_score - result.raw_score).max() <= 1e-12
        assert np.abs(alone.probability - result.probability).max() <= 1e-12
        assert list(alone.decision) == list(result.decision)
    assert isinstance(results[-1], GovernanceError) and "credit_score" in str(results[-1])
