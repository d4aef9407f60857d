"""The append-only promotion ledger: JSONL beside the manifest, each entry hashing the previous.

An entry installs a manifest (promote, rollback, approve), records an event without one
(request, reject, acknowledge, repair note), or both. Entries written before events existed
carry only a manifest and hash exactly as they always did. With a signing key
(core.record.signing) each entry also carries an Ed25519 signature of its hash; the first signed
entry records the public key in its hashed body. Entries written before signing stay unsigned
("unsigned up to entry N"); once an entry is signed every later one must be.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import GovernanceError
from core.record import signing
from core.record.atomic_io import stage_file
from core.record.manifest import GateResult, LeanRecord, PromotionManifest, Signoff

GENESIS_HASH = "0" * 64
EventKind = Literal["promote", "rollback", "request", "approve", "reject", "acknowledge", "repair"]
Identity = Literal["declared", "signed-in", "system"]


class LedgerError(GovernanceError):
    """The ledger is unreadable or its hash chain is broken (an entry was edited or removed)."""


class RequestRecord(BaseModel):
    """A pending promotion as requested: the candidate, threshold and the gates it passed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    run_name: str = ""
    threshold: float
    gate_results: list[GateResult] = Field(default_factory=list)
    force: bool = False
    force_reason: str | None = None
    auc_tolerance: float
    stability_rule: dict[str, float | str] = Field(default_factory=dict)
    expires_at: str
    slot: str | None = None
    schema_change_reason: str | None = None


class LedgerEvent(LeanRecord):
    """Who did what and why: the action an entry records, with how the name was established."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    # A signed-in person's token claims and the role they acted in; absent for declared names,
    # so such events serialise (and hash) exactly as before these keys existed.
    UNSET_OMITTED: ClassVar[tuple[str, ...]] = ("issuer", "subject", "email", "name", "role")

    kind: EventKind
    by: str
    identity: Identity = "declared"
    at: str
    reason: str = ""
    request_id: str | None = None
    target_seq: int | None = None
    request: RequestRecord | None = None
    issuer: str | None = None
    subject: str | None = None
    email: str | None = None
    name: str | None = None
    role: str | None = None

    @property
    def signoff(self) -> Signoff:
        """Who acted, as the manifest records a requester or approver."""
        return Signoff(
            name=self.by,
            identity=self.identity,
            at=self.at,
            issuer=self.issuer,
            subject=self.subject,
            email=self.email,
            role=self.role,
        )


class LedgerEntry(BaseModel):
    """One ledger entry: the event, the manifest it installed (if any), and the chain hashes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int
    prev_hash: str
    restores_seq: int | None = None
    manifest: PromotionManifest | None = None
    event: LedgerEvent | None = None
    public_key: str | None = None
    hash: str
    signature: str | None = None

    @model_validator(mode="after")
    def _has_content(self) -> LedgerEntry:
        """An entry records a manifest, an event, or both."""
        if self.manifest is None and self.event is None:
            raise ValueError("an entry needs a manifest or an event")
        return self

    @property
    def origin_seq(self) -> int:
        """The promote entry whose state this entry installs (itself, or what it restored)."""
        return self.seq if self.restores_seq is None else self.restores_seq

    @property
    def kind(self) -> str:
        """The action: the event's kind, or the manifest's action for entries before events."""
        if self.event is not None:
            return self.event.kind
        return self.manifest.action if self.manifest is not None else "note"


@dataclass(frozen=True)
class ChainReport:
    """The result of checking the ledger's hash chain."""

    entries: tuple[LedgerEntry, ...]
    problems: tuple[str, ...]
    public_key: str | None = None

    @property
    def unsigned_upto(self) -> int:
        """The last entry written before signing began (0: signed from the first entry)."""
        signed = [e.seq for e in self.entries if e.signature is not None]
        return signed[0] - 1 if signed else len(self.entries)

    @property
    def signed(self) -> bool:
        """True when the head entry is signed (so every entry after the unsigned prefix is)."""
        return bool(self.entries) and self.entries[-1].signature is not None

    @property
    def valid(self) -> bool:
        """True when every entry is intact and chained to its predecessor."""
        return not self.problems

    @property
    def head_hash(self) -> str:
        """The hash of the last entry (GENESIS_HASH for an empty ledger)."""
        return self.entries[-1].hash if self.entries else GENESIS_HASH

    @property
    def head(self) -> LedgerEntry | None:
        """The last entry, whatever it records."""
        return self.entries[-1] if self.entries else None

    @property
    def installs(self) -> tuple[LedgerEntry, ...]:
        """The entries that installed a manifest, in order."""
        return tuple(e for e in self.entries if e.manifest is not None)

    @property
    def installed(self) -> LedgerEntry | None:
        """The last entry that installed a manifest: the state production should run."""
        installs = self.installs
        return installs[-1] if installs else None


def entry_hash(
    seq: int,
    prev_hash: str,
    restores_seq: int | None,
    manifest: dict | None,
    event: dict | None = None,
    public_key: str | None = None,
) -> str:
    """The sha256 of an entry's canonical JSON (sorted keys, no whitespace), hash excluded.

    The event and the public key join the hashed body only when present, so entries written
    before they existed keep their hashes. The signature signs this hash and is not part of it.
    """
    body = {"seq": seq, "prev_hash": prev_hash, "restores_seq": restores_seq, "manifest": manifest}
    if event is not None:
        body["event"] = event
    if public_key is not None:
        body["public_key"] = public_key
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def new_entry(
    previous: LedgerEntry | None,
    manifest: PromotionManifest | None,
    restores_seq: int | None = None,
    event: LedgerEvent | None = None,
    *,
    signer: Ed25519PrivateKey | None = None,
) -> LedgerEntry:
    """The entry that follows previous, recording manifest (its ledger_entry_hash left out).

    With signer the entry is signed; the first signed entry records the public key.
    """
    seq = previous.seq + 1 if previous else 1
    prev_hash = previous.hash if previous else GENESIS_HASH
    body = manifest.model_copy(update={"ledger_entry_hash": None}) if manifest else None
    first_signed = signer is not None and (previous is None or previous.signature is None)
    public_key = signing.public_hex(signer) if first_signed else None
    digest = entry_hash(
        seq,
        prev_hash,
        restores_seq,
        body.model_dump(mode="json") if body else None,
        event.model_dump(mode="json") if event else None,
        public_key,
    )
    return LedgerEntry(
        seq=seq,
        prev_hash=prev_hash,
        restores_seq=restores_seq,
        manifest=body,
        event=event,
        public_key=public_key,
        hash=digest,
        signature=signing.sign(signer, digest) if signer is not None else None,
    )


def _signature_problem(
    entry: LedgerEntry, key: str | None, trusted_key: str | None, signed_before: bool
) -> str | None:
    """Why an entry's signature cannot be trusted, or None (key: the key recorded so far)."""
    if entry.signature is None:
        return (
            "is not signed although an entry before it is (a signature was removed?)"
            if (signed_before)
            else None
        )
    if entry.public_key is not None and signed_before:
        return "records a second public key (the signing key may not change inside a ledger)"
    if key is None:
        return "is signed but no public key was recorded in the first signed entry"
    if trusted_key is not None and key != trusted_key:
        return "is signed with a key other than LEDGER_PUBLIC_KEY (the chain was re-signed)"
    if not signing.signature_ok(key, entry.hash, entry.signature):
        return "has a signature that does not match its content (rewritten without the key)"
    return None


def _ledger_lines(path: Path) -> list[str]:
    """The ledger's lines, trailing blank lines dropped (a torn last line stays and fails)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise LedgerError(f"Cannot read the ledger '{path}' ({why}).") from exc
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def read_chain(path: Path, trusted_key: str | None = None) -> ChainReport:
    """Parse the ledger, check each entry's hash, link and signature; problems name the line.

    Signatures are checked with the public key the first signed entry records, which must be
    trusted_key when one is given (LEDGER_PUBLIC_KEY or the signing key's own).
    """
    if not path.exists():
        return ChainReport((), ())
    lines = _ledger_lines(path)
    entries: list[LedgerEntry] = []
    problems: list[str] = []
    key: str | None = None
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
            entry.seq,
            entry.prev_hash,
            entry.restores_seq,
            raw.get("manifest"),
            raw.get("event"),
            raw.get("public_key"),
        )
        if recomputed != entry.hash:
            problems.append(f"line {number} (entry {entry.seq}): edited (its hash does not match)")
        signed_before = key is not None or any(e.signature for e in entries)
        if key is None and entry.signature is not None:
            key = entry.public_key
        bad_signature = _signature_problem(entry, key, trusted_key, signed_before)
        if bad_signature:
            problems.append(f"line {number} (entry {entry.seq}): {bad_signature}")
        if entry.prev_hash != expected_prev:
            problems.append(
                f"line {number} (entry {entry.seq}): does not follow the previous entry "
                "(an entry before it was removed or edited)"
            )
        if entry.seq != expected_seq:
            problems.append(f"line {number}: entry number {entry.seq}, expected {expected_seq}")
        entries.append(entry)
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    return ChainReport(tuple(entries), tuple(problems), key)


def require_intact(path: Path, trusted_key: str | None = None) -> ChainReport:
    """The chain, or LedgerError when it is broken (nothing may be appended to a broken chain)."""
    report = read_chain(path, trusted_key)
    if not report.valid:
        raise untrusted(path, f"fails verification: {report.problems[0]}")
    return report


def untrusted(path: Path, why: str) -> LedgerError:
    """The error that refuses a ledger for why (it says how to restore and list problems)."""
    return LedgerError(
        f"The promotion ledger '{path}' {why}.",
        fix="Restore the signed ledger from backup or version control; "
        "`python -m core promote --verify` lists every problem.",
    )


def entry_line(entry: LedgerEntry) -> bytes:
    """An entry as one JSON line (an unsigned entry without the signing fields, byte for byte
    as before signing existed, so older readers still read it)."""
    unset = {name for name in ("public_key", "signature") if getattr(entry, name) is None}
    return (entry.model_dump_json(exclude=unset) + "\n").encode("utf-8")


def stage_append(path: Path, entry: LedgerEntry) -> Path:
    """Stage the ledger with entry appended (old bytes kept as they are); commit with rename."""
    old = path.read_bytes() if path.exists() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    return stage_file(path, old + entry_line(entry))
