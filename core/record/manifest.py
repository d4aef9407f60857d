"""The promotion manifest: the contract between the dashboard and production (schema + read)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

from core.errors import GovernanceError
from core.scoring.calibrator import RISK_SCORE, ScoreScale
from core.scoring.feature_contract import FeatureContract

MANIFEST_SCHEMA_VERSION = 1
CHAMPION_ALIAS = "champion"
LEDGER_SUFFIX = ".ledger.jsonl"
EXPORT_FOLDER = "models"


class ManifestError(GovernanceError):
    """The promotion manifest exists but cannot be read or does not match the schema."""


class GateResult(BaseModel):
    """One promotion gate and its outcome."""

    model_config = ConfigDict(frozen=True)

    name: str
    passed: bool
    detail: str = ""
    overridden: bool = False

    @property
    def ok(self) -> bool:
        """True when the gate passed or was overridden with a written reason."""
        return self.passed or self.overridden


class RegistryRecord(BaseModel):
    """The MLflow registry version that mirrors the manifest (sqlite and server stores)."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    alias: str = CHAMPION_ALIAS


class LeanRecord(BaseModel):
    """A record whose keys in UNSET_OMITTED are left out of its dump when None: records written
    before those keys existed, or without a value for them, serialise (and hash) as before."""

    UNSET_OMITTED: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler: SerializerFunctionWrapHandler) -> dict:
        """The dump without the UNSET_OMITTED keys that are None."""
        return {
            k: v for k, v in handler(self).items() if not (k in self.UNSET_OMITTED and v is None)
        }


class Signoff(BaseModel):
    """A person who signed a promotion off: the name, how it was established, when, and for a
    signed-in person the token's issuer, subject and e-mail and the role they acted in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    identity: str = "declared"
    at: str | None = None
    issuer: str | None = None
    subject: str | None = None
    email: str | None = None
    role: str | None = None

    @property
    def label(self) -> str:
        """'Bob (approver, signed in as bob@bank.example, https://idp sub 42)' and the like."""
        if self.identity != "signed-in":
            return f"{self.name} ({self.identity})"
        parts = [p for p in (self.role, f"signed in as {self.email or self.name}") if p]
        token = f"; {self.issuer} sub {self.subject}" if self.subject else ""
        return f"{self.name} ({', '.join(parts)}{token})"


class PromotionManifest(LeanRecord):
    """What production runs: the run, its exported model, and the business threshold."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    UNSET_OMITTED: ClassVar[tuple[str, ...]] = ("requester", "approver")

    schema_version: int = MANIFEST_SCHEMA_VERSION
    run_id: str
    run_name: str = ""
    experiment_id: str
    experiment_name: str
    tracking_uri: str
    model_uri: str
    exported_model_path: str
    exported_model_sha256: str
    reference_profile_sha256: str | None = None
    evidence_pack_sha256: str | None = None
    threshold: float = Field(gt=0.0, lt=1.0)
    # The scale the threshold is on; manifests written before calibration existed read as
    # "risk_score" (core.scoring.calibrator).
    score_scale: ScoreScale = RISK_SCORE
    metrics: dict[str, float] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)
    data_version: str | None = None
    promoted_by: str
    promoted_at: str
    reason: str
    action: str = "promote"
    previous_run_id: str | None = None
    previous_threshold: float | None = None
    gate_results: list[GateResult] = Field(default_factory=list)
    versions: dict[str, str] = Field(default_factory=dict)
    ledger_entry_hash: str | None = None
    forced: bool = False
    force_reason: str | None = None
    auc_tolerance: float | None = None
    registry: RegistryRecord | None = None
    registry_note: str = ""
    # Who requested (or promoted) and who approved, with their identities; absent in
    # manifests written before (core.record.manifest.Signoff).
    requester: Signoff | None = None
    approver: Signoff | None = None
    # Added with the model slot (issue 23); manifests written before read as None: their slot
    # is their experiment and their contract is read from their export.
    slot: str | None = None
    feature_contract: FeatureContract | None = None
    feature_contract_sha256: str | None = None
    schema_change_reason: str | None = None

    @property
    def served_slot(self) -> str:
        """The slot this manifest serves: the recorded one, else its experiment's name."""
        return self.slot or self.experiment_name

    def exported_model_dir(self, manifest_path: str | Path) -> Path:
        """The exported model folder (its path is stored relative to the manifest's folder)."""
        return Path(manifest_path).parent / self.exported_model_path

    def to_json_bytes(self) -> bytes:
        """The manifest as pretty, stable JSON bytes."""
        return (self.model_dump_json(indent=2) + "\n").encode("utf-8")


def ledger_path(manifest_path: str | Path) -> Path:
    """The append-only ledger beside the manifest (promotion.json -> promotion.ledger.jsonl)."""
    path = Path(manifest_path)
    return path.with_name(path.stem + LEDGER_SUFFIX)


def read_manifest(path: str | Path) -> PromotionManifest | None:
    """The current manifest, None when nothing was promoted yet, ManifestError when invalid."""
    file = Path(path)
    if not file.exists():
        return None
    try:
        return PromotionManifest.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0][:200]
        raise ManifestError(
            f"The promotion manifest '{file}' is invalid ({first}).",
            fix="Restore it from the ledger with `python -m core promote --rollback`, "
            "or from version control; do not edit it by hand.",
        ) from exc
