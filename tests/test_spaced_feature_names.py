"""Columns named as in the training data ('home status') match LightGBM's renamed features."""

from __future__ import annotations

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from core.errors import DataValidationError
from core.scoring.loaded_model import LoadedModel
from core.scoring.scorer import scorer_for
from core.settings import prepare_mlflow_environment
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
