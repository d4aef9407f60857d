"""Each promotion gate, on real numbers and a real LightGBM model."""

from __future__ import annotations

import math
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from core.data.synthetic import demo_dataset
from core.promotion import gates
from core.runs.stability import StabilityRule
from core.scoring.loaded_model import LoadedModel
from tests.helpers.store_builders import MODEL_REQUIREMENTS


@pytest.fixture(scope="module")
def dataset():
    """A small synthetic credit data set."""
    return demo_dataset(n_rows=800, seed=3)


@pytest.fixture(scope="module")
def model(dataset) -> LoadedModel:
    """A small fitted classifier with category columns."""
    fitted = lgb.LGBMClassifier(n_estimators=15, num_leaves=7, verbose=-1, random_state=1)
    return LoadedModel(fitted.fit(dataset.features, dataset.target))


def test_threshold_gate_fails_outside_the_interval() -> None:
    # given / when / then
    assert not gates.gate_threshold(1.5).passed
    assert not gates.gate_threshold(math.nan).passed


@pytest.mark.parametrize(
    ("cv", "expected"),
    [
        ({"cv_auc_mean": 0.80, "cv_auc_std": 0.004, "cv_auc_min": 0.795}, True),
        ({"cv_auc_mean": 0.80, "cv_auc_std": 0.03, "cv_auc_min": 0.76}, False),
        ({"cv_auc_mean": 0.80, "cv_auc_std": 0.009, "cv_auc_min": 0.77}, False),
    ],
)
def test_cv_gate_follows_the_runs_page_rule(cv: dict[str, float], expected: bool) -> None:
    # given CV statistics / when the gate checks them with the default rule
    result = gates.gate_cv_stable(cv, StabilityRule())
    # then it agrees with the stability rule
    assert result.passed is expected
    assert ("unstable" in result.detail) is (not expected)


def test_cv_gate_fails_without_cv() -> None:
    # given a run that logged no CV / when the gate checks it
    result = gates.gate_cv_stable(None, StabilityRule())
    # then it fails: skipping CV is not a road to production
    assert not result.passed and not result.ok and "no CV logged" in result.detail


def test_cv_gate_without_cv_is_overridden_by_a_written_reason() -> None:
    # given a run with no CV and a force reason / when the gate checks it
    result = gates.gate_cv_stable(None, StabilityRule(), "vendor model, validated offline")
    # then it is overridden (still not passed) and the reason is in the detail
    assert result.ok and result.overridden and not result.passed
    assert "vendor model, validated offline" in result.detail


def test_smoke_passes_when_export_equals_the_run_model(model, dataset) -> None:
    # given the exported model identical to the run's model and validation applicants
    validation = dataset.features.assign(row_id=range(len(dataset.features)), label=0, score=0.1)
    applicants, source = gates.smoke_applicants(model, validation)
    # when the smoke test scores them
    result = gates.gate_smoke(model, model, applicants, source, 0.4542)
    # then probabilities and contributions agree
    assert result.passed, result.detail
    assert len(applicants) == gates.SMOKE_SAMPLE_SIZE
    assert list(applicants["row_id"]) == list(range(gates.SMOKE_SAMPLE_SIZE))


def test_smoke_fails_when_export_differs_from_the_run_model(model, dataset) -> None:
    # given an "exported" model that is not the run's model
    other = lgb.LGBMClassifier(n_estimators=5, num_leaves=3, verbose=-1, random_state=2)
    other = LoadedModel(other.fit(dataset.features, dataset.target))
    applicants, source = gates.smoke_applicants(model, None)
    # when the smoke test compares them
    result = gates.gate_smoke(other, model, applicants, source, 0.4542)
    # then it fails and says the probabilities differ
    assert not result.passed
    assert "probabilities differ" in result.detail


def test_smoke_applicants_without_validation_cover_the_model_ranges(model) -> None:
    # given no validation set / when applicants are built from the model
    applicants, source = gates.smoke_applicants(model, None)
    # then every model feature is present and scoring works
    assert list(applicants.columns) == model.feature_names
    assert "feature ranges" in source
    assert gates.gate_smoke(model, model, applicants, source, 0.5).passed


def test_model_gate_fails_on_a_folder_without_a_model(tmp_path: Path) -> None:
    # given an empty folder / when it is loaded / then the gate fails with the reason
    loaded, result = gates.gate_model_loads(tmp_path)
    assert loaded is None and not result.passed
    assert "load failed" in result.detail


def test_approval_rate_counts_scores_below_the_threshold() -> None:
    scores = np.array([0.1, 0.2, 0.5, 0.9, np.nan])
    assert gates.approval_rate(scores, 0.5) == pytest.approx(0.5)


@pytest.fixture(scope="module")
def exported_folder(model, tmp_path_factory) -> Path:
    """The model saved the way promotion exports it (an MLflow lightgbm folder)."""
    import mlflow.lightgbm

    folder = tmp_path_factory.mktemp("export") / "model"
    mlflow.lightgbm.save_model(model.classifier, str(folder), pip_requirements=MODEL_REQUIREMENTS)
    return folder


def test_service_smoke_serves_the_export_over_http(model, dataset, exported_folder) -> None:
    # given an export identical to the run's model, and a run with or without validation
    from core.record.export import tree_sha256

    sha = tree_sha256(exported_folder)
    validation = dataset.features.head(20).assign(row_id=range(20), label=0, score=0.1)
    for rows, words in [(validation, "validation applicants"), (None, "template applicant")]:
        # when the service smoke test serves it and calls /predict and /explain
        result = gates.gate_service_smoke(
            exported_folder, sha, model, model, rows, ("run1", "name"), 0.4542
        )
        # then it passes on the applicants it says it used
        assert result.passed, result.detail
        assert result.name == gates.SERVICE_SMOKE_TEST and words in result.detail


def test_service_smoke_fails_on_another_model_or_a_wrong_sha(model, dataset, exported_folder):
    from core.record.export import tree_sha256

    other = lgb.LGBMClassifier(n_estimators=5, num_leaves=3, verbose=-1, random_state=2)
    other = LoadedModel(other.fit(dataset.features, dataset.target))
    sha = tree_sha256(exported_folder)
    differs = gates.gate_service_smoke(
        exported_folder, sha, model, other, None, ("run1", "name"), 0.4542
    )
    assert not differs.passed and "probabilities differ" in differs.detail
    tampered = gates.gate_service_smoke(
        exported_folder, "0" * 64, model, model, None, ("run1", "name"), 0.4542
    )
    assert not tampered.passed and "sha256" in tampered.detail
