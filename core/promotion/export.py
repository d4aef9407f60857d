"""Export a run's MLflow model folder into the deploy folder, with a sha256 over its files."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.errors import ArtifactMissingError, ModelLoadError
from core.monitoring.reference import ReferenceProfile
from core.monitoring.run_profile import profile_from_validation
from core.record.atomic_io import write_atomic
from core.record.export import ExportedModel, describe, tree_sha256
from core.record.frozen import profile_path
from core.run_schema import model_uri
from core.settings import prepare_mlflow_environment
from core.store.access import load_validation_set
from core.store.run_record import RunRecord, load_record_model
from core.store.runs_table import LOG_MODEL_HISTORY_TAG
from core.store.training_rows import load_training_rows

MODEL_NAME = "model"


@dataclass(frozen=True)
class ModelLocation:
    """Where a run's model lives: an artifact URI, and the LoggedModel id in MLflow 3."""

    artifact_uri: str
    model_id: str | None


def locate_model(client: MlflowClient, run: Run) -> ModelLocation:
    """The run's model: its LoggedModel (MLflow 3) or the run's model/ artifact (MLflow 2)."""
    run_id = run.info.run_id
    outputs = getattr(run, "outputs", None)
    model_ids = [o.model_id for o in (getattr(outputs, "model_outputs", None) or [])]
    named = [m for m in (client.get_logged_model(i) for i in model_ids) if m.name == MODEL_NAME]
    if named:
        return ModelLocation(named[-1].artifact_location, named[-1].model_id)
    if LOG_MODEL_HISTORY_TAG in run.data.tags:
        return ModelLocation(model_uri(run_id), None)
    raise ModelLoadError(
        f"Run '{run_id}' logged no model named '{MODEL_NAME}'.",
        fix="Pick a run with a model, or log one with "
        "mlflow.lightgbm.log_model(model, name='model').",
    )


@contextlib.contextmanager
def staged_export(
    tracking_uri: str, client: MlflowClient, run: Run, deploy_dir: Path
) -> Iterator[ExportedModel]:
    """Download the run's model folder into a hidden staging folder of deploy_dir (removed after).

    Move it into place with install_export inside the with block.
    """
    prepare_mlflow_environment(tracking_uri)
    run_id = run.info.run_id
    source = locate_model(client, run).artifact_uri
    deploy_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=deploy_dir, prefix=".export-"))
    try:
        try:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=source, dst_path=str(staging), tracking_uri=tracking_uri
            )
        except (MlflowException, OSError) as exc:
            raise ModelLoadError(
                f"The model of run '{run_id}' could not be downloaded from {source} "
                f"({str(exc).splitlines()[0][:200]}).",
                fix="Check that the store's artifacts are reachable.",
            ) from exc
        folder = Path(local)
        if not (folder / "MLmodel").is_file():
            raise ModelLoadError(f"The model of run '{run_id}' has no MLmodel file at {source}.")
        yield describe(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install_export(staged: ExportedModel, target: Path) -> ExportedModel:
    """Move a staged export to target; an intact identical target is kept as it is."""
    if target.is_dir():
        if tree_sha256(target) == staged.sha256:
            return describe(target)
        stale = target.with_name(f".{target.name}.stale")
        shutil.rmtree(stale, ignore_errors=True)
        target.rename(stale)
        shutil.rmtree(stale, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged.path.rename(target)
    return describe(target)


def promotion_profile(
    tracking_uri: str, client: MlflowClient, record: RunRecord, threshold: float
) -> ReferenceProfile | None:
    """The profile to freeze with a promotion, or None when the run logged no validation set."""
    if not record.has_validation_set:
        return None
    try:
        validation = load_validation_set(client, record.run_id)
    except ArtifactMissingError:
        return None
    model = load_record_model(tracking_uri, record)
    training = load_training_rows(client, record.run_id)
    return profile_from_validation(model, validation, record.run_id, threshold, training)


def install_profile(profile: ReferenceProfile, export_dir: Path) -> Path:
    """Write the profile atomically beside the exported model folder; return its path."""
    path = profile_path(export_dir)
    write_atomic(path, profile.to_json_bytes())
    return path
