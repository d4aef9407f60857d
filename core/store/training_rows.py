"""Read the training-rows record (ranges and row fingerprints) a run logged, if any."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.data.training_rows import TrainingRows
from core.run_schema import TRAINING_ROWS_DIR


def load_training_rows(client: MlflowClient, run_id: str) -> TrainingRows | None:
    """The run's training-rows record, or None when the run logged none (other code's runs)."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = client.download_artifacts(run_id, TRAINING_ROWS_DIR, tmp)
        except (MlflowException, OSError):
            return None
        if not any(Path(local).iterdir()):
            return None
        return TrainingRows.read(Path(local))
