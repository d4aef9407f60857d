"""Attach a labelled validation set to a run logged by other code, as governed runs carry it.

The file is scored with the run's own model through the one scoring path, logged as the same
artifact `core` training writes (validation/validation.parquet with row_id, features, label and
score), val_auc / val_ks are logged when the run lacks them, and tags record what was attached.
Category levels the model never saw do not refuse the attach: the result warns, per feature,
with the levels and how many rows carry them, scored as missing as LightGBM scores them.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from mlflow.entities import Metric, RunTag
from mlflow.tracking import MlflowClient

from core.data.synthetic import coerce_binary_target
from core.data.tables import read_table
from core.data.training_rows import TrainingOverlap, record_training_rows, training_overlap
from core.errors import DataValidationError, GovernanceError
from core.evaluation.metrics import auc_score, ks_statistic
from core.run_schema import (
    TRAINING_ROWS_DIR,
    VALIDATION_ARTIFACT,
    VALIDATION_ARTIFACT_DIR,
    VALIDATION_ARTIFACT_FILE,
)
from core.scoring.prepare import RowSample, with_model_column_names
from core.scoring.scorer import scorer_for
from core.store.client import open_client
from core.store.run_record import RunRecord, fetch_run_record, load_record_model
from core.store.training_rows import load_training_rows
from core.training.trainer import validation_frame

ARTIFACT_TAG = "governance.validation_artifact"
SOURCE_TAG = "governance.validation_source"
HASH_TAG = "governance.validation_sha256"
ROWS_TAG = "governance.validation_rows"
ATTACHED_AT_TAG = "governance.validation_attached_at"
LOGGED_METRICS_TAG = "governance.validation_logged_metrics"
REPLACED_TAG = "governance.validation_replaced"
_HEADLINE = ("val_auc", "val_ks")


class AttachRefusedError(GovernanceError):
    """The run cannot take this validation set (it already has one, or lacks a model)."""


@dataclass(frozen=True)
class AttachResult:
    """What was attached to which run, the metrics it gave and which of them were logged."""

    run_id: str
    run_name: str
    source: str
    sha256: str
    rows: int
    bads: int
    metrics: dict[str, float]
    logged_metrics: tuple[str, ...]
    replaced: str | None = None
    unseen_categories: dict[str, list[str]] = field(default_factory=dict)
    unseen_rows: dict[str, RowSample] = field(default_factory=dict)
    overlap: TrainingOverlap | None = None

    def warnings(self) -> list[str]:
        """One sentence per feature whose levels the model never saw in training, and one on
        validation rows found among the training rows (or that this cannot be checked)."""
        found = [
            unseen_warning(name, values, self.unseen_rows.get(name))
            for name, values in self.unseen_categories.items()
        ]
        if self.overlap is not None and (self.overlap.material or not self.overlap.checkable):
            found.append(self.overlap.sentence)
        return found

    def summary(self) -> str:
        """One line for the CLI and the page."""
        values = ", ".join(
            f"{name} {value:.4f}" + ("" if name in self.logged_metrics else " (run keeps its own)")
            for name, value in self.metrics.items()
        )
        replaced = f"; replaced {self.replaced}" if self.replaced else ""
        return (
            f"Attached {self.rows:,} labelled rows ({self.bads:,} bads) from {self.source} "
            f"[sha256 {self.sha256[:12]}] to run {self.run_name} ({self.run_id[:8]}): "
            f"{values}{replaced}."
        )


UNSEEN_SHOWN = 5


def unseen_warning(name: str, values: list[str], rows: RowSample | None) -> str:
    """'home_ownership: 3 rows have categories the model never saw in training (HOUSEBOAT) …'."""
    shown = ", ".join(values[:UNSEEN_SHOWN]) + (
        f" and {len(values) - UNSEEN_SHOWN} more" if len(values) > UNSEEN_SHOWN else ""
    )
    count = f"{rows.count:,} row{'s' if rows.count != 1 else ''}" if rows else "some rows"
    return (
        f"{name}: {count} {'has' if rows and rows.count == 1 else 'have'} categories the model "
        f"never saw in training ({shown}). The model scores them as a missing {name}, as "
        "LightGBM treats any unseen category, so their scores (and val_auc / val_ks) reflect "
        "that; the file was attached as it is."
    )


def _labels(frame: pd.DataFrame, target: str, source: str) -> pd.Series:
    """The 0/1 target with both classes present, or DataValidationError."""
    if target not in frame.columns:
        raise DataValidationError(
            f"Target column '{target}' is not in {source}.",
            fix=f"Pick one of: {', '.join(map(str, frame.columns[:20]))}.",
        )
    labels = coerce_binary_target(frame[target], target)
    if labels.nunique() < 2:
        raise DataValidationError(
            f"Target '{target}' in {source} has one class only.",
            fix="A validation set needs both goods (0) and bads (1) for AUC and KS.",
        )
    return labels


def _features(frame: pd.DataFrame, features: list[str], source: str) -> pd.DataFrame:
    """The model's feature columns of the file, or DataValidationError naming the missing ones."""
    frame = with_model_column_names(frame, features)
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{source} lacks {len(missing)} of the model's features: {', '.join(missing[:20])}.",
            fix="Give a file with every feature the model was trained on.",
        )
    return frame[features]


def _ids(frame: pd.DataFrame, id_column: str | None, source: str) -> pd.Series | None:
    """The id column as text, None when not asked for, DataValidationError when absent."""
    if id_column is None:
        return None
    if id_column not in frame.columns:
        raise DataValidationError(
            f"Id column '{id_column}' is not in {source}.", fix="Name an existing column."
        )
    return frame[id_column].astype("string")


def _log_validation(client: MlflowClient, run_id: str, frame: pd.DataFrame) -> None:
    """Write the frame as the governed validation artifact of the run."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / VALIDATION_ARTIFACT_DIR
        folder.mkdir()
        frame.to_parquet(folder / VALIDATION_ARTIFACT_FILE, index=False)
        client.log_artifacts(run_id, str(folder), VALIDATION_ARTIFACT_DIR)


def _refuse_unless_attachable(record: RunRecord, replace: bool) -> None:
    """AttachRefusedError when the run has no model, or a validation set and no --replace."""
    if not record.has_model:
        raise AttachRefusedError(
            f"Run '{record.run_name}' logged no model, so nothing can score the validation set.",
            fix="Log the model with mlflow.lightgbm.log_model(model, name='model') first.",
        )
    tags = record.run.data.tags
    if record.has_validation_set and not replace:
        raise AttachRefusedError(
            f"Run '{record.run_name}' already has a validation set"
            + (f" ({tags[SOURCE_TAG]})" if SOURCE_TAG in tags else "")
            + ".",
            fix="Pass --replace (recorded on the run) to replace it.",
        )


def attach_validation(
    tracking_uri: str,
    run_id: str,
    frame: pd.DataFrame,
    target: str,
    *,
    source: str,
    sha256: str,
    id_column: str | None = None,
    replace: bool = False,
    training: pd.DataFrame | None = None,
) -> AttachResult:
    """Score a labelled frame with the run's model and log it as the run's validation set.

    `training` (the run's training rows, with the same label column) logs their record: each
    numeric feature's range and a fingerprint per row, for monitoring and the leakage check.
    """
    client = open_client(tracking_uri)
    record = fetch_run_record(client, run_id)
    _refuse_unless_attachable(record, replace)
    tags = record.run.data.tags
    labels = _labels(frame, target, source)
    ids = _ids(frame, id_column, source)
    model = load_record_model(tracking_uri, record)
    features = _features(frame, model.feature_names, source)
    scorer = scorer_for(model)
    prepared = scorer.prepare(features)
    scores = scorer.probabilities(prepared)
    metrics = {"val_auc": auc_score(labels, scores), "val_ks": ks_statistic(labels, scores)}
    previously_logged = set(filter(None, tags.get(LOGGED_METRICS_TAG, "").split(",")))
    to_log = tuple(
        name
        for name in _HEADLINE
        if name in previously_logged or not math.isfinite(record.metrics.get(name, math.nan))
    )
    now = datetime.now(UTC)
    timestamp = int(now.timestamp() * 1000)
    replaced = None
    if record.has_validation_set:
        replaced = f"{tags.get(SOURCE_TAG, 'a validation set')} {tags.get(HASH_TAG, '')}".strip()
    _log_validation(client, run_id, validation_frame(features, labels, scores, ids))
    if training is not None:
        _log_training_rows(client, run_id, training, target, model.feature_names)
    new_tags = {
        ARTIFACT_TAG: VALIDATION_ARTIFACT,
        SOURCE_TAG: source,
        HASH_TAG: sha256,
        ROWS_TAG: str(len(labels)),
        ATTACHED_AT_TAG: now.isoformat(),
        LOGGED_METRICS_TAG: ",".join(to_log),
    }
    if replaced:
        history = tags.get(REPLACED_TAG, "")
        new_tags[REPLACED_TAG] = (history + "; " if history else "") + (
            f"{replaced} replaced at {now.isoformat()}"
        )
    client.log_batch(
        run_id,
        metrics=[Metric(name, float(metrics[name]), timestamp, 0) for name in to_log],
        tags=[RunTag(k, v) for k, v in new_tags.items()],
    )
    return AttachResult(
        run_id=run_id,
        run_name=record.run_name,
        source=source,
        sha256=sha256,
        rows=len(labels),
        bads=int(labels.sum()),
        metrics=metrics,
        logged_metrics=to_log,
        replaced=replaced,
        unseen_categories=prepared.unseen_categories,
        unseen_rows=prepared.unseen_rows,
        overlap=training_overlap(
            f"run {record.run_name}", load_training_rows(client, run_id), features, labels
        ),
    )


def _log_training_rows(
    client: MlflowClient, run_id: str, training: pd.DataFrame, target: str, names: list[str]
) -> None:
    """Log the record of the run's training rows (ranges and row fingerprints)."""
    source = "the training data"
    record = record_training_rows(
        _features(training, names, source), _labels(training, target, source), names
    )
    with tempfile.TemporaryDirectory() as tmp:
        record.write(Path(tmp) / TRAINING_ROWS_DIR)
        client.log_artifacts(run_id, str(Path(tmp) / TRAINING_ROWS_DIR), TRAINING_ROWS_DIR)


def content_sha256(content: bytes) -> str:
    """The full sha256 of a file's bytes, as recorded on the run."""
    return hashlib.sha256(content).hexdigest()


def attach_validation_file(
    tracking_uri: str,
    run_id: str,
    path: str | Path,
    target: str,
    *,
    id_column: str | None = None,
    replace: bool = False,
    training_path: str | Path | None = None,
) -> AttachResult:
    """Read a labelled CSV or Parquet file and attach it to the run (see attach_validation);
    `training_path` names the run's training rows when they are at hand."""
    file = Path(path)
    frame = read_table(file)
    training = read_table(Path(training_path)) if training_path else None
    return attach_validation(
        tracking_uri,
        run_id,
        frame,
        target,
        source=file.name,
        sha256=content_sha256(file.read_bytes()),
        id_column=id_column,
        replace=replace,
        training=training,
    )
