"""A self-contained scoring-service folder: the verified deployed record, the code, a Dockerfile.

`write_bundle` checks the deploy folder as the service does at start-up (the manifest against
the ledger's last installed entry, the export against its sha256) and the profile and evidence
pack frozen with it against theirs. It copies the whole ledger, the manifest and the promoted
export into a staging folder beside --out, with the reason codes, the feature policy, the pinned
requirements and the `core` package source; runs the service's own start-up load on the copy;
and only then renames the staging folder to --out. It never writes to the deploy folder.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import core
from core.code_version import code_version
from core.errors import GovernanceError
from core.record import ledger
from core.record.export import verify_export
from core.record.frozen import frozen_pack_path, profile_path, verify_pack, verify_profile_file
from core.record.manifest import PromotionManifest, ledger_path
from core.record.signing import trusted_public_key
from core.scoring.reason_codes import load_reason_codes
from core.serving.bundle_files import BundleFacts, dockerfile, dockerignore, readme
from core.serving.model_holder import ModelIdentity, load_promoted, verified_manifest
from core.settings import (
    DEFAULT_FEATURE_POLICY_FILE,
    DEFAULT_PROMOTION_MANIFEST,
    DEFAULT_REASON_CODES_FILE,
    DEFAULT_SCORING_PORT,
    Settings,
)

SOURCE_ROOT = Path(core.__file__).resolve().parent.parent
PACKAGE = "core"
REQUIREMENTS = "requirements.txt"
PROJECT_FILE = "pyproject.toml"
MANIFEST = Path(DEFAULT_PROMOTION_MANIFEST)
REASON_CODES = DEFAULT_REASON_CODES_FILE.relative_to(SOURCE_ROOT)
FEATURE_POLICY = DEFAULT_FEATURE_POLICY_FILE.relative_to(SOURCE_ROOT)
_SKIPPED = shutil.ignore_patterns(
    "__pycache__", "*.py[co]", "tests", "test_*.py", "conftest.py", ".*"
)
_AGAIN = "Run the bundle command again; nothing was written."


class BundleError(GovernanceError):
    """The service folder cannot be written: --out is in use, or the copy does not verify."""


@dataclass(frozen=True)
class ServiceBundle:
    """A written service folder and the model identity its service will serve."""

    folder: Path
    identity: ModelIdentity
    facts: BundleFacts


def _refuse_used_out(out: Path) -> None:
    """Refuse an --out that is a file or a folder with anything in it."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise BundleError(f"--out '{out}' exists and is not a folder.", fix="Give a new folder.")
    if out.is_dir() and any(out.iterdir()):
        raise BundleError(
            f"--out '{out}' exists and is not empty.",
            fix="Give a new or empty folder (nothing was written).",
        )


def _require_source() -> None:
    """Refuse when the package does not sit in a checkout with its requirements beside it."""
    if not (SOURCE_ROOT / REQUIREMENTS).is_file():
        raise BundleError(
            f"There is no {REQUIREMENTS} beside the {PACKAGE} package in '{SOURCE_ROOT}'.",
            fix="Run the bundle command from a checkout of the repository.",
        )


def _frozen_files(manifest: PromotionManifest, export_dir: Path) -> list[Path]:
    """The reference profile and evidence pack frozen with the promotion (those it recorded)."""
    files = []
    if manifest.reference_profile_sha256:
        files.append(profile_path(export_dir))
    if manifest.evidence_pack_sha256:
        files.append(frozen_pack_path(export_dir, manifest.evidence_pack_sha256))
    return files


def verified_record(manifest_path: Path, trusted_key: str | None = None) -> PromotionManifest:
    """The manifest when the deploy folder passes the service's checks (signatures with
    trusted_key) and its frozen files do."""
    manifest = verified_manifest(manifest_path, trusted_key)
    export_dir = manifest.exported_model_dir(manifest_path)
    verify_export(export_dir, manifest.exported_model_sha256)
    if manifest.reference_profile_sha256:
        verify_profile_file(export_dir, manifest.reference_profile_sha256)
    if manifest.evidence_pack_sha256:
        verify_pack(export_dir, manifest.evidence_pack_sha256)
    return manifest


def _copy_record(source: Path, manifest: PromotionManifest, root: Path) -> Path:
    """Copy the manifest, the whole ledger and the promoted export with its frozen files."""
    target = root / MANIFEST
    target.parent.mkdir(parents=True)
    shutil.copyfile(source, target)
    shutil.copyfile(ledger_path(source), ledger_path(target))
    export_dir = manifest.exported_model_dir(source)
    copied_export = manifest.exported_model_dir(target)
    copied_export.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(export_dir, copied_export)
    for file in _frozen_files(manifest, export_dir):
        shutil.copyfile(file, copied_export.parent / file.name)
    return target


def _copy_config(settings: Settings, root: Path) -> tuple[str, ...]:
    """Copy the reason codes and feature policy the service reads (those that exist)."""
    copied = []
    for source, target in (
        (settings.reason_codes_file, REASON_CODES),
        (settings.feature_policy_file, FEATURE_POLICY),
    ):
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        if source.is_file():
            shutil.copyfile(source, root / target)
            copied.append(target.as_posix())
    return tuple(copied)


def _copy_code(root: Path) -> list[str]:
    """Copy the package source, requirements and project file; the Dockerfile's COPY names."""
    shutil.copytree(SOURCE_ROOT / PACKAGE, root / PACKAGE, ignore=_SKIPPED)
    shutil.copyfile(SOURCE_ROOT / REQUIREMENTS, root / REQUIREMENTS)
    names = []
    if (SOURCE_ROOT / PROJECT_FILE).is_file():
        shutil.copyfile(SOURCE_ROOT / PROJECT_FILE, root / PROJECT_FILE)
        names.append(PROJECT_FILE)
    folders = dict.fromkeys([f"{PACKAGE}/", f"{REASON_CODES.parts[0]}/", f"{MANIFEST.parts[0]}/"])
    return [*names, *folders]


def _check_copy(root: Path, manifest: PromotionManifest) -> ModelIdentity:
    """The service's start-up load on the copy, which must hold the manifest that was verified."""
    target = root / MANIFEST
    try:
        copied = verified_record(target)
        loaded = load_promoted(target, root / REASON_CODES, root / FEATURE_POLICY)
    except GovernanceError as exc:
        raise BundleError(
            f"The copy fails the service's start-up check ({exc.message}).", fix=_AGAIN
        ) from exc
    if copied != manifest:
        raise BundleError("The promotion record changed while it was being copied.", fix=_AGAIN)
    return loaded.identity


def _frozen_lines(manifest: PromotionManifest) -> tuple[str, ...]:
    """README lines for the profile and evidence pack checked against the manifest."""
    recorded = (
        ("Reference profile", manifest.reference_profile_sha256),
        ("Evidence pack", manifest.evidence_pack_sha256),
    )
    return tuple(f"{name}: sha256 `{sha}` matches the manifest." for name, sha in recorded if sha)


def _facts(root: Path, manifest: PromotionManifest, config: tuple[str, ...]) -> BundleFacts:
    """What the README and Dockerfile say about this bundle."""
    chain = ledger.read_chain(ledger_path(root / MANIFEST))
    python = manifest.versions.get("python") or platform.python_version()
    return BundleFacts(
        manifest=manifest,
        manifest_path=MANIFEST.as_posix(),
        ledger_path=ledger_path(MANIFEST).as_posix(),
        ledger_entries=len(chain.entries),
        ledger_head=chain.head_hash,
        export_path=Path(MANIFEST.parent, manifest.exported_model_path).as_posix(),
        frozen=_frozen_lines(manifest),
        config=config,
        reason_codes=REASON_CODES.as_posix(),
        feature_policy=FEATURE_POLICY.as_posix(),
        python=".".join(python.split(".")[:2]),
        code=code_version(),
        written_at=datetime.now(UTC).isoformat(timespec="seconds"),
        port=DEFAULT_SCORING_PORT,
    )


def _fill(settings: Settings, manifest: PromotionManifest, root: Path) -> ServiceBundle:
    """Write every file of the bundle into root and check the copy."""
    _copy_record(settings.promotion_manifest, manifest, root)
    copied = _copy_code(root)  # first: the settings' config files then replace the defaults
    config = _copy_config(settings, root)
    identity = _check_copy(root, manifest)
    facts = _facts(root, manifest, config)
    (root / "Dockerfile").write_text(dockerfile(facts, copied), encoding="utf-8")
    (root / ".dockerignore").write_text(dockerignore(facts), encoding="utf-8")
    (root / "README.md").write_text(readme(facts), encoding="utf-8")
    return ServiceBundle(root, identity, facts)


def write_bundle(settings: Settings, out: Path) -> ServiceBundle:
    """Verify the promoted record as the service does and write the service folder to out."""
    _refuse_used_out(out)
    _require_source()
    manifest = verified_record(settings.promotion_manifest, trusted_public_key(settings))
    load_reason_codes(settings.reason_codes_file, settings.feature_policy_file)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    except OSError as exc:
        raise BundleError(f"Cannot write beside '{out}' ({exc.strerror}).") from exc
    try:
        bundle = _fill(settings, manifest, staging)
        staging.chmod(0o755)
        os.rename(staging, out)
    except OSError as exc:
        raise BundleError(f"Cannot write the bundle '{out}' ({exc.strerror}).", fix=_AGAIN) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ServiceBundle(out, bundle.identity, bundle.facts)
