"""Maker-checker promotion: request, approve or reject, and acknowledge an emergency rollback.

With PROMOTION_APPROVALS=2 a promotion is first recorded as a pending request (the gates must
pass); another person approves it, which re-runs the gates against the store as it is now and
only then writes the manifest. Requests expire after PROMOTION_REQUEST_HOURS. Every decision is
an entry of the one hash-chained ledger, appended under the promotion lock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from core.errors import GovernanceError
from core.promotion import checklist
from core.promotion.requests import (
    GateFailedError,
    LockWaitHook,
    PromotionRequest,
    PromotionResult,
    require_text,
)
from core.promotion.review import (
    RequestState,
    actor_label,
    actor_of,
    request_id_for,
    request_seq,
    request_states,
    rollback_reviews,
    same_person,
    the_person_who,
)
from core.promotion.use_cases import install_promotion, promote
from core.record import clock, ledger
from core.record.atomic_io import commit_file, ensure_writable_dir, exclusive_lock
from core.record.manifest import ledger_path
from core.record.repair import repair, repair_locked
from core.record.signing import load_private
from core.record.state import LedgerState, read_state
from core.runs.stability import StabilityRule
from core.sentence import Sentence
from core.settings import Settings


class ApprovalError(GovernanceError):
    """A request cannot be approved or rejected, or an entry acknowledged, as asked."""


@dataclass(frozen=True)
class RequestResult:
    """A pending request recorded in the ledger."""

    request_id: str
    entry: ledger.LedgerEntry

    @property
    def record(self) -> ledger.RequestRecord:
        """What was requested."""
        if self.entry.event is None or self.entry.event.request is None:
            raise ValueError("not a request entry")
        return self.entry.event.request


def _append(
    settings: Settings,
    event: ledger.LedgerEvent,
    check_state: Callable[[LedgerState], object],
    on_lock_wait: LockWaitHook,
) -> ledger.LedgerEntry:
    """Under the lock: repair, check the state, then append an event-only entry."""
    path = settings.promotion_manifest
    ensure_writable_dir(path.parent)
    with exclusive_lock(path, on_wait=on_lock_wait):
        repair_locked(settings)
        state = read_state(settings, tolerate_bad_manifest=True)
        check_state(state)
        entry = ledger.new_entry(state.head, None, None, event, signer=load_private(settings))
        commit_file(ledger.stage_append(ledger_path(path), entry), ledger_path(path))
        return entry


def request_promotion(
    settings: Settings, request: PromotionRequest, *, on_lock_wait: LockWaitHook = None
) -> RequestResult:
    """Run the gates (writing nothing) and, when they pass, record a pending request."""
    threshold = request.threshold
    by = require_text(request.by, "Who requests", "--by")
    reason = require_text(request.reason, "The reason", "--reason")
    if request.force:
        require_text(request.force_reason, "The force reason", "--reason")
    repair(settings)
    record, results = checklist.checked_run(settings, request)
    if not all(g.ok for g in results):
        raise GateFailedError(results)
    requested = clock.now()
    event = ledger.LedgerEvent(
        kind="request",
        by=by,
        identity=request.identity,
        at=clock.stamp(requested),
        reason=reason,
        request=ledger.RequestRecord(
            run_id=request.run_id,
            run_name=record.run_name,
            threshold=threshold,
            gate_results=list(results),
            force=request.force,
            force_reason=(request.force_reason.strip() or None) if request.force else None,
            auc_tolerance=request.auc_tolerance,
            stability_rule=dataclasses.asdict(request.stability_rule),
            expires_at=(requested + timedelta(hours=settings.promotion_request_hours)).isoformat(),
        ),
    )
    entry = _append(settings, event, lambda state: None, on_lock_wait)
    return RequestResult(request_id_for(entry.seq), entry)


def submit(
    settings: Settings, request: PromotionRequest, *, on_lock_wait: LockWaitHook = None
) -> PromotionResult | RequestResult:
    """Promote (one person) or record a request (PROMOTION_APPROVALS=2), as settings say."""
    if settings.four_eyes:
        return request_promotion(settings, request, on_lock_wait=on_lock_wait)
    return promote(settings, request, on_lock_wait=on_lock_wait)


def _open_request(state: LedgerState, request_id: str, verb: str) -> RequestState:
    """The request named by request_id if it is still pending, else ApprovalError."""
    seq = request_seq(request_id)
    states = request_states(state.chain)
    found = states.get(request_id_for(seq)) if seq is not None else None
    if found is None:
        raise ApprovalError(
            f"There is no promotion request '{request_id}'.",
            fix="Pick one from the pending requests (`python -m core promote --history`).",
        )
    if found.status == "expired":
        raise ApprovalError(
            f"Request {found.request_id} expired at {found.record.expires_at}; it cannot be "
            f"{verb}.",
            fix="Ask the requester to request the promotion again.",
        )
    if found.status != "pending":
        decided = found.decided_by.seq if found.decided_by else "?"
        raise ApprovalError(
            f"Request {found.request_id} was already {found.status} (ledger entry {decided})."
        )
    return found


def _recorded_rule(found: RequestState) -> StabilityRule:
    """The stability rule the request's gates ran with (approval re-runs the same gates)."""
    try:
        return StabilityRule(**found.record.stability_rule)
    except (TypeError, ValueError) as exc:
        raise ApprovalError(
            f"Request {found.request_id} was recorded with a stability rule this version "
            f"cannot rebuild ({exc}).",
            fix="Ask the requester to request the promotion again.",
        ) from exc


def approve(
    settings: Settings,
    request_id: str,
    *,
    by: str,
    reason: str,
    identity: ledger.Identity = "declared",
    on_lock_wait: LockWaitHook = None,
) -> PromotionResult:
    """Approve a pending request by another person: re-run the gates, then promote."""
    by = require_text(by, "Who approves", "--by")
    reason = require_text(reason, "The reason", "--reason")
    repair(settings)

    def still_approvable(state: LedgerState) -> RequestState:
        """The request, still pending, unexpired, and not the approver's own."""
        current = _open_request(state, request_id, "approved")
        if same_person(current.event.by, by):
            raise ApprovalError(
                the_person_who(by, current.event.by, f"requested {current.request_id}")
                + " and cannot approve it too.",
                fix="A second person must approve (four-eyes rule).",
            )
        return current

    found = still_approvable(read_state(settings, tolerate_bad_manifest=True))
    record = found.record
    request = PromotionRequest(
        run_id=record.run_id,
        threshold=record.threshold,
        by=found.event.by,
        reason=found.event.reason,
        force=record.force,
        force_reason=record.force_reason or "",
        auc_tolerance=record.auc_tolerance,
        stability_rule=_recorded_rule(found),
        identity=found.event.identity,
    )
    event = ledger.LedgerEvent(
        kind="approve",
        by=by,
        identity=identity,
        at=clock.stamp(),
        reason=reason,
        request_id=found.request_id,
    )
    return install_promotion(
        settings, request, event, on_lock_wait=on_lock_wait, check_state=still_approvable
    )


def reject(
    settings: Settings,
    request_id: str,
    *,
    by: str,
    reason: str,
    identity: ledger.Identity = "declared",
    on_lock_wait: LockWaitHook = None,
) -> ledger.LedgerEntry:
    """Reject (or, by the requester, withdraw) a pending request; the manifest is untouched."""
    by = require_text(by, "Who rejects", "--by")
    reason = require_text(reason, "The reason", "--reason")
    seq = request_seq(request_id)
    event = ledger.LedgerEvent(
        kind="reject",
        by=by,
        identity=identity,
        at=clock.stamp(),
        reason=reason,
        request_id=request_id_for(seq) if seq is not None else request_id,
    )
    return _append(
        settings, event, lambda state: _open_request(state, request_id, "rejected"), on_lock_wait
    )


def acknowledge(
    settings: Settings,
    seq: int,
    *,
    by: str,
    reason: str = "",
    identity: ledger.Identity = "declared",
    on_lock_wait: LockWaitHook = None,
) -> ledger.LedgerEntry:
    """A second person acknowledges an emergency rollback, clearing its "needs review" flag."""
    by = require_text(by, "Who acknowledges", "--by")

    def reviewable(state: LedgerState) -> None:
        """Under the lock: entry seq is a rollback nobody acknowledged, by someone else."""
        reviews = rollback_reviews(state.chain)
        if seq not in reviews:
            raise ApprovalError(
                f"Ledger entry {seq} is not a rollback, so there is nothing to acknowledge.",
                fix="Pick a rollback marked 'needs review' in the history.",
            )
        if reviews[seq] is not None:
            raise ApprovalError(f"Rollback {seq} was already acknowledged.")
        entry = next(e for e in state.chain.entries if e.seq == seq)
        actor, _ = actor_of(entry)
        if same_person(actor, by):
            raise ApprovalError(
                the_person_who(by, actor, f"made rollback {seq}")
                + " and cannot acknowledge it too.",
                fix="A second person must review an emergency rollback.",
            )

    event = ledger.LedgerEvent(
        kind="acknowledge",
        by=by,
        identity=identity,
        at=clock.stamp(),
        reason=reason.strip(),
        target_seq=seq,
    )
    return _append(settings, event, reviewable, on_lock_wait)


def pending_requests(settings: Settings) -> list[RequestState]:
    """Requests still awaiting a decision, newest first."""
    chain = ledger.read_chain(ledger_path(settings.promotion_manifest))
    states = request_states(chain).values()
    return sorted((s for s in states if s.status == "pending"), key=lambda s: -s.entry.seq)


def rollbacks_to_review(settings: Settings) -> list[ledger.LedgerEntry]:
    """Rollbacks nobody acknowledged yet, newest first."""
    chain = ledger.read_chain(ledger_path(settings.promotion_manifest))
    reviews = rollback_reviews(chain)
    by_seq = {e.seq: e for e in chain.entries}
    return [by_seq[seq] for seq in sorted(reviews, reverse=True) if reviews[seq] is None]


def readable_time(text: str) -> str:
    """An ISO-8601 UTC time as '2026-11-28 00:18 UTC'."""
    return clock.parse(text).strftime("%Y-%m-%d %H:%M UTC")


def describe_request(state: RequestState) -> tuple[str, str]:
    """A request in two lines: what (id, run, threshold), then who, when and until when."""
    record = state.record
    who = actor_label(state.event.by, state.event.identity)
    return (
        Sentence(
            f"{state.request_id} · {{0}} at threshold {record.threshold:g}",
            record.run_name or record.run_id[:8],
        ),
        Sentence(
            f"Requested by {{0}} on {readable_time(state.event.at)}, expires "
            f"{readable_time(record.expires_at)} · run `{record.run_id}`",
            who,
        ),
    )
