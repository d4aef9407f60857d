"""Who may sign off what, read from the ledger: request states and rollbacks awaiting review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from core.record import clock, ledger

RequestStatus = Literal["pending", "approved", "rejected", "expired"]
REQUEST_PREFIX = "R"


def request_id_for(seq: int) -> str:
    """The id of the request recorded at ledger entry seq (R7 for entry 7)."""
    return f"{REQUEST_PREFIX}{seq}"


def request_seq(request_id: str) -> int | None:
    """The ledger entry of a request id ('R7', 'r7' or '7'), or None when malformed."""
    text = request_id.strip().upper().removeprefix(REQUEST_PREFIX)
    return int(text) if text.isdigit() else None


def actor_label(name: str, identity: str) -> str:
    """A name as history shows it: signed-in names plain, others marked."""
    return name if identity == "signed-in" else f"{name} ({identity})"


@dataclass(frozen=True)
class RequestState:
    """A promotion request and what became of it."""

    request_id: str
    entry: ledger.LedgerEntry
    status: RequestStatus
    decided_by: ledger.LedgerEntry | None = None

    @property
    def event(self) -> ledger.LedgerEvent:
        """The request event."""
        if self.entry.event is None:
            raise ValueError(f"ledger entry {self.entry.seq} is not a request")
        return self.entry.event

    @property
    def record(self) -> ledger.RequestRecord:
        """What was requested."""
        if self.event.request is None:
            raise ValueError(f"ledger entry {self.entry.seq} carries no request")
        return self.event.request


def request_states(
    chain: ledger.ChainReport, moment: datetime | None = None
) -> dict[str, RequestState]:
    """Every request in the ledger by id, with its status at moment (now by default)."""
    moment = moment or clock.now()
    decisions: dict[str, ledger.LedgerEntry] = {}
    for entry in chain.entries:
        if entry.event and entry.event.kind in ("approve", "reject") and entry.event.request_id:
            decisions.setdefault(entry.event.request_id, entry)
    states = {}
    for entry in chain.entries:
        event = entry.event
        if event is None or event.kind != "request" or event.request is None:
            continue
        rid = request_id_for(entry.seq)
        decided = decisions.get(rid)
        if decided is not None:
            status: RequestStatus = "approved" if decided.kind == "approve" else "rejected"
        elif clock.parse(event.request.expires_at) <= moment:
            status = "expired"
        else:
            status = "pending"
        states[rid] = RequestState(rid, entry, status, decided)
    return states


def rollback_reviews(chain: ledger.ChainReport) -> dict[int, ledger.LedgerEntry | None]:
    """Every rollback entry's seq with the acknowledgement it received (None: needs review)."""
    reviews: dict[int, ledger.LedgerEntry | None] = {
        e.seq: None for e in chain.entries if e.kind == "rollback"
    }
    for entry in chain.entries:
        event = entry.event
        if event and event.kind == "acknowledge" and event.target_seq in reviews:
            reviews[event.target_seq] = reviews[event.target_seq] or entry
    return reviews


def actor_of(entry: ledger.LedgerEntry) -> tuple[str, str]:
    """Who made an entry and how the name was established (older entries: declared)."""
    if entry.event is not None:
        return entry.event.by, entry.event.identity
    return (entry.manifest.promoted_by if entry.manifest else ""), "declared"


def who_did(entry: ledger.LedgerEntry) -> str:
    """Who made an entry as history shows it: the name, how it was established, and for a
    signed-in person the role, e-mail, issuer and subject."""
    if entry.event is not None:
        return entry.event.signoff.label
    return actor_label(*actor_of(entry))
