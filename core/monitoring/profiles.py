"""Each run's reference profile: frozen in the export bundle, else built from the run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mlflow.tracking import MlflowClient

from core.data.training_rows import TrainingRows
from core.errors import GovernanceError
from core.monitoring.reference import ProfileError, ReferenceProfile, read_profile
from core.monitoring.run_profile import profile_from_run
from core.record.frozen import profile_path
from core.record.ledger import require_intact
from core.record.manifest import PromotionManifest, ledger_path
from core.record.signing import trusted_public_key
from core.settings import Settings
from core.store.training_rows import load_training_rows


@dataclass(frozen=True)
class ProfileSet:
    """Profiles by run id, and sentences saying where each came from or why one is missing."""

    profiles: dict[str, ReferenceProfile]
    notes: tuple[str, ...]
    training: dict[str, TrainingRows | None] = field(default_factory=dict)


def _promotions(settings: Settings) -> dict[str, PromotionManifest]:
    """The latest ledger manifest of every promoted run (empty without a ledger); entries that
    install no manifest (four-eyes requests, acknowledgements) are not promotions."""
    chain = require_intact(ledger_path(settings.promotion_manifest), trusted_public_key(settings))
    return {entry.manifest.run_id: entry.manifest for entry in chain.installs}


def frozen_profile(settings: Settings, manifest: PromotionManifest) -> ReferenceProfile | None:
    """The profile frozen with a promotion (checked against its ledger sha256), or None."""
    if not manifest.reference_profile_sha256:
        return None
    path = profile_path(manifest.exported_model_dir(settings.promotion_manifest))
    return read_profile(path, manifest.reference_profile_sha256)


def load_profiles(settings: Settings, client: MlflowClient, run_ids: Iterable[str]) -> ProfileSet:
    """A profile per run: frozen at promotion when there is one, else built from the run; and
    each run's training-rows record (None when it logged none) for the outcome checks."""
    promoted = _promotions(settings)
    profiles, notes = {}, []
    training = {run_id: load_training_rows(client, run_id) for run_id in run_ids}
    for run_id in run_ids:
        manifest = promoted.get(run_id)
        threshold = manifest.threshold if manifest else settings.decision_threshold
        why = "it was never promoted"
        try:
            frozen = frozen_profile(settings, manifest) if manifest else None
            if frozen is not None:
                profiles[run_id] = frozen
                continue
            if manifest:
                why = "it was promoted before profiles were frozen at promotion"
        except ProfileError as exc:
            why = exc.message
        try:
            profiles[run_id] = profile_from_run(settings.tracking_uri, client, run_id, threshold)
        except GovernanceError as exc:
            notes.append(f"No reference profile for run {run_id}: {exc.message}")
            continue
        notes.append(
            f"Run {run_id[:8]} has no frozen reference profile ({why}): its profile was built "
            "now from the run's logged validation set."
        )
    return ProfileSet(profiles, tuple(notes), training)
