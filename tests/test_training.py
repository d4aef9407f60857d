"""Training: governed runs carry what every page needs, reproducibly."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from core.data.synthetic import DEMO_MONOTONE, demo_dataset
from core.errors import DataValidationError
from core.store.access import load_model, load_validation_set
from core.training.configs import grid_configs
from core.training.model_config import TrainConfig, monotone_vector
from core.training.trainer import train_and_log

CONFIG = TrainConfig(run_name="t", n_estimators=25, num_leaves=7, cv_folds=3,
                     monotone_constraints=DEMO_MONOTONE)  # fmt: skip


def test_monotone_constraints_by_name_become_a_list_in_feature_order() -> None:
    assert monotone_vector(["a", "credit_score", "b"], {"credit_score": -1, "b": 1}) == [0, -1, 1]
    with pytest.raises(DataValidationError, match="unknown features: nope"):
        monotone_vector(["a"], {"nope": 1})


def test_governed_run_logs_params_metrics_folds_and_artifacts(tmp_path: Path) -> None:
    # given a fresh file store and the synthetic data
    uri = f"file:{tmp_path / 'mlruns'}"
    dataset = demo_dataset(n_rows=2_000, seed=3)
    # when one governed run is trained
    result = train_and_log(uri, "exp", dataset, CONFIG)
    # then the run carries what a governed run carries (core/run_schema.py, ARCHITECTURE.md)
    client = MlflowClient(uri)
    run = client.get_run(result.run_id)
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    for name in ("n_estimators", "max_depth", "num_leaves", "learning_rate", "subsample",
                 "colsample_bytree", "reg_alpha", "reg_lambda", "is_unbalance",
                 "monotone_constraints", "data_version", "features", "categorical_columns",
                 "cv_folds", "seed"):  # fmt: skip
        assert name in params, name
    assert json.loads(params["monotone_constraints"]) == DEMO_MONOTONE
    assert params["categorical_columns"] == "home_ownership,loan_purpose"
    assert params["data_version"] == tags["data_version"] == dataset.data_version
    for name in ("val_auc", "val_ks", "train_auc", "cv_auc_mean", "cv_auc_std", "cv_ks_mean",
                 "cv_ks_std"):  # fmt: skip
        assert name in metrics, name
    folds = client.get_metric_history(result.run_id, "cv_auc")
    assert sorted(m.step for m in folds) == [0, 1, 2]
    assert len(client.get_metric_history(result.run_id, "val_logloss")) == 25
    assert len(client.get_metric_history(result.run_id, "val_auc")) == 1  # no re-appended lines
    artifacts = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"validation", "figures", "cv_summary.csv"} <= artifacts
    figures = {a.path for a in client.list_artifacts(result.run_id, "figures")}
    assert figures == {"figures/roc.png", "figures/ks.png", "figures/feature_importance.png"}
    # and the model loads through runs:/<id>/model and reproduces the logged scores
    model = load_model(uri, result.run_id)
    validation = load_validation_set(client, result.run_id)
    scores = model.classifier.predict_proba(validation[model.feature_names])[:, 1]
    assert abs(scores - validation["score"].to_numpy()).max() < 1e-12
    assert validation["label"].isin([0, 1]).all()


def test_same_command_same_data_same_seed_gives_same_val_auc(tmp_path: Path) -> None:
    dataset = demo_dataset(n_rows=2_000, seed=5)
    first = train_and_log(f"file:{tmp_path / 'a'}", "exp", dataset, CONFIG)
    second = train_and_log(f"file:{tmp_path / 'b'}", "exp", dataset, CONFIG)
    assert abs(first.val_auc - second.val_auc) < 1e-9
    assert first.cv_auc == pytest.approx(second.cv_auc, abs=1e-9)


def test_monotone_constraint_is_respected_by_the_model(tmp_path: Path) -> None:
    dataset = demo_dataset(n_rows=2_000, seed=5)
    result = train_and_log(f"file:{tmp_path / 'm'}", "exp", dataset, CONFIG)
    model = load_model(f"file:{tmp_path / 'm'}", result.run_id)
    applicant = dataset.features.iloc[[0] * 12].copy()
    applicant["credit_score"] = range(300, 900, 50)
    scores = model.classifier.predict_proba(applicant)[:, 1]
    assert (np.diff(scores) <= 1e-12).all()


def test_grid_is_the_cartesian_product() -> None:
    configs = grid_configs(CONFIG, {"num_leaves": [7, 15], "learning_rate": [0.05, 0.1]})
    assert len(configs) == 4
    assert {(c.num_leaves, c.learning_rate) for c in configs} == {
        (7, 0.05), (7, 0.1), (15, 0.05), (15, 0.1)
    }  # fmt: skip
    assert len({c.run_name for c in configs}) == 4
    with pytest.raises(DataValidationError, match="Unknown grid parameter"):
        grid_configs(CONFIG, {"nope": [1]})


def test_no_cv_run_still_logs(tmp_path: Path) -> None:
    result = train_and_log(
        f"file:{tmp_path / 'n'}", "exp", demo_dataset(1_000, seed=2), replace(CONFIG, cv_folds=0)
    )
    assert result.cv_auc == ()
