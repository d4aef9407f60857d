"""Build real MLflow stores for tests: governed runs and runs logged the way other code does."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.tracking import MlflowClient
from mlflow.tracking._tracking_service import utils as tracking_utils
from sklearn.metrics import roc_auc_score

from core.data.synthetic import DEMO_MONOTONE, demo_dataset
from core.settings import prepare_mlflow_environment
from core.store.client import ensure_experiment
from core.training.attach import attach_validation
from core.training.model_config import TrainConfig
from core.training.trainer import model_requirements, train_and_log

EXPERIMENT = "credit_risk_experiment"
SMALL_ROWS = 3_000
SMALL_CONFIGS = (
    TrainConfig(run_name="governed_a", n_estimators=40, num_leaves=15, cv_folds=3),
    TrainConfig(run_name="governed_b", n_estimators=30, max_depth=2, num_leaves=3, cv_folds=3),
)


def train_governed_runs(tracking_uri: str, experiment: str = EXPERIMENT) -> list[str]:
    """Train the small governed runs into a store; return their run ids."""
    prepare_mlflow_environment(tracking_uri)
    dataset = demo_dataset(n_rows=SMALL_ROWS, seed=7)
    return [
        train_and_log(
            tracking_uri, experiment, dataset, replace(c, monotone_constraints=DEMO_MONOTONE)
        ).run_id
        for c in SMALL_CONFIGS
    ]


# Models logged the way other code logs them carry the trainer's pinned requirements: without
# them MLflow infers them by loading the model in a subprocess (seconds a model).
MODEL_REQUIREMENTS = model_requirements()

UNSTABLE_FOLD_AUCS = (0.62, 0.81, 0.84, 0.70, 0.83)
# Within sampling noise for folds of 200 rows and 30 bads: the CV gate passes.
STABLE_FOLD_AUCS = (0.80, 0.81, 0.795, 0.805, 0.80)


def log_seed_pattern_run(
    tracking_uri: str,
    experiment: str = EXPERIMENT,
    *,
    run_name: str = "lgb_credit_risk",
    fold_aucs: tuple[float, ...] = (),
) -> str:
    """The seed write-up's own pattern: params, val_auc and a model, nothing else.

    With `fold_aucs`, the run also logs cv_auc per fold (step = fold) and each fold's rows and
    bads as params, so the noise-aware stability rule can judge it.
    """
    prepare_mlflow_environment(tracking_uri)
    dataset = demo_dataset(n_rows=1_500, seed=11)
    x, y = dataset.features, dataset.target
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1, random_state=42)
    model.fit(x.iloc[:1000], y.iloc[:1000])
    auc = roc_auc_score(y.iloc[1000:], model.predict_proba(x.iloc[1000:])[:, 1])
    mlflow.set_tracking_uri(tracking_uri)
    experiment_id = ensure_experiment(MlflowClient(tracking_uri), experiment)
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        mlflow.log_params(model.get_params())
        mlflow.log_metric("val_auc", auc)
        if fold_aucs:
            log_cv_folds(MlflowClient(tracking_uri), run.info.run_id, fold_aucs)
        mlflow.lightgbm.log_model(model, name="model", pip_requirements=MODEL_REQUIREMENTS)
    return run.info.run_id


def attach_seed_holdout(tracking_uri: str, run_id: str) -> None:
    """Attach the seed pattern's own 500-row holdout as a run's validation set."""
    dataset = demo_dataset(n_rows=1_500, seed=11)
    holdout = dataset.features.iloc[1000:].assign(default=dataset.target.iloc[1000:])
    attach_validation(
        tracking_uri, run_id, holdout, "default", source="seed holdout", sha256="0" * 64
    )


def log_cv_folds(client: MlflowClient, run_id: str, fold_aucs: tuple[float, ...]) -> None:
    """Log cv_auc per fold (step = fold) and each fold's rows and bads as params on a run.

    Folds of 2,000 rows and 300 bads: large enough that five of them can tell a stable run
    (200-row folds leave the verdict "inconclusive": the χ² test could miss a material spread).
    """
    client.log_batch(
        run_id,
        metrics=[Metric("cv_auc", value, 0, fold) for fold, value in enumerate(fold_aucs)],
        params=[
            Param("cv_fold_rows", ",".join(["2000"] * len(fold_aucs))),
            Param("cv_fold_bads", ",".join(["300"] * len(fold_aucs))),
        ],
    )


def _client_run(client: MlflowClient, experiment_id: str, name: str, **tags: str) -> str:
    """Create a bare run and return its id."""
    return client.create_run(experiment_id, run_name=name, tags=tags).info.run_id


def log_foreign_runs(tracking_uri: str, experiment: str = EXPERIMENT) -> dict[str, str]:
    """Runs other code might log: CV as named or nested runs, failed, running, deleted, HTML."""
    prepare_mlflow_environment(tracking_uri)
    client = MlflowClient(tracking_uri)
    experiment_id = ensure_experiment(client, experiment)
    ids: dict[str, str] = {}

    ids["named_folds"] = _client_run(client, experiment_id, "named_folds")
    client.log_batch(
        ids["named_folds"],
        metrics=[Metric(f"cv_auc_fold_{k}", 0.80 + k / 100, 0, 0) for k in range(4)]
        + [Metric("val_auc", 0.81, 0, 0)],
        params=[Param("num_leaves", "31"), Param("learning_rate", "0.1")],
    )
    client.set_terminated(ids["named_folds"])

    ids["parent"] = _client_run(client, experiment_id, "nested_cv_parent")
    client.log_batch(ids["parent"], metrics=[Metric("val_auc", 0.79, 0, 0)])
    for fold in range(3):
        child = _client_run(
            client,
            experiment_id,
            f"fold_{fold}",
            **{"mlflow.parentRunId": ids["parent"], "fold": str(fold)},
        )
        client.log_batch(
            child, metrics=[Metric("auc", 0.75 + fold / 50, 0, 0), Metric("ks", 0.4, 0, 0)]
        )
        client.set_terminated(child)
    client.set_terminated(ids["parent"])

    ids["failed"] = _client_run(client, experiment_id, "crashed_run")
    client.log_param(ids["failed"], "num_leaves", "abc")
    client.set_terminated(ids["failed"], status=RunStatus.to_string(RunStatus.FAILED))

    ids["running"] = _client_run(client, experiment_id, "still_running")

    ids["no_metrics"] = _client_run(client, experiment_id, "<b>bold</b><script>x</script>")
    client.log_batch(ids["no_metrics"], tags=[RunTag("note", "html name")])
    client.set_terminated(ids["no_metrics"])

    ids["deleted"] = _client_run(client, experiment_id, "deleted_run")
    client.set_terminated(ids["deleted"])
    client.delete_run(ids["deleted"])
    return ids


def forget_artifact_repositories() -> None:
    """Empty MLflow's process-wide cache of artifact repositories, which it keys by run id alone.

    Copies of a store keep their runs' ids: without this, a copy's artifacts would be read and
    written in whichever store of the same run was used first.
    """
    tracking_utils._artifact_repos_cache.clear()


def copy_file_store(template: Path, target: Path) -> Path:
    """Copy a file store and rewrite the absolute artifact locations it records."""
    shutil.copytree(template, target)
    old, new = template.resolve().as_posix(), target.resolve().as_posix()
    for meta in target.rglob("meta.yaml"):
        text = meta.read_text(encoding="utf-8")
        if old in text:
            meta.write_text(text.replace(old, new), encoding="utf-8")
    forget_artifact_repositories()
    return target
