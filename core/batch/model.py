"""The model a batch job scores with: the promoted one, verified exactly as the service verifies
it (core.serving.model_holder.load_promoted), or a named run marked as not promoted."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.errors import GovernanceError, ModelLoadError
from core.record.export import tree_sha256
from core.record.manifest import read_manifest
from core.scoring.calibrator import read_calibrator, scale_of
from core.scoring.reason_codes import ReasonCodeBook, load_reason_codes
from core.serving.model_holder import ModelIdentity, ServedModel, load_bundle, load_promoted
from core.settings import Settings
from core.store.access import download_model_folder, get_run


class BatchModelError(GovernanceError):
    """The model of a batch job cannot be used."""


@dataclass(frozen=True)
class ModelFolder:
    """What a worker needs to load the model itself: its folder, identity and reason texts
    (small and picklable: no model object travels to a worker)."""

    folder: Path
    identity: ModelIdentity
    book: ReasonCodeBook
    promoted: bool

    def load(self, folder: Path | None = None) -> ServedModel:
        """Verify the folder's sha256 against the identity, load and warm the Scorer."""
        return load_bundle(folder or self.folder, self.identity, self.book)


def promoted_model(settings: Settings) -> tuple[ModelFolder, ServedModel]:
    """The promoted model as the service loads it, and its folder for the workers."""
    manifest_path = settings.promotion_manifest
    served = load_promoted(manifest_path, settings.reason_codes_file, settings.feature_policy_file)
    manifest = read_manifest(manifest_path)
    if manifest is None or ModelIdentity.from_manifest(manifest) != served.identity:
        raise BatchModelError(
            f"The promotion manifest '{manifest_path}' changed while the job started.",
            fix="Run the job again once the promotion or rollback has finished.",
        )
    folder = manifest.exported_model_dir(manifest_path)
    return ModelFolder(folder, served.identity, served.book, True), served


def run_model(
    settings: Settings, run_id: str, threshold: float, workdir: Path
) -> tuple[ModelFolder, ServedModel]:
    """A run's model (not promoted), downloaded into workdir and loaded the same way."""
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    run = get_run(client, run_id)
    try:
        folder = download_model_folder(settings.tracking_uri, run_id, workdir)
    except (MlflowException, OSError) as exc:
        raise ModelLoadError(
            f"The model of run '{run_id}' could not be downloaded ({type(exc).__name__}).",
            fix="Check that the run logged a LightGBM model under the name 'model'.",
        ) from exc
    identity = ModelIdentity.candidate(
        run_id,
        run.info.run_name or run_id,
        threshold,
        tree_sha256(folder),
        scale_of(read_calibrator(folder)),
    )
    book = load_reason_codes(settings.reason_codes_file, settings.feature_policy_file)
    model = ModelFolder(folder, identity, book, False)
    return model, model.load()
