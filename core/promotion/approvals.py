"""Maker-checker promotion: request, approve or reject, and acknowledge an emergency rollback.

With PROMOTION_APPROVALS=2 a promotion is first recorded as a pending request (the gates must
pass); another person approves it, which re-runs the gates against the store as it is now and
only then writes the manifest. Requests expire after PROMOTION_REQUEST_HOURS. Every decision is
an entry of the one hash-chained ledger, appended under the promotion lock.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from core.identity.actor import Actor, same_actor
from core.promotion import anchor, checklist
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
)
from core.promotion.signers import ApprovalError, acting, actor_of_event, same_person_refusal
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

__all__ = ["ApprovalError", "RequestResult", "acknowledge", "approve", "reject", "submit"]

logger = logging.getLogger(__name__)


def _actor(by: str, identity: ledger.Identity, actor: Actor | None, what: str, flag: str) -> Actor:
    """The acting person: actor when given (signed in), else the declared name by."""
    if actor is not None:
        return actor
    return Actor(name=require_text(by, what, flag), identity=identity)


@dataclass(frozen=True)
class RequestResult:
    """A pending request recorded in the ledger."""

    request_id: str
    entry: ledger.LedgerEntry
    warnings: tuple[str, ...] = ()

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
) -> tuple[ledger.LedgerEntry, str | None]:
    """Under the lock: repair, check the state, append an event-only entry, then anchor it in
    the tracking store; the entry and the warning of an anchor that could not be written."""
    path = settings.promotion_manifest
    ensure_writable_dir(path.parent)
    with exclusive_lock(path, on_wait=on_lock_wait):
        repair_locked(settings)
        state = read_state(settings, tolerate_bad_manifest=True)
        check_state(state)
        entry = ledger.new_entry(state.head, None, None, event, signer=load_private(settings))
        commit_file(ledger.stage_append(ledger_path(path), entry), ledger_path(path))
        warning = anchor.anchor_event(settings.tracking_uri, state.chain, entry)
        if warning:
            logger.warning(warning)
        return entry, warning


def request_promotion(
    settings: Settings, request: PromotionRequest, *, on_lock_wait: LockWaitHook = None
) -> RequestResult:
    """Run the gates (writing nothing) and, when they pass, record a pending request."""
    threshold = request.threshold
    actor = _actor(request.by, request.identity, request.actor, "Who requests", "--by")
    signer = acting(settings, actor, "request", "requests")
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
        **signer,
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
            slot=request.slot or None,
            schema_change_reason=request.schema_change_reason or None,
        ),
    )
    entry, warning = _append(settings, event, lambda state: None, on_lock_wait)
    return RequestResult(request_id_for(entry.seq), entry, (warning,) if warning else ())


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
    by: str = "",
    reason: str,
    identity: ledger.Identity = "declared",
    actor: Actor | None = None,
    on_lock_wait: LockWaitHook = None,
) -> PromotionResult:
    """Approve a pending request by another person in the approver role: re-run the gates,
    then promote (the requester themself is refused, by subject when signed in)."""
    approver = _actor(by, identity, actor, "Who approves", "--by")
    reason = require_text(reason, "The reason", "--reason")
    repair(settings)

    def still_approvable(state: LedgerState) -> RequestState:
        """The request, still pending, unexpired, and not the approver's own."""
        current = _open_request(state, request_id, "approved")
        did = f"requested {current.request_id}"
        same_person_refusal(approver, actor_of_event(current.event), did, "approve it")
        return current

    found = still_approvable(read_state(settings, tolerate_bad_manifest=True))
    signer = acting(settings, approver, "approve", "approvals")
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
        slot=record.slot or "",
        schema_change_reason=record.schema_change_reason or "",
    )
    event = ledger.LedgerEvent(
        kind="approve", **signer, at=clock.stamp(), reason=reason, request_id=found.request_id
    )
    return install_promotion(
        settings,
        request,
        event,
        on_lock_wait=on_lock_wait,
        check_state=still_approvable,
        requested=found.event,
    )


def reject(
    settings: Settings,
    request_id: str,
    *,
    by: str = "",
    reason: str,
    identity: ledger.Identity = "declared",
    actor: Actor | None = None,
    on_lock_wait: LockWaitHook = None,
) -> ledger.LedgerEntry:
    """Reject (approver role) or, by the requester, withdraw a pending request; the manifest
    is untouched."""
    rejecter = _actor(by, identity, actor, "Who rejects", "--by")
    reason = require_text(reason, "The reason", "--reason")
    found = _open_request(read_state(settings, tolerate_bad_manifest=True), request_id, "rejected")
    own = same_actor(rejecter, actor_of_event(found.event))
    signer = acting(settings, rejecter, "request" if own else "approve", "approvals")
    event = ledger.LedgerEvent(
        kind="reject", **signer, at=clock.stamp(), reason=reason, request_id=found.request_id
    )
    return _append(
        settings, event, lambda state: _open_request(state, request_id, "rejected"), on_lock_wait
    )[0]


def acknowledge(
    settings: Settings,
    seq: int,
    *,
    by: str = "",
    reason: str = "",
    identity: ledger.Identity = "declared",
    actor: Actor | None = None,
    on_lock_wait: LockWaitHook = None,
) -> ledger.LedgerEntry:
    """A second person (approver role) acknowledges an emergency rollback, clearing its
    "needs review" flag; the person who rolled back is refused."""
    reviewer = _actor(by, identity, actor, "Who acknowledges", "--by")
    signer = acting(settings, reviewer, "approve", "approvals")

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
        if entry.event is not None:
            made_by = actor_of_event(entry.event)
        else:
            made_by = Actor(name=actor_of(entry)[0])
        same_person_refusal(reviewer, made_by, f"made rollback {seq}", "acknowledge it")

    event = ledger.LedgerEvent(
        kind="acknowledge",
        **signer,
        at=clock.stamp(),
        reason=reason.strip(),
        target_seq=seq,
    )
    return _append(settings, event, reviewable, on_lock_wait)[0]


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
