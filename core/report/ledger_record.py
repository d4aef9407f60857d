"""A run's governance record read from the ledger: the promotion that installed it, what
reinstalled it since, and every entry naming it (requests, approvals, rejections, rollbacks,
acknowledgements)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.record import ledger
from core.record.manifest import PromotionManifest


@dataclass(frozen=True)
class RecordLine:
    """One act in the run's record: what was done, by whom, when, why, and the entry's hash.

    The governance record is a tuple of these, so another act (an approver beside the
    requester) is one more line.
    """

    role: str
    by: str
    at: str
    reason: str
    seq: int
    entry_hash: str


@dataclass(frozen=True)
class LedgerRecord:
    """The manifest of the promotion that installed the run, its record lines, the hash of
    the entry that installed the run's current state, and every entry naming the run."""

    manifest: PromotionManifest | None
    lines: tuple[RecordLine, ...]
    installed_hash: str | None
    entries: tuple[ledger.LedgerEntry, ...]


def _line(role: str, entry: ledger.LedgerEntry) -> RecordLine:
    """A record line from an entry: its event's author and reason, else its manifest's."""
    manifest = entry.manifest
    by = entry.event.by if entry.event else (manifest.promoted_by if manifest else "")
    at = entry.event.at if entry.event else (manifest.promoted_at if manifest else "")
    reason = entry.event.reason if entry.event else (manifest.reason if manifest else "")
    return RecordLine(role, by, at, reason, entry.seq, entry.hash)


def _request_seq(request_id: str | None) -> int | None:
    """The ledger seq a request id points at ('R7' -> 7)."""
    digits = re.search(r"(\d+)$", request_id or "")
    return int(digits.group(1)) if digits else None


def entries_naming(
    chain: tuple[ledger.LedgerEntry, ...], run_id: str
) -> tuple[ledger.LedgerEntry, ...]:
    """Every entry about the run: its installs and rollbacks, its requests, the approvals and
    rejections of those requests, and acknowledgements of its rollbacks."""
    found: list[ledger.LedgerEntry] = []
    seqs: set[int] = set()
    for entry in chain:
        event = entry.event
        names = (entry.manifest is not None and entry.manifest.run_id == run_id) or (
            event is not None
            and (
                (event.request is not None and event.request.run_id == run_id)
                or _request_seq(event.request_id) in seqs
                or event.target_seq in seqs
            )
        )
        if names:
            found.append(entry)
            seqs.add(entry.seq)
    return tuple(found)


def ledger_record(
    chain: tuple[ledger.LedgerEntry, ...], run_id: str, pending: PromotionManifest | None
) -> LedgerRecord:
    """The record of the run: the promotion entry that installed its current state (the
    entry's origin_seq, not the latest entry), a line for a rollback that reinstalled it."""
    naming = entries_naming(chain, run_id)
    if pending is not None:
        return LedgerRecord(pending, (), None, naming)
    installs = [e for e in naming if e.manifest is not None and e.manifest.run_id == run_id]
    if not installs:
        return LedgerRecord(None, (), None, naming)
    latest = installs[-1]
    origin = next((e for e in chain if e.seq == latest.origin_seq), latest)
    lines = [_line("promoted", origin)]
    if latest.seq != origin.seq:
        lines.append(_line(f"reinstalled by {latest.kind}", latest))
    return LedgerRecord(origin.manifest, tuple(lines), latest.hash, naming)
