"""Promotion: compare a candidate with the champion, run the gates, promote, audit, roll back."""

from __future__ import annotations

import streamlit as st

from core.errors import GovernanceError
from core.promotion import audit, checklist, requests
from core.promotion import use_cases as promotion
from core.promotion.manifest import ManifestError, PromotionManifest
from core.promotion.tables import comparison_table, gate_table
from core.runs.stability import recommend_run
from ui import cache
from ui.context import get_context, require_runs, show_error
from ui.selection import run_selectbox, stability_rule, threshold_input

FLASH_KEY = "promotion_flash"
GATES_KEY = "promotion_gate_preview"
GATE_COLUMNS = {
    "gate": st.column_config.TextColumn("Gate", width="small"),
    "outcome": st.column_config.TextColumn("Outcome", width="small"),
    "detail": st.column_config.TextColumn("Detail", width="large"),
}

context = get_context()
settings = context.settings
st.title("Promotion")
st.caption(
    f"Manifest `{settings.promotion_manifest}` · ledger and exported models beside it. "
    "The page and `python -m core promote` run the same gates and write the same record."
)
table = require_runs(context)
flash = st.session_state.pop(FLASH_KEY, None)
if flash:
    st.success(flash, icon=":material/check_circle:")

# ---------------------------------------------------------------- the champion
champion: PromotionManifest | None = None
manifest_broken = False
try:
    champion = audit.show(settings)
except ManifestError as exc:
    manifest_broken = True
    show_error(exc)
if champion is not None:
    st.info(
        f"**Champion:** {champion.run_name} (`{champion.run_id}`) at threshold "
        f"**{champion.threshold}** · {champion.action} by {champion.promoted_by} "
        f"at {champion.promoted_at} · “{champion.reason}”",
        icon=":material/emoji_events:",
    )
elif not manifest_broken:
    st.info(
        "Nothing promoted yet: pick a candidate below and pass the checklist.",
        icon=":material/info:",
    )

# ---------------------------------------------------------------- 1. candidate
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
recommended = recommend_run(runs, rule)
if recommended.run_id != run_id:
    st.caption(f"Recommended: {recommended.reason}")
try:
    record = cache.run_record(settings.tracking_uri, run_id)
except GovernanceError as exc:
    show_error(exc)
    st.stop()
st.dataframe(comparison_table(record, champion, rule), hide_index=True, width="stretch")

# ---------------------------------------------------------------- 2. threshold
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

# ---------------------------------------------------------------- 3. gates + promote
st.header("3 · Gates and promotion")
st.caption(
    "Gates: run finished · threshold in (0, 1) · val_auc not below the champion's by more "
    f"than the tolerance · CV stable ({rule.describe()}) · model loads from the export · "
    "smoke test (exported model through the scoring core equals the run's model)."
)
with st.form("promotion_form"):
    by = st.text_input("Promoted by", key="promotion_by")
    reason = st.text_area("Reason", key="promotion_reason", height=80)
    tolerance = st.number_input(
        "AUC tolerance against the champion",
        value=context.settings.promotion_auc_tolerance,
        step=0.001,
        format="%.3f",
        key="promotion_tolerance",
    )
    force = st.checkbox(
        "Force past the AUC gate (only that gate; recorded with the reason below)",
        key="promotion_force",
    )
    force_reason = st.text_input("Why force", key="promotion_force_reason")
    check_col, promote_col = st.columns(2)
    check = check_col.form_submit_button("Run the checklist (writes nothing)")
    submit = promote_col.form_submit_button("Promote", type="primary")

request = requests.PromotionRequest(
    run_id=run_id,
    threshold=threshold,
    by=by,
    reason=reason,
    force=force,
    force_reason=force_reason,
    auc_tolerance=tolerance,
    stability_rule=rule,
)
gate_key = (run_id, threshold, tolerance, force, force_reason, rule)  # what the gates depend on
if check:
    try:
        with st.spinner("Exporting to a temporary folder and running the gates…"):
            st.session_state[GATES_KEY] = (gate_key, checklist.check_gates(settings, request))
    except GovernanceError as exc:
        show_error(exc)
if submit:
    try:
        with st.spinner("Promoting…"):
            result = promotion.promote(settings, request)
    except requests.GateFailedError as exc:
        show_error(exc)
        st.session_state[GATES_KEY] = (gate_key, exc.results)
    except GovernanceError as exc:
        show_error(exc)
    else:
        st.session_state.pop(GATES_KEY, None)
        st.session_state[FLASH_KEY] = (
            f"Promoted {result.manifest.run_name} (`{result.manifest.run_id}`) at threshold "
            f"{result.manifest.threshold}; ledger entry {result.entry.seq}. "
            f"{result.registry_message} {' '.join(result.warnings)}"
        )
        st.rerun()
preview = st.session_state.get(GATES_KEY)
if preview and preview[0] == gate_key:
    st.dataframe(
        gate_table(preview[1]), hide_index=True, width="stretch", column_config=GATE_COLUMNS
    )

# ---------------------------------------------------------------- history + verification
st.header("History")
report = audit.verify(settings)
integrity = [c for c in report.checks if c.name != "registry"]
if report.ok:
    st.success(
        "**Verified.** " + " · ".join(f"{c.name}: {c.detail}" for c in integrity),
        icon=":material/lock:",
    )
else:
    st.error(
        "**Verification failed.** "
        + " · ".join(f"{c.name}: {c.detail}" for c in report.checks if not c.ok)
        + "\n\nRestore the ledger from backup; a hand-edited manifest is restored by "
        "rolling back to the last recorded promotion.",
        icon=":material/report:",
    )
registry_check = next((c for c in report.checks if c.name == "registry"), None)
if registry_check is not None and registry_check.ok:
    st.caption(f"MLflow registry: {registry_check.detail}")
history = audit.history(settings)
if history.empty:
    st.caption("The ledger is empty.")
else:
    st.dataframe(
        history,
        hide_index=True,
        width="stretch",
        column_config={
            "entry": st.column_config.NumberColumn("#"),
            "when": st.column_config.TextColumn("When (UTC)"),
            "who": st.column_config.TextColumn("Who"),
            "action": st.column_config.TextColumn("Action"),
            "run_name": st.column_config.TextColumn("Run"),
            "reason": st.column_config.TextColumn("Reason", width="large"),
            "gates": st.column_config.TextColumn("Gates"),
            "registry": st.column_config.TextColumn("Registry"),
            "run_id": st.column_config.TextColumn("Run id"),
            "threshold": st.column_config.NumberColumn("Threshold", format="%.4f"),
            "val_auc": st.column_config.NumberColumn("val AUC", format="%.4f"),
            "hash": st.column_config.TextColumn("Entry hash"),
        },
    )

# ---------------------------------------------------------------- rollback
st.header("Rollback")
choices = audit.rollback_choices(settings)
restore_last = manifest_broken or (not report.ok and bool(len(history)))
if not choices and not restore_last:
    st.caption("Nothing earlier to roll back to: roll back needs at least two promotions.")
    st.stop()
labels = {
    e.seq: f"#{e.seq} {e.manifest.run_name} · {e.manifest.run_id[:8]} · threshold "
    f"{e.manifest.threshold} · {e.manifest.promoted_at} by {e.manifest.promoted_by}"
    for e in choices
}
options: list[int | None] = [None, *labels] if restore_last else list(labels)
with st.form("rollback_form"):
    target = st.selectbox(
        "Roll back to",
        options,
        format_func=lambda seq: "the last recorded promotion" if seq is None else labels[seq],
        key="rollback_target",
    )
    rollback_by = st.text_input("Rolled back by", key="rollback_by")
    rollback_reason = st.text_area("Reason", key="rollback_reason", height=80)
    do_rollback = st.form_submit_button("Roll back")
if do_rollback:
    try:
        with st.spinner("Verifying the export and rolling back…"):
            result = promotion.rollback(
                settings, by=rollback_by, reason=rollback_reason, to_seq=target
            )
    except requests.GateFailedError as exc:
        show_error(exc)
        st.dataframe(
            gate_table(exc.results), hide_index=True, width="stretch", column_config=GATE_COLUMNS
        )
    except GovernanceError as exc:
        show_error(exc)
    else:
        st.session_state[FLASH_KEY] = (
            f"Rolled back to {result.manifest.run_name} (`{result.manifest.run_id}`) at "
            f"threshold {result.manifest.threshold}; ledger entry {result.entry.seq}. "
            f"{result.registry_message}"
        )
        st.rerun()
