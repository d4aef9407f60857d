"""What a promotion exported: a model folder with a sha256 over its files, verified and loaded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from core.errors import GovernanceError, ModelLoadError
from core.scoring.loaded_model import LoadedModel, load_model_folder

_CHUNK = 1 << 20


class ExportError(GovernanceError):
    """The exported model is missing or does not match its recorded sha256."""


@dataclass(frozen=True)
class ExportedModel:
    """A model folder on disk and the sha256 over its files."""

    path: Path
    sha256: str
    files: tuple[str, ...]


def tree_sha256(folder: Path) -> str:
    """sha256 over every file under folder: relative path and content, in sorted path order."""
    digest = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    for file in files:
        digest.update(file.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        file_digest = hashlib.sha256()
        with file.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                file_digest.update(chunk)
        digest.update(file_digest.digest())
    return digest.hexdigest()


def describe(folder: Path) -> ExportedModel:
    """An exported folder's files and sha256."""
    files = tuple(
        sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    )
    return ExportedModel(folder, tree_sha256(folder), files)


def verify_export(folder: Path, expected_sha256: str) -> ExportedModel:
    """The exported folder when its sha256 matches the recorded one, else ExportError."""
    if not folder.is_dir():
        raise ExportError(
            f"The exported model folder '{folder}' is missing.",
            fix="Promote the run again to re-export it.",
        )
    exported = describe(folder)
    if exported.sha256 != expected_sha256:
        raise ExportError(
            f"The exported model in '{folder}' does not match its recorded sha256 "
            f"(recorded {expected_sha256[:12]}…, found {exported.sha256[:12]}…).",
            fix="Someone changed the deployed files: promote or roll back to re-export them.",
        )
    return exported


def load_export(folder: Path) -> LoadedModel:
    """The exported model folder loaded with its calibrator, or ModelLoadError saying why not."""
    try:
        return load_model_folder(folder)
    except (OSError, ValueError, ImportError) as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ModelLoadError(
            f"The exported model folder could not be read ({first}).",
            fix="Promote or roll back to re-export the model; do not edit the deploy folder.",
        ) from exc
