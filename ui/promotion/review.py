"""Promotion page sections for the second person: pending requests and rollbacks to review."""

from __future__ import annotations

import streamlit as st

from core.errors import GovernanceError
from core.promotion import approvals
from core.promotion.review import RequestState, actor_label, actor_of
from core.promotion.signers import actor_of_event
from core.promotion.tables import gate_outcomes
from core.record import ledger
from core.settings import Settings
from ui.promotion.actions import run_action
from ui.promotion.identity import Signer
from ui.shared.context import show_error
from ui.shared.markdown_text import literal, with_literal_names


def _approved(result) -> str:
    """The flash message after an approval."""
    m = result.manifest
    return (
        f"Approved and promoted {literal(m.run_name)} (`{m.run_id}`) at threshold {m.threshold}; "
        f"ledger entry {result.entry.seq}. {result.registry_message}"
    )


def _request_card(settings: Settings, state: RequestState, signer: Signer) -> None:
    """One pending request: what, who, why, its gates, and approve / reject."""
    rid = state.request_id
    with st.container(border=True):
        what, who = approvals.describe_request(state)
        st.markdown(f"**{with_literal_names(what)}**")
        st.caption(
            f"{with_literal_names(who)}  \nReason: “{literal(state.event.reason)}” · gates when "
            "requested: "
            f"{gate_outcomes(state.record.gate_results)}"
        )
        own = signer.is_person(actor_of_event(state.event))
        if own:
            st.caption("You requested this: another person must approve it (you may withdraw it).")
        elif signer.read_only("approve"):
            return
        with st.form(f"request_form_{rid}", border=False):
            by, identity = signer.name_field("Decided by", f"decide_by_{rid}")
            reason = st.text_input("Reason for the decision", key=f"decide_reason_{rid}")
            approve_col, reject_col, _ = st.columns([1, 1, 3])
            approve = not own and approve_col.form_submit_button(
                "Approve", type="primary", icon=":material/task_alt:"
            )
            reject = reject_col.form_submit_button("Reject", icon=":material/block:")
        if approve:
            run_action(
                "Re-running the gates and promoting…",
                lambda: approvals.approve(
                    settings, rid, by=by, reason=reason, identity=identity, actor=signer.actor
                ),
                _approved,
            )
        if reject:
            run_action(
                "Recording the rejection…",
                lambda: approvals.reject(
                    settings, rid, by=by, reason=reason, identity=identity, actor=signer.actor
                ),
                lambda entry: (
                    f"Rejected {rid} (ledger entry {entry.seq}); the manifest is unchanged."
                ),
            )


def pending_requests(settings: Settings, signer: Signer) -> None:
    """Pending promotion requests, each with approve and reject."""
    try:
        pending = approvals.pending_requests(settings)
    except GovernanceError as exc:
        show_error(exc)
        return
    if not settings.four_eyes and not pending:
        return
    st.header("Pending requests")
    if not pending:
        st.caption("No request awaits a decision.")
    for state in pending:
        _request_card(settings, state, signer)


def _rollback_card(entry: ledger.LedgerEntry, settings: Settings, signer: Signer) -> None:
    """One emergency rollback awaiting a second person's acknowledgement."""
    m = entry.manifest
    who = actor_label(*actor_of(entry))
    reason = entry.event.reason if entry.event else m.reason if m else ""
    with st.container(border=True):
        st.markdown(
            f"**#{entry.seq} · rollback to {literal(m.run_name) if m else '?'} at threshold "
            f"{m.threshold if m else '?'}**"
        )
        when = approvals.readable_time(m.promoted_at) if m else "?"
        st.caption(f"By {literal(who)} on {when} · reason: “{literal(reason)}”")
        if signer.read_only("acknowledge"):
            return
        with st.form(f"ack_form_{entry.seq}", border=False):
            by, identity = signer.name_field("Reviewed by", f"ack_by_{entry.seq}")
            note = st.text_input("Review note", key=f"ack_note_{entry.seq}")
            done = st.form_submit_button("Acknowledge", icon=":material/verified:")
        if done:
            run_action(
                "Recording the review…",
                lambda: approvals.acknowledge(
                    settings, entry.seq, by=by, reason=note, identity=identity, actor=signer.actor
                ),
                lambda ack: f"Rollback #{entry.seq} acknowledged (ledger entry {ack.seq}).",
            )


def rollbacks_to_review(settings: Settings, signer: Signer) -> None:
    """Emergency rollbacks flagged "needs review", each with an acknowledge form."""
    try:
        waiting = approvals.rollbacks_to_review(settings)
    except GovernanceError as exc:
        show_error(exc)
        return
    if not waiting:
        return
    st.header("Rollbacks to review")
    st.caption("A rollback is an emergency action one person may take; a second person "
               "acknowledges it here, which clears its “needs review” flag.")  # fmt: skip
    for entry in waiting:
        _rollback_card(entry, settings, signer)
