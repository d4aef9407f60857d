"""The promotion manifest: the contract between the dashboard and production (schema + read)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import GovernanceError

MANIFEST_SCHEMA_VERSION = 1


class ManifestError(GovernanceError):
    """The promotion manifest exists but cannot be read or does not match the schema."""


class GateResult(BaseModel):
    """One promotion gate and its outcome."""

    model_config = ConfigDict(frozen=True)

    name: str
    passed: bool
    detail: str = ""
    overridden: bool = False


class PromotionManifest(BaseModel):
    """What production runs: the run, its exported model, and the business threshold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = MANIFEST_SCHEMA_VERSION
    run_id: str
    run_name: str = ""
    experiment_id: str
    experiment_name: str
    tracking_uri: str
    model_uri: str
    exported_model_path: str
    exported_model_sha256: str
    threshold: float = Field(gt=0.0, lt=1.0)
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
