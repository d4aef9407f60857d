"""Files frozen with a promotion beside the exported model, each with its sha256 in the ledger
entry: the evidence pack and the reference profile."""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.errors import GovernanceError
from core.record.atomic_io import write_atomic

PACK_SUFFIX = ".evidence-pack"
PROFILE_SUFFIX = ".reference_profile.json"


class FrozenFileError(GovernanceError):
    """A file frozen with a promotion is missing or does not match its sha256."""


class EvidencePackError(FrozenFileError):
    """The evidence pack frozen with a promotion is missing or does not match its sha256."""


def profile_path(export_dir: Path) -> Path:
    """Where an exported model's profile lives: beside its folder (models/<run>.reference_…)."""
    return export_dir.with_name(export_dir.name + PROFILE_SUFFIX)


def _sha256_of(path: Path, what: str, error: type[FrozenFileError], fix: str) -> str:
    """The sha256 of a frozen file's bytes, or `error` naming the file when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise error(f"The {what} '{path}' cannot be read ({exc.strerror}).", fix=fix) from exc


def verify_profile_file(export_dir: Path, expected_sha256: str) -> Path:
    """The frozen profile's path when its bytes match the ledger's sha256, else FrozenFileError."""
    path = profile_path(export_dir)
    removed = "Someone removed the deployed files: promote or roll back to re-export them."
    if _sha256_of(path, "reference profile", FrozenFileError, removed) != expected_sha256:
        raise FrozenFileError(
            f"The reference profile '{path}' does not match the sha256 in the ledger.",
            fix="Someone changed the deployed files: promote or roll back to re-export them.",
        )
    return path


def frozen_pack_path(export_dir: Path, sha256: str) -> Path:
    """The pack frozen with a promotion: beside the exported model, named by its sha256.

    The hash in the name keeps each promotion's pack (a run promoted twice at two thresholds
    has two packs), so a rollback finds the pack its ledger entry names.
    """
    return export_dir.with_name(f"{export_dir.name}{PACK_SUFFIX}-{sha256[:16]}.html")


def install_pack(content: bytes, export_dir: Path) -> Path:
    """Write a pack atomically into the export bundle; return its path."""
    path = frozen_pack_path(export_dir, hashlib.sha256(content).hexdigest())
    write_atomic(path, content)
    return path


def verify_pack(export_dir: Path, expected_sha256: str) -> Path:
    """The frozen pack's path when its bytes match the ledger's sha256, else EvidencePackError."""
    path = frozen_pack_path(export_dir, expected_sha256)
    removed = "Someone removed the deployed files: promote the run again to re-freeze it."
    found = _sha256_of(path, "evidence pack", EvidencePackError, removed)
    if found != expected_sha256:
        raise EvidencePackError(
            f"The evidence pack '{path}' does not match the sha256 in the ledger "
            f"(recorded {expected_sha256[:12]}…, found {found[:12]}…).",
            fix="Someone changed what the validator signed off: promote or roll back to "
            "re-freeze it.",
        )
    return path
