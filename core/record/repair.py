"""Crash repair: rebuild the manifest from the ledger after a write was interrupted.

A promotion commits the ledger entry first and the manifest second (each by an atomic rename).
A crash between the two leaves a ledger that is ahead of the manifest. repair() recognises that
signature (the manifest is missing, or is exactly an earlier installed entry), appends a ledger
note saying what it found, and rewrites the manifest from the ledger's last installed entry.
A manifest that matches no entry was edited by hand: repair leaves it and says so. Leftover
staging files of an interrupted write are removed. Every promote, request, approval, rollback
and the scoring service's start-up call it first.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from core.record import clock, ledger, signing
from core.record.atomic_io import (
    DEFAULT_LOCK_TIMEOUT_SECONDS,
    commit_file,
    exclusive_lock,
    write_atomic,
)
from core.record.crash_points import REPAIR_NOTED, crash_point
from core.record.frozen import PACK_SUFFIX, frozen_pack_path
from core.record.manifest import (
    EXPORT_FOLDER,
    ManifestError,
    PromotionManifest,
    ledger_path,
    read_manifest,
)
from core.record.state import manifest_problem
from core.settings import Settings

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class RepairReport:
    """What repair found and did; problem names what it could not fix (None when healthy)."""

    repaired: bool
    detail: str
    problem: str | None = None
    removed: tuple[str, ...] = ()
    note: ledger.LedgerEntry | None = None


def _leftovers(manifest_path: Path) -> list[Path]:
    """Staging files and folders an interrupted write left in the deploy folder."""
    folder = manifest_path.parent
    lpath = ledger_path(manifest_path)
    found = [
        *folder.glob(f".{manifest_path.name}.*.tmp"),
        *folder.glob(f".{lpath.name}.*.tmp"),
        *folder.glob(".export-*"),
    ]
    models = folder / EXPORT_FOLDER
    if models.is_dir():
        found += [*models.glob(".*.stale"), *models.glob(".*.tmp")]
    return sorted(found)


def _orphaned_packs(manifest_path: Path, chain: ledger.ChainReport) -> list[Path]:
    """Evidence packs no ledger entry names (a promotion killed before its entry was written);
    call only under the promotion lock, on an intact chain."""
    models = manifest_path.parent / EXPORT_FOLDER
    if not models.is_dir():
        return []
    named = {
        frozen_pack_path(e.manifest.exported_model_dir(manifest_path), sha).name
        for e in chain.installs
        if (sha := e.manifest.evidence_pack_sha256)
    }
    return sorted(p for p in models.glob(f"*{PACK_SUFFIX}-*.html") if p.name not in named)


def _remove_leftovers(manifest_path: Path) -> tuple[str, ...]:
    """Remove staging leftovers (call only under the promotion lock); their names."""
    removed = []
    for item in _leftovers(manifest_path):
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item, ignore_errors=True)
        else:
            item.unlink(missing_ok=True)
        removed.append(item.name)
    return tuple(removed)


def installed_manifest(entry: ledger.LedgerEntry) -> PromotionManifest:
    """The manifest file an installing entry wrote (pointing back at the entry)."""
    if entry.manifest is None:
        raise ValueError(f"ledger entry {entry.seq} installed no manifest")
    return entry.manifest.model_copy(update={"ledger_entry_hash": entry.hash})


def _left_at(manifest: PromotionManifest, chain: ledger.ChainReport) -> int | None:
    """The earlier installed entry the manifest still equals, or None (edited by hand)."""
    for entry in chain.installs[:-1]:
        if manifest == installed_manifest(entry):
            return entry.seq
    return None


def repair_locked(settings: Settings) -> RepairReport:
    """Repair an interrupted write; the caller holds the promotion lock."""
    path = settings.promotion_manifest
    if not path.parent.is_dir():
        return RepairReport(False, "nothing promoted yet")
    removed = _remove_leftovers(path)
    lpath = ledger_path(path)
    chain = ledger.read_chain(lpath, signing.trusted_public_key(settings))
    if not chain.valid:
        problem = f"the ledger fails verification: {chain.problems[0]}"
        return RepairReport(False, "not repaired", problem, removed)
    for pack in _orphaned_packs(path, chain):
        pack.unlink(missing_ok=True)
        removed += (f"{EXPORT_FOLDER}/{pack.name}",)
    try:
        manifest = read_manifest(path)
    except ManifestError as exc:
        return RepairReport(False, "not repaired", exc.message, removed)
    installed = chain.installed
    if installed is None:
        problem = manifest_problem(manifest, chain)
        return RepairReport(False, problem or "nothing promoted yet", problem, removed)
    expected = installed_manifest(installed)
    if manifest == expected:
        return RepairReport(False, "the manifest matches the ledger", None, removed)
    left_at = None if manifest is None else _left_at(manifest, chain)
    if manifest is not None and left_at is None:
        return RepairReport(False, "not repaired", manifest_problem(manifest, chain), removed)
    found = "missing" if manifest is None else f"still at entry {left_at}"
    detail = (
        f"manifest rebuilt from ledger entry {installed.seq} after an interrupted write "
        f"(the manifest was {found})"
    )
    note = _note_repair(settings, chain, installed, detail)
    write_atomic(path, expected.to_json_bytes())
    if note is None:
        detail += " (not noted in the ledger: this process has no signing key)"
    return RepairReport(True, detail, None, removed, note)


def _note_repair(
    settings: Settings, chain: ledger.ChainReport, installed: ledger.LedgerEntry, detail: str
) -> ledger.LedgerEntry | None:
    """Append the repair note; None when the chain is signed and this process cannot sign
    (the scoring service holds no private key; an unsigned entry would break the chain)."""
    signer = signing.load_private(settings)
    if signer is None and any(e.signature for e in chain.entries):
        return None
    event = ledger.LedgerEvent(
        kind="repair",
        by=SYSTEM_ACTOR,
        identity="system",
        at=clock.stamp(),
        reason=detail,
        target_seq=installed.seq,
    )
    note = ledger.new_entry(chain.head, None, None, event, signer=signer)
    lpath = ledger_path(settings.promotion_manifest)
    commit_file(ledger.stage_append(lpath, note), lpath)
    crash_point(REPAIR_NOTED)
    return note


def repair(
    settings: Settings, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS
) -> RepairReport:
    """Take the promotion lock and repair an interrupted write (safe to call at any time).

    The scoring service calls this at start-up; PromotionLockedError after lock_timeout
    seconds means another promotion is writing (and will repair first itself).
    """
    path = settings.promotion_manifest
    if not path.parent.is_dir():
        return RepairReport(False, "nothing promoted yet")
    with exclusive_lock(path, timeout=lock_timeout):
        return repair_locked(settings)
