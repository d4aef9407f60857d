"""The append-only promotion ledger: JSONL beside the manifest, each entry hashing the previous."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import GovernanceError
from core.promotion.atomic_io import stage_file
from core.promotion.manifest import PromotionManifest

GENESIS_HASH = "0" * 64


class LedgerError(GovernanceError):
    """The ledger is unreadable or its hash chain is broken (an entry was edited or removed)."""


class LedgerEntry(BaseModel):
    """One promotion or rollback: the manifest it wrote, chained to the previous entry's hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int
    prev_hash: str
    restores_seq: int | None = None
    manifest: PromotionManifest
    hash: str

    @property
    def origin_seq(self) -> int:
        """The promote entry whose state this entry installs (itself, or what it restored)."""
        return self.seq if self.restores_seq is None else self.restores_seq


@dataclass(frozen=True)
class ChainReport:
    """The result of checking the ledger's hash chain."""

    entries: tuple[LedgerEntry, ...]
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        """True when every entry is intact and chained to its predecessor."""
        return not self.problems

    @property
    def head_hash(self) -> str:
        """The hash of the last entry (GENESIS_HASH for an empty ledger)."""
        return self.entries[-1].hash if self.entries else GENESIS_HASH


def entry_hash(seq: int, prev_hash: str, restores_seq: int | None, manifest: dict) -> str:
    """The sha256 of an entry's canonical JSON (sorted keys, no whitespace), hash excluded."""
    body = {"seq": seq, "prev_hash": prev_hash, "restores_seq": restores_seq, "manifest": manifest}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def new_entry(
    previous: LedgerEntry | None, manifest: PromotionManifest, restores_seq: int | None = None
) -> LedgerEntry:
    """The entry that follows previous, recording manifest (its ledger_entry_hash left out)."""
    seq = previous.seq + 1 if previous else 1
    prev_hash = previous.hash if previous else GENESIS_HASH
    body = manifest.model_copy(update={"ledger_entry_hash": None})
    digest = entry_hash(seq, prev_hash, restores_seq, body.model_dump(mode="json"))
    return LedgerEntry(
        seq=seq, prev_hash=prev_hash, restores_seq=restores_seq, manifest=body, hash=digest
    )


def read_chain(path: Path) -> ChainReport:
    """Parse the ledger and check each entry's hash and link; problems name the line."""
    if not path.exists():
        return ChainReport((), ())
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LedgerError(f"Cannot read the ledger '{path}' ({exc.strerror}).") from exc
    entries: list[LedgerEntry] = []
    problems: list[str] = []
    expected_prev, expected_seq = GENESIS_HASH, 1
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            problems.append(f"line {number}: empty line")
            continue
        try:
            raw = json.loads(line)
            entry = LedgerEntry.model_validate(raw)
        except (json.JSONDecodeError, ValidationError) as exc:
            problems.append(f"line {number}: not a valid entry ({str(exc).splitlines()[0][:120]})")
            continue
        recomputed = entry_hash(
            entry.seq, entry.prev_hash, entry.restores_seq, raw.get("manifest", {})
        )
        if recomputed != entry.hash:
            problems.append(f"line {number} (entry {entry.seq}): edited (its hash does not match)")
        if entry.prev_hash != expected_prev:
            problems.append(
                f"line {number} (entry {entry.seq}): does not follow the previous entry "
                "(an entry before it was removed or edited)"
            )
        if entry.seq != expected_seq:
            problems.append(f"line {number}: entry number {entry.seq}, expected {expected_seq}")
        entries.append(entry)
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    return ChainReport(tuple(entries), tuple(problems))


def require_intact(path: Path) -> ChainReport:
    """The chain, or LedgerError when it is broken (nothing may be appended to a broken chain)."""
    report = read_chain(path)
    if not report.valid:
        raise LedgerError(
            f"The promotion ledger '{path}' fails verification: {report.problems[0]}.",
            fix="Restore the ledger from backup or version control; "
            "`python -m core promote --verify` lists every problem.",
        )
    return report


def entry_line(entry: LedgerEntry) -> bytes:
    """An entry as one JSON line."""
    return (entry.model_dump_json() + "\n").encode("utf-8")


def stage_append(path: Path, entry: LedgerEntry) -> Path:
    """Stage the ledger with entry appended (old bytes kept as they are); commit with rename."""
    old = path.read_bytes() if path.exists() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    return stage_file(path, old + entry_line(entry))
