"""Columns named as in the training data ('home status') match LightGBM's renamed features."""

from __future__ import annotations

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from core.cli.main import main
from core.errors import DataValidationError
from core.monitoring.profiles import frozen_profile
from core.promotion import use_cases as promotion
from core.promotion.requests import PromotionRequest
from core.scoring.applicants import applicant_by_row, typical_applicant
from core.scoring.loaded_model import LoadedModel
from core.scoring.scorer import scorer_for
from core.settings import load_settings, prepare_mlflow_environment
from core.store.access import load_model, load_validation_set
from core.store.client import ensure_experiment
from core.training.attach import attach_validation
from tests.helpers.store_builders import MODEL_REQUIREMENTS


def _book(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Applicants with spaces in their column names, one categorical, and their outcomes."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "credit score": rng.normal(650, 60, n),
            "home status": pd.Categorical(rng.choice(["own", "rent", "mortgage"], n)),
            "debt_to_income": rng.uniform(0, 0.6, n),
        }
    )
    risk = -0.02 * (frame["credit score"] - 650) + 3 * frame["debt_to_income"] - 1.5
    return frame, pd.Series((rng.random(n) < 1 / (1 + np.exp(-risk))).astype(int))


def test_scoring_and_attaching_accept_the_training_data_names(tmp_path) -> None:
    # given a model trained on columns with spaces (LightGBM calls them credit_score, ...)
    frame, labels = _book(600, seed=1)
    model = LoadedModel(lgb.LGBMClassifier(n_estimators=15, verbose=-1).fit(frame, labels))
    assert "home_status" in model.feature_names
    # when applicants are scored with the training data's own column names
    holdout, holdout_labels = _book(200, seed=2)
    result = scorer_for(model).score(holdout, 0.4542)
    # then they are the model's features, scored as LightGBM scores them
    expected = model.classifier.predict_proba(holdout.set_axis(model.feature_names, axis=1))[:, 1]
    np.testing.assert_allclose(result.scores["probability"], expected, rtol=1e-9)
    # and a holdout file with those names attaches to the run as its validation set
    uri = f"file:{tmp_path / 'mlruns'}"
    prepare_mlflow_environment(uri)
    mlflow.set_tracking_uri(uri)
    with mlflow.start_run(experiment_id=ensure_experiment(MlflowClient(uri), "spaced")) as run:
        mlflow.lightgbm.log_model(
            model.classifier, name="model", pip_requirements=MODEL_REQUIREMENTS
        )
    attached = attach_validation(
        uri, run.info.run_id, holdout.assign(default=holdout_labels), "default",
        source="holdout.csv", sha256="0" * 64,
    )  # fmt: skip
    assert attached.rows == 200


def test_a_file_naming_one_feature_twice_is_refused_naming_both() -> None:
    # given a model trained on 'home status' (LightGBM: home_status)
    frame, labels = _book(300, seed=3)
    model = LoadedModel(lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(frame, labels))
    # when applicants carry both spellings of it
    both = frame.head(5).assign(home_status="own")
    # then scoring refuses, naming both columns, instead of silently dropping one
    with pytest.raises(DataValidationError) as caught:
        scorer_for(model).score(both, 0.4542)
    assert caught.value.message == (
        "'home status' and 'home_status' both name the model feature home_status."
    )


def test_a_bad_value_is_named_by_the_column_as_the_file_spells_it() -> None:
    # given a model trained on 'credit score' (LightGBM: credit_score)
    frame, labels = _book(300, seed=4)
    model = LoadedModel(lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(frame, labels))
    # when a file spelled as the training data holds text in that column
    bad = frame.head(3).astype({"credit score": object})
    bad.loc[1, "credit score"] = "abc"
    # then the message names the column as the file spells it, so the user can find it
    with pytest.raises(DataValidationError) as caught:
        scorer_for(model).score(bad, 0.4542)
    assert "row 2, column credit score: 'abc' is not a number" in caught.value.message


def test_a_run_trained_on_spaced_columns_is_promoted_and_what_if_scores_it(
    tmp_path, monkeypatch
) -> None:
    # given a run trained by `core train --data` on columns named 'credit score', 'home status'
    frame, labels = _book(800, seed=6)
    data = tmp_path / "book.csv"
    frame.assign(default=labels).to_csv(data, index=False)
    uri = f"file:{tmp_path / 'mlruns'}"
    manifest = tmp_path / "deploy" / "promotion.json"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(manifest))
    trained = main(
        ["train", "--data", str(data), "--target", "default", "--categorical", "home status",
         "--cv-folds", "3", "--n-estimators", "20", "--run-name", "spaced"]
    )  # fmt: skip
    assert trained == 0
    settings = load_settings()
    client = MlflowClient(uri)
    run_id = client.search_runs([ensure_experiment(client, settings.experiment_name)])[
        0
    ].info.run_id
    # when it is promoted (the reference profile is built from its logged validation set)
    result = promotion.promote(
        settings,
        PromotionRequest(
            run_id=run_id, threshold=0.5, by="alice", reason="spaced names", force=True,
            force_reason="a small book: CV noise is wide",
        ),
    )  # fmt: skip
    # then the frozen profile holds every model feature
    profile = frozen_profile(settings, result.manifest)
    assert profile is not None and {"credit_score", "home_status"} <= set(profile.features)
    # and What-if's pickers give an applicant of the validation set and a typical one, scored
    model = load_model(uri, run_id)
    spec = scorer_for(model).spec
    validation = load_validation_set(MlflowClient(uri), run_id)
    for applicant in (applicant_by_row(validation, spec, 0), typical_applicant(spec, validation)):
        assert list(applicant.columns) == spec.names
        scored = scorer_for(model).score(applicant, 0.5)
        assert 0 < float(scored.scores["probability"].iloc[0]) < 1
    assert typical_applicant(spec, validation)["home_status"].iloc[0] in {"own", "rent", "mortgage"}
