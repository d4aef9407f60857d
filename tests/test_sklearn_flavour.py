"""Models logged by other code with mlflow.sklearn.log_model load and score like our own."""

from __future__ import annotations

import lightgbm as lgb
import mlflow
import mlflow.sklearn
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression

from core.data.synthetic import demo_dataset
from core.errors import ModelLoadError
from core.scoring.scorer import scorer_for
from core.settings import prepare_mlflow_environment
from core.store.access import load_model
from core.store.client import ensure_experiment
from tests.helpers.store_builders import MODEL_REQUIREMENTS

LGBM_TYPES = [
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
]


def _log_sklearn_flavour(uri: str, model: object, **options: object) -> str:
    """Log a fitted model with mlflow.sklearn.log_model, as another team would; its run id."""
    prepare_mlflow_environment(uri)
    mlflow.set_tracking_uri(uri)
    experiment_id = ensure_experiment(MlflowClient(uri), "other_team")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.sklearn.log_model(
            model, name="model", pip_requirements=MODEL_REQUIREMENTS, **options
        )
    return run.info.run_id


@pytest.mark.parametrize(
    "options",
    [{"skops_trusted_types": LGBM_TYPES}, {"serialization_format": "cloudpickle"}],
    ids=["skops", "cloudpickle"],
)
def test_an_lgbm_classifier_logged_with_the_sklearn_flavour_scores(tmp_path, options) -> None:
    # given an LGBMClassifier on categorical data, logged with the sklearn flavour
    data = demo_dataset(n_rows=400, seed=5)
    model = lgb.LGBMClassifier(n_estimators=10, verbose=-1).fit(data.features, data.target)
    uri = f"file:{tmp_path / 'mlruns'}"
    run_id = _log_sklearn_flavour(uri, model, **options)
    # when it is loaded and scored through the one scoring path
    loaded = load_model(uri, run_id)
    result = scorer_for(loaded).score(data.features.head(20), 0.4542)
    # then it is the same classifier, with the same probabilities
    assert isinstance(loaded.classifier, lgb.LGBMClassifier) and loaded.calibrator is None
    expected = model.predict_proba(data.features.head(20))[:, 1]
    np.testing.assert_allclose(result.scores["probability"], expected, rtol=1e-9)


def test_another_sklearn_model_is_refused_by_name(tmp_path) -> None:
    # given a logistic regression logged with the sklearn flavour
    data = demo_dataset(n_rows=200, seed=5)
    numeric = data.features.select_dtypes("number").fillna(0)
    uri = f"file:{tmp_path / 'mlruns'}"
    run_id = _log_sklearn_flavour(uri, LogisticRegression().fit(numeric, data.target))
    # when it is loaded, then the message names what it is and what to log instead
    with pytest.raises(ModelLoadError, match="LogisticRegression") as error:
        load_model(uri, run_id)
    assert "mlflow.lightgbm.log_model" in (error.value.fix or "")
