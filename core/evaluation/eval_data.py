"""Evaluation data for diagnostics: a run's logged validation set, or a user's labelled file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.data.data_root import read_in_root
from core.data.synthetic import coerce_binary_target
from core.errors import DataValidationError
from core.run_schema import ID_COLUMN, LABEL_COLUMN, SCORE_COLUMN
from core.scoring.loaded_model import LoadedModel
from core.scoring.prepare import PreparedFeatures, RowSample
from core.scoring.scorer import scorer_for

LABEL_CANDIDATES = (LABEL_COLUMN, "default", "target", "bad", "y")


@dataclass(frozen=True, eq=False)
class EvaluationData:
    """Labels, the model's scores and the raw feature columns of one labelled data set."""

    source: str
    labels: np.ndarray
    scores: np.ndarray
    features: pd.DataFrame
    fingerprint: str
    unseen_categories: dict[str, list[str]] = field(default_factory=dict)
    missing_values: dict[str, int] = field(default_factory=dict)
    unseen_rows: dict[str, RowSample] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.labels)

    @property
    def n_bads(self) -> int:
        """Number of bads (label 1)."""
        return int(self.labels.sum())

    @property
    def bad_rate(self) -> float:
        """Share of bads."""
        return self.n_bads / self.n if self.n else float("nan")

    @property
    def has_both_classes(self) -> bool:
        """True when AUC and KS are defined."""
        return 0 < self.n_bads < self.n


def _scored(model: LoadedModel, frame: pd.DataFrame) -> tuple[np.ndarray, PreparedFeatures]:
    """Probabilities of raw rows and the prepared features (what the model could not see)."""
    scorer = scorer_for(model)
    prepared = scorer.prepare(frame)
    return scorer.probabilities(prepared), prepared


def score_frame(
    model: LoadedModel, frame: pd.DataFrame
) -> tuple[np.ndarray, dict[str, list[str]], dict[str, int]]:
    """Score raw rows with a model: probabilities, unseen categories and missing-value counts."""
    scores, prepared = _scored(model, frame)
    return scores, prepared.unseen_categories, prepared.missing_values


def _feature_columns(frame: pd.DataFrame, label_column: str) -> pd.DataFrame:
    """The frame without its label, logged score and row id columns."""
    drop = {label_column, SCORE_COLUMN, ID_COLUMN}
    return frame[[c for c in frame.columns if c not in drop]]


def from_validation_set(frame: pd.DataFrame, run_id: str) -> EvaluationData:
    """The run's logged validation set with the scores the run logged for it."""
    labels = coerce_binary_target(frame[LABEL_COLUMN], LABEL_COLUMN).to_numpy()
    return EvaluationData(
        source=f"validation set logged by run {run_id[:8]}",
        labels=labels,
        scores=frame[SCORE_COLUMN].to_numpy(dtype=float),
        features=_feature_columns(frame, LABEL_COLUMN),
        fingerprint=f"validation:{run_id}",
    )


def guess_label_column(columns: list[str]) -> str | None:
    """The most likely label column among a file's columns, or None."""
    lowered = {str(c).lower(): c for c in columns}
    return next((lowered[c] for c in LABEL_CANDIDATES if c in lowered), None)


def from_labelled_frame(
    frame: pd.DataFrame,
    model: LoadedModel,
    label_column: str,
    source: str,
    fingerprint: str,
) -> EvaluationData:
    """Score a user's labelled rows with the run's model, reporting what does not fit."""
    if label_column not in frame.columns:
        raise DataValidationError(
            f"Label column '{label_column}' is not in {source}.",
            fix=f"Pick one of: {', '.join(map(str, frame.columns[:20]))}.",
        )
    if frame.empty:
        raise DataValidationError(f"{source} has no rows.", fix="Give a file with data rows.")
    labels = coerce_binary_target(frame[label_column], label_column).to_numpy()
    features = _feature_columns(frame, label_column)
    scores, prepared = _scored(model, features)
    return EvaluationData(
        source=source,
        labels=labels,
        scores=scores,
        features=features,
        fingerprint=fingerprint,
        unseen_categories=prepared.unseen_categories,
        missing_values=prepared.missing_values,
        unseen_rows=prepared.unseen_rows,
    )


def content_fingerprint(content: bytes) -> str:
    """A short content hash that keys cached results of an uploaded file."""
    return "sha256:" + hashlib.sha256(content).hexdigest()[:16]


def read_path(path: str, root: Path) -> tuple[str, bytes]:
    """The name and bytes of a labelled file inside root (DATA_ROOT), or an error saying why not."""
    return read_in_root(root, path)


def rows_kept(data: EvaluationData, keep: np.ndarray, why: str) -> EvaluationData:
    """The same evaluation data restricted to the rows where `keep` is True (say `why`)."""
    mask = np.asarray(keep, dtype=bool)
    return EvaluationData(
        source=f"{data.source}, {why} ({int(mask.sum()):,} of {data.n:,} rows)",
        labels=data.labels[mask],
        scores=data.scores[mask],
        features=data.features.loc[mask].reset_index(drop=True),
        fingerprint=f"{data.fingerprint}:{why}:{int(mask.sum())}",
        unseen_categories=data.unseen_categories,
        missing_values=data.missing_values,
        unseen_rows=data.unseen_rows,
    )
