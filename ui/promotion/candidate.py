"""Promotion page sections: the champion, the candidate, its threshold, the checklist form."""

from __future__ import annotations

import streamlit as st

from core.errors import GovernanceError
from core.promotion import approvals, audit, checklist, requests
from core.promotion.approvals import readable_time
from core.promotion.tables import comparison_table
from core.record.manifest import ManifestError, PromotionManifest
from core.runs.stability import DEFAULT_PRIMARY_METRIC
from core.scoring.calibrator import scale_label
from core.settings import Settings
from core.store.access import RunsTable
from core.store.run_record import RunRecord
from ui.promotion.actions import GATES_KEY, run_action, show_gates
from ui.promotion.identity import Signer
from ui.shared import cache
from ui.shared.champion import put_in_force
from ui.shared.context import StoreContext, show_error
from ui.shared.markdown_text import literal, with_literal_names
from ui.shared.recommendation import recommended_run
from ui.shared.selection import run_selectbox, stability_rule, threshold_input


def champion_banner(settings: Settings) -> tuple[PromotionManifest | None, bool]:
    """Show the champion in force; return it and whether the manifest is unreadable."""
    try:
        champion = audit.show(settings)
    except ManifestError as exc:
        show_error(exc)
        return None, True
    if champion is not None:
        st.info(
            f"**Champion:** {literal(champion.run_name)} (`{champion.run_id}`) at threshold "
            f"**{champion.threshold}** · {put_in_force(champion.action)} by "
            f"{literal(champion.requester.label if champion.requester else champion.promoted_by)}"
            + (f", approved by {literal(champion.approver.label)}" if champion.approver else "")
            + f" on {readable_time(champion.promoted_at)} · “{literal(champion.reason)}”",
            icon=":material/emoji_events:",
        )
    else:
        st.info(
            "Nothing promoted yet: pick a candidate below and pass the checklist.",
            icon=":material/info:",
        )
    return champion, False


def candidate(
    context: StoreContext, table: RunsTable, champion: PromotionManifest | None
) -> RunRecord:
    """Section 1: pick the run to promote (shared selection) and compare it with the champion."""
    runs = table.runs
    candidates = runs[runs["has_model"].astype(bool)] if not runs.empty else runs
    st.header("1 · Candidate")
    if candidates.empty:
        st.info(
            "No run in this experiment has a model to promote. Train some with "
            "`python -m core train --demo`."
        )
        st.stop()
    rule = stability_rule()
    run_id = run_selectbox(
        "Run to promote",
        context,
        runs,
        candidates,
        key="promotion_run",
        why_unusable="logged no model, so it cannot be promoted",
    )
    recommended = recommended_run(context.tracking_uri, runs, rule, DEFAULT_PRIMARY_METRIC)
    if recommended.run_id != run_id:
        st.caption(f"Recommended: {with_literal_names(recommended.reason)}")
    try:
        record = cache.run_record(context.tracking_uri, run_id)
    except GovernanceError as exc:
        show_error(exc)
        st.stop()
    st.dataframe(
        comparison_table(record, champion, rule),
        hide_index=True,
        width="stretch",
        column_config={
            "metric": "Metric",
            "candidate": "Candidate",
            "champion": "Champion",
            "difference": "Difference",
        },
    )
    return record


def threshold_and_rate(settings: Settings, run_id: str) -> float:
    """Section 2: the shared decision threshold and the approval rate it gives on validation."""
    st.header("2 · Threshold")
    left, right = st.columns([1, 2])
    with left:
        threshold = threshold_input(
            "Decision threshold (decline at or above)", settings, key="promotion_threshold"
        )
    try:
        validation = cache.validation_set(settings.tracking_uri, run_id)
    except GovernanceError:
        validation = None
    scale = cache.run_record(settings.tracking_uri, run_id).score_scale
    left.caption(
        f"On the {scale_label(scale)} scale: the manifest records it, and the scoring service "
        "and every page read the threshold on that scale."
    )
    rate = checklist.threshold_approval_rate(validation, threshold)
    if rate is None:
        right.caption(
            "This run logged no validation set, so its approval rate cannot be shown; "
            "the smoke test uses applicants built from the model's feature ranges."
        )
    else:
        right.metric(
            "Approval rate on the run's validation data",
            f"{rate:.1%}",
            help=f"Share of {len(validation):,} validation applicants scored below the threshold.",
        )
    return threshold


def _done(result: requests.PromotionResult | approvals.RequestResult) -> str:
    """The flash message after a promotion or a request."""
    if isinstance(result, approvals.RequestResult):
        record = result.record
        return (
            f"Requested {result.request_id}: {literal(record.run_name or record.run_id)} at "
            f"threshold "
            f"{record.threshold}. Another person must approve it below before it ships. "
            f"{' '.join(result.warnings)}"
        ).strip()
    m = result.manifest
    return (
        f"Promoted {literal(m.run_name)} (`{m.run_id}`) at threshold {m.threshold}; ledger entry "
        f"{result.entry.seq}. {result.registry_message} {' '.join(result.warnings)}"
    )


def checklist_form(settings: Settings, record: RunRecord, threshold: float, signer: Signer) -> None:
    """Section 3: run the gates (dry run), then promote, or request with four eyes."""
    st.header("3 · Gates and " + ("request" if settings.four_eyes else "promotion"))
    rule = stability_rule()
    st.caption(
        "Gates: run finished · threshold in (0, 1) · feature contract (the slot's features, "
        "types and category levels; a change needs a written schema-change reason) · no "
        "protected attribute as an input unless the feature policy justifies it · AUC not "
        "worse than the champion's by more than the tolerance on the candidate's validation "
        "rows (paired DeLong 95% interval; inconclusive when it straddles) · "
        f"CV stable ({rule.describe()}; a run that logged no CV fails) · "
        "model loads from the export · "
        "smoke test (exported model through the scoring core equals the run's model) · "
        "service smoke test (the export served over HTTP answers /predict and /explain alike)."
        + (
            " Four-eyes rule on: this records a request; another person approves it."
            if settings.four_eyes
            else ""
        )
    )
    if signer.read_only("request a promotion" if settings.four_eyes else "promote"):
        return
    with st.form("promotion_form"):
        by, identity = signer.name_field(
            "Requested by" if settings.four_eyes else "Promoted by", "promotion_by"
        )
        reason = st.text_area("Reason", key="promotion_reason", height=80)
        tolerance = st.number_input(
            "AUC tolerance against the champion",
            value=settings.promotion_auc_tolerance,
            step=0.001,
            format="%.3f",
            key="promotion_tolerance",
        )
        force = st.checkbox(
            "Force past a failed AUC, CV or protected-inputs gate, including a run with no CV "
            "(only those; recorded with the reason below)",
            key="promotion_force",
        )
        force_reason = st.text_input("Why force", key="promotion_force_reason")
        schema_change = st.text_input(
            "Intended change of the feature contract: why (leave empty otherwise)",
            key="promotion_schema_change",
            help="Recorded in the manifest and the ledger; the service's /version then shows "
            "the new contract hash.",
        )
        check_col, promote_col = st.columns(2)
        check = check_col.form_submit_button("Run the checklist (writes nothing)")
        label = "Request promotion" if settings.four_eyes else "Promote"
        submit = promote_col.form_submit_button(label, type="primary")
    request = requests.PromotionRequest(
        run_id=record.run_id,
        threshold=threshold,
        by=by,
        reason=reason,
        force=force,
        force_reason=force_reason,
        auc_tolerance=tolerance,
        stability_rule=rule,
        identity=identity,
        actor=signer.actor,
        schema_change_reason=schema_change,
    )
    gate_key = (record.run_id, threshold, tolerance, force, force_reason, rule, schema_change)
    if check:
        try:
            with st.spinner("Exporting to a temporary folder and running the gates…"):
                st.session_state[GATES_KEY] = (gate_key, checklist.check_gates(settings, request))
        except GovernanceError as exc:
            show_error(exc)
    if submit:
        run_action(
            "Running the gates…", lambda: approvals.submit(settings, request), _done, gate_key
        )
    preview = st.session_state.get(GATES_KEY)
    if preview and preview[0] == gate_key:
        show_gates(preview[1])
