"""Optional run artifacts: download one if the run logged it, else None (no error)."""

from __future__ import annotations

from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


def optional_artifact(client: MlflowClient, run_id: str, path: str, folder: str) -> Path | None:
    """Download the run's artifact `path` into `folder`; None when the run has no such artifact."""
    try:
        return Path(client.download_artifacts(run_id, path, folder))
    except (MlflowException, OSError):
        return None
