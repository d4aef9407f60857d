"""`train --calibrate`: a calibrated PD fitted on out-of-fold CV scores, carried to production."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.isotonic import IsotonicRegression

from core.cli.main import main
from core.data.synthetic import DEMO_MONOTONE, demo_dataset
from core.errors import DataValidationError
from core.evaluation.calibration import SLOPE_RANGE, calibration_check
from core.evaluation.threshold_policy import build_score_table
from core.promotion import use_cases
from core.promotion.requests import PromotionRequest
from core.promotion.tables import comparison_table
from core.record.manifest import PromotionManifest, read_manifest
from core.run_schema import LABEL_COLUMN, SCORE_COLUMN
from core.runs.stability import StabilityRule
from core.scoring.calibrator import (
    CALIBRATED_PD,
    RISK_SCORE,
    Calibrator,
    scale_label,
    sigmoid,
)
from core.scoring.scorer import scorer_for
from core.serving.app import create_app
from core.serving.errors import ServiceStartError
from core.serving.model_holder import ModelHolder, ModelIdentity, load_bundle, load_promoted
from core.serving.service_state import ServiceState
from core.serving.smoke import applicant_records
from core.settings import load_settings
from core.store.access import load_model, load_validation_set
from core.store.client import open_client
from core.store.run_record import fetch_run_record
from core.training.calibration import fit_calibrator
from core.training.model_config import TrainConfig
from core.training.trainer import train_and_log
from tests.helpers.apptest_helpers import (
    exceptions,
    open_app,
    texts,
)
from tests.helpers.whatif_html import result_block

DEMO_RUN = TrainConfig(n_estimators=100, cv_folds=3, monotone_constraints=DEMO_MONOTONE)


@dataclass(frozen=True)
class CalibratedStore:
    """A file store with the same demo run trained plain, isotonic- and sigmoid-calibrated."""

    uri: str
    runs: dict[str, str]


@pytest.fixture(scope="module", name="calibrated")
def calibrated_fixture(tmp_path_factory) -> CalibratedStore:
    """Three runs of one configuration on the demo data: none, isotonic, sigmoid."""
    uri = f"file:{tmp_path_factory.mktemp('calibrated') / 'mlruns'}"
    dataset = demo_dataset()
    runs = {}
    for kind in ("none", "isotonic", "sigmoid"):
        config = replace(DEMO_RUN, run_name=kind, calibrate=None if kind == "none" else kind)
        runs[kind] = train_and_log(uri, "calibration", dataset, config).run_id
    return CalibratedStore(uri, runs)


def _validation(store: CalibratedStore, kind: str):
    """The labelled validation set with the scores the run logged."""
    return load_validation_set(open_client(store.uri), store.runs[kind])


@pytest.mark.parametrize("kind", ["isotonic", "sigmoid"])
def test_calibrated_run_is_a_probability_of_default(calibrated, kind) -> None:
    # given the same demo run trained with and without calibration
    plain = _validation(calibrated, "none")
    fitted = _validation(calibrated, kind)
    # when their logged validation scores are checked for calibration
    before = calibration_check(build_score_table(plain[LABEL_COLUMN], plain[SCORE_COLUMN]))
    after = calibration_check(build_score_table(fitted[LABEL_COLUMN], fitted[SCORE_COLUMN]))
    # then the calibrated Brier beats the uncalibrated one and the base rate's
    assert after.brier < before.brier
    assert after.brier < after.base_rate_brier
    # and the calibration slope is near 1, the intercept near 0
    assert SLOPE_RANGE[0] <= after.slope <= SLOPE_RANGE[1]
    assert after.is_calibrated, after.problems
    assert not before.is_calibrated


def test_the_loaded_run_carries_its_calibrator(calibrated) -> None:
    # given an isotonic-calibrated run / when loaded through the one loader
    model = load_model(calibrated.uri, calibrated.runs["isotonic"])
    scorer = scorer_for(model)
    validation = _validation(calibrated, "isotonic")
    rows = validation[scorer.features]
    # then its Scorer outputs the calibrated PD that training logged
    assert scorer.scale == CALIBRATED_PD
    assert scorer.output_label == "probability of default (calibrated)"
    expected = validation[SCORE_COLUMN].to_numpy()
    np.testing.assert_allclose(scorer.probability_of(rows), expected, rtol=0, atol=1e-12)
    # and SHAP stays on the raw log-odds scale: contributions add up to the raw score
    result = scorer.score(rows.head(20), 0.2)
    raw = result.contributions.sum(axis=1).to_numpy() + result.base_value
    np.testing.assert_allclose(raw, result.scores["raw_score"], atol=1e-9)
    assert not np.allclose(sigmoid(raw), result.scores["probability"])
    # and the run records which calibration it carries
    run = open_client(calibrated.uri).get_run(calibrated.runs["isotonic"])
    assert run.data.params["calibration"] == "isotonic"
    assert run.data.tags["governance.score_scale"] == CALIBRATED_PD
    plain = open_client(calibrated.uri).get_run(calibrated.runs["none"])
    assert plain.data.params["calibration"] == "none"
    assert scorer_for(load_model(calibrated.uri, calibrated.runs["none"])).scale == RISK_SCORE


def test_isotonic_calibrator_equals_sklearn_and_survives_json() -> None:
    # given out-of-fold raw scores and labels
    rng = np.random.default_rng(0)
    raw = rng.normal(-1.0, 1.5, 2_000)
    labels = (rng.random(2_000) < sigmoid(raw - 0.8)).astype(int)
    # when an isotonic calibrator is fitted and written to JSON and back
    fitted = fit_calibrator("isotonic", raw, labels)
    again = Calibrator.from_json_bytes(fitted.to_json_bytes())
    # then it maps scores as sklearn's isotonic regression does (inside (0, 1))
    reference = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(sigmoid(raw), labels)
    new = np.linspace(-6, 4, 101)
    expected = np.clip(reference.predict(sigmoid(new)), 1e-6, 1 - 1e-6)
    np.testing.assert_allclose(again.apply(new), expected, atol=1e-12)
    assert again == fitted


def test_calibration_without_cv_folds_is_refused(monkeypatch, capsys, tmp_path) -> None:
    # given a request to calibrate a run with no CV folds / when configured
    with pytest.raises(DataValidationError, match="out-of-fold CV"):
        TrainConfig(cv_folds=0, calibrate="isotonic")
    # then the CLI refuses with one line and a non-zero exit, before training anything
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file:{tmp_path / 'mlruns'}")
    code = main(["train", "--rows", "500", "--cv-folds", "0", "--calibrate", "sigmoid"])
    err = capsys.readouterr().err
    assert code != 0 and "--cv-folds 2 or more" in err
    assert not (tmp_path / "mlruns").exists()


def test_promoted_calibrated_run_is_served_on_its_scale(calibrated, tmp_path) -> None:
    # given the sigmoid-calibrated run promoted
    settings = load_settings(
        {
            "MLFLOW_TRACKING_URI": calibrated.uri,
            "PROMOTION_MANIFEST": str(tmp_path / "deploy" / "promotion.json"),
        }
    )
    run_id = calibrated.runs["sigmoid"]
    request = PromotionRequest(run_id=run_id, threshold=0.2, by="alice", reason="calibrated PD")
    result = use_cases.promote(settings, request)
    # then the manifest says the threshold is on the calibrated PD scale
    assert result.manifest.score_scale == CALIBRATED_PD
    assert read_manifest(settings.promotion_manifest).score_scale == CALIBRATED_PD
    # and the Promotion page's comparison says an uncalibrated challenger changes the scale
    plain = fetch_run_record(open_client(calibrated.uri), calibrated.runs["none"])
    table = comparison_table(plain, result.manifest, StabilityRule()).set_index("metric")
    assert table.loc["Threshold scale", "candidate"] == "risk score"
    assert table.loc["Threshold scale", "difference"].startswith("changes")
    # and the service names that scale in /version and in every answer
    loaded = load_promoted(settings.promotion_manifest, settings.reason_codes_file)
    client = TestClient(create_app(ServiceState(ModelHolder(loaded), None, 100)))
    version = client.get("/version").json()
    assert (version["score_scale"], version["score_name"]) == (
        CALIBRATED_PD,
        scale_label(CALIBRATED_PD),
    )
    rows = _validation(calibrated, "sigmoid").head(3)
    applicants = applicant_records(rows[loaded.scorer.features])
    answer = client.post("/predict", json={"applicants": applicants}).json()
    assert answer["score_scale"] == CALIBRATED_PD
    served = [p["probability_of_default"] for p in answer["predictions"]]
    np.testing.assert_allclose(served, rows[SCORE_COLUMN], rtol=0, atol=1e-9)
    # and an export whose scale disagrees with the manifest's is refused
    folder = read_manifest(settings.promotion_manifest).exported_model_dir(
        settings.promotion_manifest
    )
    wrong = replace(loaded.identity, score_scale=RISK_SCORE)
    with pytest.raises(ServiceStartError, match="risk score scale"):
        load_bundle(Path(folder), wrong, loaded.book)


def test_manifest_without_a_scale_reads_as_risk_score() -> None:
    # given a manifest written before the score scale was recorded
    body = {
        "run_id": "r",
        "experiment_id": "1",
        "experiment_name": "e",
        "tracking_uri": "file:x",
        "model_uri": "runs:/r/model",
        "exported_model_path": "models/r",
        "exported_model_sha256": "0" * 64,
        "threshold": 0.45,
        "promoted_by": "alice",
        "promoted_at": "2026-01-01T00:00:00+00:00",
        "reason": "q",
    }
    # when read / then its threshold is on the risk-score scale
    assert PromotionManifest.model_validate(body).score_scale == RISK_SCORE
    assert ModelIdentity.from_manifest(PromotionManifest.model_validate(body)).score_name == (
        "risk score"
    )


@pytest.mark.parametrize("kind", ["isotonic", "sigmoid"])
def test_raw_threshold_maps_back_to_the_threshold(calibrated, kind) -> None:
    # given a calibrated run's scorer / when a threshold is mapped to raw log-odds
    scorer = scorer_for(load_model(calibrated.uri, calibrated.runs[kind]))
    for threshold in (0.05, 0.1, 0.2, 0.4):
        raw = scorer.raw_threshold(threshold)
        # then the calibrated output reaches the threshold there (the waterfall's line)
        assert scorer.probability_from_raw(np.array([raw + 1e-6]))[0] >= threshold - 1e-9
        assert scorer.probability_from_raw(np.array([raw - 1e-3]))[0] <= threshold + 1e-9


def test_pages_name_the_calibrated_output(calibrated, app_env) -> None:
    # given the app on the store, the isotonic-calibrated run selected
    app_env(calibrated.uri, MLFLOW_EXPERIMENT_NAME="calibration")
    at = open_app({"run_id": calibrated.runs["isotonic"]})
    # when What-if and Diagnostics open on it
    whatif = at.switch_page("pages/whatif.py").run()
    assert exceptions(whatif) == []
    # then What-if names its output a calibrated probability of default, the waterfall too
    block = result_block(whatif)
    assert "Probability of default (calibrated)" in block.metrics
    assert "probability of default (calibrated)" in block.charts["waterfall"].title
    diagnostics = whatif.switch_page("pages/diagnostics.py").run()
    assert exceptions(diagnostics) == []
    assert "The score is the probability of default (calibrated)" in texts(diagnostics)
