"""Read the training-rows record (ranges and row fingerprints) a run logged, if any."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from core.data.training_rows import TrainingOverlap, TrainingRows, training_overlap
from core.run_schema import TRAINING_ROWS_DIR
from core.store.artifacts import optional_artifact


def load_training_rows(client: MlflowClient, run_id: str) -> TrainingRows | None:
    """The run's training-rows record, or None when the run logged none (other code's runs)."""
    with tempfile.TemporaryDirectory() as tmp:
        local = optional_artifact(client, run_id, TRAINING_ROWS_DIR, tmp)
        if local is None or not any(local.iterdir()):
            return None
        return TrainingRows.read(local)


def training_overlaps(
    client: MlflowClient,
    runs: Mapping[str, str],
    frame: pd.DataFrame,
    labels: Sequence[float] | np.ndarray,
) -> tuple[TrainingOverlap, ...]:
    """For each named run ({name: run_id}): which evaluation rows were among its training rows."""
    return tuple(
        training_overlap(name, load_training_rows(client, run_id), frame, labels)
        for name, run_id in runs.items()
    )
