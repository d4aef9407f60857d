"""Train LightGBM default models with cross-validation and log each as a governed MLflow run."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import numpy as np
import pandas as pd
from mlflow.entities import Metric, Param
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sklearn.model_selection import StratifiedKFold, train_test_split

from core.code_version import git_commit
from core.data.synthetic import Dataset
from core.data.training_rows import TrainingRows, record_training_rows
from core.evaluation.metrics import auc_score, ks_statistic
from core.run_schema import (
    CODE_VERSION_TAG,
    GOVERNED_SCHEMA_VERSION,
    GOVERNED_TAG,
    ID_COLUMN,
    LABEL_COLUMN,
    MODEL_CARD_DIR,
    MODEL_CARD_FILE,
    SCORE_COLUMN,
    SCORE_SCALE_TAG,
    TRAINING_ROWS_DIR,
    VALIDATION_ARTIFACT,
    VALIDATION_ARTIFACT_DIR,
    VALIDATION_ARTIFACT_FILE,
)
from core.runs.fold_noise import FOLD_BADS_PARAM, FOLD_ROWS_PARAM, format_fold_counts
from core.scoring.calibrator import (
    CALIBRATION_PARAM,
)
from core.scoring.loaded_model import LoadedModel
from core.scoring.scorer import scorer_for
from core.store.client import ensure_experiment, open_client
from core.training import run_figures
from core.training.calibration import fit_calibrator, log_calibrator
from core.training.model_config import TrainConfig, build_model

logger = logging.getLogger(__name__)

_BATCH = 900


@dataclass(frozen=True)
class TrainedRun:
    """What one training run produced: its id and headline metrics."""

    run_id: str
    run_name: str
    val_auc: float
    val_ks: float
    cv_auc: tuple[float, ...]
    cv_ks: tuple[float, ...]
    metrics: dict[str, float] = field(default_factory=dict)
    scale: str = "risk_score"


@dataclass(frozen=True)
class CrossValidation:
    """Per-fold AUC and KS on the held-out folds, and every row's out-of-fold raw score."""

    aucs: list[float]
    kss: list[float]
    out_of_fold_raw: np.ndarray


def cross_validate_folds(
    dataset_x: pd.DataFrame, y: pd.Series, config: TrainConfig
) -> CrossValidation:
    """Stratified k-fold CV: per-fold AUC and KS, plus the out-of-fold raw scores (log-odds)."""
    out_of_fold = np.full(len(y), np.nan)
    if config.cv_folds < 2:
        return CrossValidation([], [], out_of_fold)
    folds = StratifiedKFold(n_splits=config.cv_folds, shuffle=True, random_state=config.seed)
    aucs: list[float] = []
    kss: list[float] = []
    for train_idx, test_idx in folds.split(dataset_x, y):
        model = build_model(config, list(dataset_x.columns))
        model.fit(dataset_x.iloc[train_idx], y.iloc[train_idx])
        scorer = scorer_for(LoadedModel(model))
        raw = scorer.raw_scores(scorer.prepare(dataset_x.iloc[test_idx]))
        out_of_fold[test_idx] = raw
        scores = scorer.probability_from_raw(raw)
        aucs.append(auc_score(y.iloc[test_idx], scores))
        kss.append(ks_statistic(y.iloc[test_idx], scores))
    return CrossValidation(aucs, kss, out_of_fold)


def cross_validate(
    dataset_x: pd.DataFrame, y: pd.Series, config: TrainConfig
) -> tuple[list[float], list[float]]:
    """Stratified k-fold CV: per-fold AUC and KS on the held-out fold."""
    result = cross_validate_folds(dataset_x, y, config)
    return result.aucs, result.kss


def cv_fold_sizes(y: pd.Series, config: TrainConfig) -> dict[str, str]:
    """Rows and bads of each held-out CV fold (the same split as cross_validate), as params."""
    if config.cv_folds < 2:
        return {}
    folds = StratifiedKFold(n_splits=config.cv_folds, shuffle=True, random_state=config.seed)
    held_out = [y.iloc[test_idx] for _, test_idx in folds.split(np.zeros(len(y)), y)]
    return {
        FOLD_ROWS_PARAM: format_fold_counts([len(fold) for fold in held_out]),
        FOLD_BADS_PARAM: format_fold_counts([int(fold.sum()) for fold in held_out]),
    }


def model_requirements() -> list[str]:
    """Pinned requirements of the logged model (MLflow's inference costs ~10 s a run)."""
    names = ("mlflow", "lightgbm", "scikit-learn", "skops", "pandas", "numpy", "scipy")
    return [f"{name}=={importlib.metadata.version(name)}" for name in names]


def _run_params(config: TrainConfig, dataset: Dataset) -> dict[str, str]:
    """Params logged on a governed run, as MLflow strings."""
    skipped = ("run_name", "monotone_constraints", "calibrate")
    hyper = {k: v for k, v in asdict(config).items() if k not in skipped}
    hyper["subsample_freq"] = config.lgbm_params()["subsample_freq"]
    params = {k: str(v) for k, v in hyper.items()}
    params.update(
        monotone_constraints=json.dumps(config.monotone_constraints or {}, sort_keys=True),
        data_version=dataset.data_version,
        features=",".join(dataset.features.columns),
        categorical_columns=",".join(dataset.categorical_columns),
        target=str(dataset.target.name),
        data_source=dataset.source,
    )
    params[CALIBRATION_PARAM] = config.calibrate or "none"
    return params


def _fold_metrics(name: str, values: list[float], timestamp: int) -> list[Metric]:
    """Per-fold metric entries (step = fold) and their summary statistics."""
    if not values:
        return []
    entries = [Metric(name, float(v), timestamp, step) for step, v in enumerate(values)]
    array = np.asarray(values)
    summary = {
        "mean": array.mean(),
        "std": array.std(ddof=1) if len(array) > 1 else 0.0,
        "min": array.min(),
        "max": array.max(),
    }
    entries += [Metric(f"{name}_{k}", float(v), timestamp, 0) for k, v in summary.items()]
    return entries


def _log_in_batches(client: MlflowClient, run_id: str, metrics: list[Metric]) -> None:
    """Log metrics in chunks below MLflow's batch limit."""
    for start in range(0, len(metrics), _BATCH):
        client.log_batch(run_id, metrics=metrics[start : start + _BATCH])


def validation_frame(
    x_val: pd.DataFrame, y_val: pd.Series, scores: np.ndarray, ids: pd.Series | None
) -> pd.DataFrame:
    """The labelled validation set with the model's scores, as logged for later pages."""
    frame = x_val.copy()
    frame.insert(0, ID_COLUMN, ids.loc[x_val.index].to_numpy() if ids is not None else x_val.index)
    frame[LABEL_COLUMN] = y_val.to_numpy()
    frame[SCORE_COLUMN] = scores
    return frame.reset_index(drop=True)


def _fit_final(
    config: TrainConfig,
    x_train: pd.DataFrame,
    y_train: pd.Series,
    x_val: pd.DataFrame,
    y_val: pd.Series,
) -> tuple[lgb.LGBMClassifier, list[float]]:
    """The final model fitted on the training rows, and its validation loss per iteration."""
    model = build_model(config, list(x_train.columns))
    evals: dict[str, dict[str, list[float]]] = {}
    model.fit(
        x_train,
        y_train,
        eval_X=(x_val,),
        eval_y=(y_val,),
        eval_names=["validation"],
        eval_metric="binary_logloss",
        callbacks=[lgb.record_evaluation(evals)],
    )
    return model, list(evals.get("validation", {}).get("binary_logloss", []))


def train_and_log(
    tracking_uri: str,
    experiment_name: str,
    dataset: Dataset,
    config: TrainConfig,
    model_card: Path | None = None,
) -> TrainedRun:
    """Train one model with CV, evaluate on a held-out set, and log a governed MLflow run
    (with `model_card`, the card it was trained under, as the run's own card)."""
    client = open_client(tracking_uri)
    experiment_id = ensure_experiment(client, experiment_name)
    x, y = dataset.features, dataset.target
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=config.validation_fraction, stratify=y, random_state=config.seed
    )
    folds = cross_validate_folds(x_train, y_train, config)
    cv_auc, cv_ks = folds.aucs, folds.kss
    model, losses = _fit_final(config, x_train, y_train, x_val, y_val)
    calibrator = None
    if config.calibrate is not None:
        calibrator = fit_calibrator(config.calibrate, folds.out_of_fold_raw, y_train.to_numpy())
    scorer = scorer_for(LoadedModel(model, calibrator))
    val_scores = scorer.probability_of(x_val)
    train_scores = scorer.probability_of(x_train)
    headline = {
        "val_auc": auc_score(y_val, val_scores),
        "val_ks": ks_statistic(y_val, val_scores),
        "train_auc": auc_score(y_train, train_scores),
        "val_bad_rate": float(y_val.mean()),
        "n_train": float(len(y_train)),
        "n_validation": float(len(y_val)),
    }
    mlflow.set_tracking_uri(tracking_uri)
    tags = {
        "data_version": dataset.data_version,
        CODE_VERSION_TAG: (git_commit() or "unknown")[:7],
        GOVERNED_TAG: GOVERNED_SCHEMA_VERSION,
        "governance.validation_artifact": VALIDATION_ARTIFACT,
        SCORE_SCALE_TAG: scorer.scale,
    }
    with mlflow.start_run(experiment_id=experiment_id, run_name=config.run_name, tags=tags) as run:
        run_id = run.info.run_id
        params = _run_params(config, dataset) | cv_fold_sizes(y_train, config)
        client.log_batch(run_id, params=[Param(k, v) for k, v in params.items()])
        # The model goes first: in a file store, log_model after metrics re-appends them.
        example = x_val.head(50).astype({c: "float64" for c in x_val.select_dtypes("integer")})
        signature = infer_signature(example, val_scores[:50])
        logged = mlflow.lightgbm.log_model(
            model, name="model", signature=signature, pip_requirements=model_requirements()
        )
        if calibrator is not None:
            log_calibrator(client, logged.model_id, calibrator)
        timestamp = int(pd.Timestamp.now(tz="UTC").timestamp() * 1000)
        metrics = [Metric(k, float(v), timestamp, 0) for k, v in headline.items()]
        metrics += _fold_metrics("cv_auc", cv_auc, timestamp)
        metrics += _fold_metrics("cv_ks", cv_ks, timestamp)
        metrics += [Metric("val_logloss", float(v), timestamp, i) for i, v in enumerate(losses)]
        _log_in_batches(client, run_id, metrics)
        _log_artifacts(
            client,
            run_id,
            validation=validation_frame(x_val, y_val, val_scores, dataset.ids),
            model=model,
            cv_auc=cv_auc,
            cv_ks=cv_ks,
            training_rows=record_training_rows(x_train, y_train, list(x_train.columns)),
        )
        if model_card is not None:
            log_model_card(client, run_id, model_card)
    return TrainedRun(
        run_id=run_id,
        run_name=config.run_name,
        val_auc=headline["val_auc"],
        val_ks=headline["val_ks"],
        cv_auc=tuple(cv_auc),
        cv_ks=tuple(cv_ks),
        metrics=headline,
        scale=scorer.scale,
    )


def _log_artifacts(
    client: MlflowClient,
    run_id: str,
    validation: pd.DataFrame,
    model: lgb.LGBMClassifier,
    cv_auc: list[float],
    cv_ks: list[float],
    training_rows: TrainingRows,
) -> None:
    """Log the validation set, training-row record, CV summary and ROC/KS/importance figures."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        training_rows.write(root / TRAINING_ROWS_DIR)
        client.log_artifacts(run_id, str(root / TRAINING_ROWS_DIR), TRAINING_ROWS_DIR)
        val_dir = root / VALIDATION_ARTIFACT_DIR
        val_dir.mkdir()
        validation.to_parquet(val_dir / VALIDATION_ARTIFACT_FILE, index=False)
        client.log_artifacts(run_id, str(val_dir), VALIDATION_ARTIFACT_DIR)
        if cv_auc:
            cv_path = root / "cv_summary.csv"
            pd.DataFrame({"fold": range(len(cv_auc)), "auc": cv_auc, "ks": cv_ks}).to_csv(
                cv_path, index=False
            )
            client.log_artifact(run_id, str(cv_path))
        fig_dir = root / "figures"
        fig_dir.mkdir()
        run_figures.write_run_figures(
            fig_dir,
            labels=validation[LABEL_COLUMN].to_numpy(),
            scores=validation[SCORE_COLUMN].to_numpy(),
            importance=pd.Series(
                model.booster_.feature_importance("gain"), index=model.feature_name_
            ),
        )
        client.log_artifacts(run_id, str(fig_dir), "figures")


def log_model_card(client: MlflowClient, run_id: str, card: Path) -> None:
    """Log a model card file as the run's own card (model_card/model_card.toml)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / MODEL_CARD_DIR
        folder.mkdir()
        (folder / MODEL_CARD_FILE).write_bytes(card.read_bytes())
        client.log_artifacts(run_id, str(folder), MODEL_CARD_DIR)


def train_many(
    tracking_uri: str,
    experiment_name: str,
    dataset: Dataset,
    configs: list[TrainConfig],
    on_done: Callable[[int, int, TrainedRun], None] | None = None,
    model_card: Path | None = None,
) -> list[TrainedRun]:
    """Train and log several configurations, reporting each finished run to on_done."""
    results = []
    for index, config in enumerate(configs, start=1):
        result = train_and_log(tracking_uri, experiment_name, dataset, config, model_card)
        results.append(result)
        if on_done is not None:
            on_done(index, len(configs), result)
    return results
