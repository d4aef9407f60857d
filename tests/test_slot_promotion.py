"""A model of another feature set or slot meets the deployed champion: refused, or promoted as a
stated schema change recorded in the manifest, the ledger, the history and the service."""

from __future__ import annotations

import json

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import pytest
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient

from core.cli.main import main
from core.record import ledger
from core.record.manifest import ledger_path, read_manifest
from core.serving.app import create_app
from core.serving.model_holder import ModelHolder, load_promoted
from core.serving.service_state import ServiceState
from core.settings import prepare_mlflow_environment
from core.store.client import ensure_experiment
from core.training.attach import attach_validation
from tests.helpers.german_like import german_like_frame
from tests.helpers.promotion_fixtures import ask, settings_for
from tests.helpers.store_builders import (
    EXPERIMENT,
    MODEL_REQUIREMENTS,
    STABLE_FOLD_AUCS,
    log_cv_folds,
)

# The German-like columns a lender may use (its protected ones left out of this model).
COLUMNS = ["credit_history", "duration_in_month", "credit_amount"]


def _log_german_run(uri: str) -> str:
    """A German-like model (categorical credit history) in the demo experiment, with stable
    CV folds and a 300-row validation set."""
    prepare_mlflow_environment(uri)
    features, target = german_like_frame(900, seed=8)
    x = features[COLUMNS]
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1, random_state=1)
    model.fit(x.iloc[:600], target.iloc[:600])
    mlflow.set_tracking_uri(uri)
    experiment_id = ensure_experiment(MlflowClient(uri), EXPERIMENT)
    with mlflow.start_run(experiment_id=experiment_id, run_name="german_like") as run:
        mlflow.lightgbm.log_model(model, name="model", pip_requirements=MODEL_REQUIREMENTS)
    log_cv_folds(MlflowClient(uri), run.info.run_id, STABLE_FOLD_AUCS)
    holdout = x.iloc[600:].assign(default=target.iloc[600:])
    attach_validation(uri, run.info.run_id, holdout, "default", source="h", sha256="0" * 64)
    return run.info.run_id


@pytest.fixture()
def deployed(promo_store, tmp_path, given_promoted):
    """The demo seed run promoted (the champion of slot credit_risk_experiment), a German-like
    run logged in the same experiment, and the CLI's environment."""
    manifest = tmp_path / "deploy" / "promotion.json"
    settings = settings_for(promo_store.uri, manifest)
    given_promoted(settings, ask(promo_store.first))
    return settings, _log_german_run(promo_store.uri)


def _promote(monkeypatch, capsys, settings, *args: str) -> tuple[int, str]:
    """`python -m core promote ARGS` in-process; (exit code, stdout + stderr)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", settings.tracking_uri)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(settings.promotion_manifest))
    code = main(["promote", *args])
    out, err = capsys.readouterr()
    return code, out + err


def test_another_feature_set_is_refused_then_promoted_as_a_stated_schema_change(
    monkeypatch, capsys, deployed
) -> None:
    settings, german = deployed
    before = settings.promotion_manifest.read_bytes()
    who = ("--by", "alice", "--reason", "bureau data replaces the demo book")
    # when the German-like run is promoted over the demo champion
    code, out = _promote(monkeypatch, capsys, settings, "--run-id", german, *who)
    # then the contract gate lists each difference, the AUC gate says not comparable
    assert code == 2 and settings.promotion_manifest.read_bytes() == before
    contract = next(line for line in out.splitlines() if "[FAIL] feature contract" in line)
    assert "removed feature(s) the service accepts: 'credit_score'" in contract
    assert "added feature(s) the contract lacks: 'credit_history'" in contract
    assert "[FAIL] AUC vs champion: not comparable" in out
    # when it is promoted as an intended schema change (the AUC gate forced: not comparable)
    reason = "new bureau data set, features agreed with the lending platform"
    code, out = _promote(
        monkeypatch, capsys, settings, "--run-id", german, *who, "--schema-change", reason,
        "--force",
    )  # fmt: skip
    assert code == 0, out
    assert f"[pass] feature contract: intended schema change: {reason}" in out
    # then the manifest and its ledger entry record the reason and the new contract
    manifest = read_manifest(settings.promotion_manifest)
    assert manifest.schema_change_reason == reason
    assert manifest.slot == EXPERIMENT and manifest.feature_contract.names == COLUMNS
    head = ledger.read_chain(ledger_path(settings.promotion_manifest)).head
    assert head.manifest.schema_change_reason == reason
    assert head.manifest.feature_contract_sha256 == manifest.feature_contract.sha256
    # and the history shows it, and the service's /version the new contract hash
    code, out = _promote(monkeypatch, capsys, settings, "--history")
    assert f"[schema change: {reason}]" in out
    loaded = load_promoted(settings.promotion_manifest, settings.reason_codes_file)
    client = TestClient(create_app(ServiceState(ModelHolder(loaded), None, 100, None)))
    version = client.get("/version").json()
    assert version["feature_contract_sha256"] == manifest.feature_contract_sha256
    assert version["slot"] == EXPERIMENT
    levels = version["feature_contract"]["features"][0]["levels"]
    assert levels and levels[0].startswith("critical account")


def test_a_run_of_another_slot_is_refused(monkeypatch, capsys, deployed, promo_store) -> None:
    settings, _ = deployed
    # when the second demo run is promoted into another slot than the deploy folder serves
    code, out = _promote(
        monkeypatch, capsys, settings, "--run-id", promo_store.second, "--slot", "cards",
        "--by", "alice", "--reason", "r", "--schema-change", "try",
    )  # fmt: skip
    # then it is refused, naming both slots; nothing is written
    assert code == 2
    assert "serves slot 'credit_risk_experiment'" in out and "slot 'cards'" in out
    assert json.loads(settings.promotion_manifest.read_text())["run_id"] == promo_store.first
