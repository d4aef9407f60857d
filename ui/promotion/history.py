"""Promotion page sections: verification, the ledger history, and the emergency rollback."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.promotion import audit, audit_export
from core.promotion import use_cases as promotion
from core.promotion.approvals import readable_time
from core.record.manifest import PromotionManifest
from core.runs.labels import run_label
from core.serving.version_check import compare_with_service
from core.settings import Settings
from ui.promotion.actions import run_action
from ui.promotion.identity import Signer
from ui.shared.markdown_text import literal

HISTORY_COLUMNS = {
    "entry": st.column_config.NumberColumn("#"),
    "when": st.column_config.TextColumn("When", width=150),
    "who": st.column_config.TextColumn("Who"),
    "action": st.column_config.TextColumn("Action"),
    "run_name": st.column_config.TextColumn("Run"),
    "reason": st.column_config.TextColumn("Reason", width="large"),
    "status": st.column_config.TextColumn("Status"),
    "gates": st.column_config.TextColumn("Gates"),
    "registry": st.column_config.TextColumn("Registry"),
    "run_id": st.column_config.TextColumn("Run id"),
    "threshold": st.column_config.NumberColumn("Threshold", format="%.4f"),
    "val_auc": st.column_config.NumberColumn("val AUC", format="%.4f"),
    "hash": st.column_config.TextColumn("Entry hash"),
}


REASONS_SHOWN = 20


def _reasons_in_full(shown: pd.DataFrame) -> None:
    """The newest entries' reasons as wrapped text (a table cell cuts a long reason)."""
    with_reason = shown[shown["reason"].astype("str").str.strip() != ""].head(REASONS_SHOWN)
    if with_reason.empty:
        return
    with st.expander(f"Reasons in full (newest {len(with_reason)})", icon=":material/notes:"):
        for row in with_reason.itertuples(index=False):
            reason = "  \n".join(map(literal, str(row.reason).splitlines()))
            st.markdown(
                f"**#{row.entry}** · {row.when} · {row.action} by {literal(row.who)} · "
                f"{literal(row.run_name or row.run_id[:8])}  \n{reason}"
            )


def service_status(settings: Settings, champion: PromotionManifest | None) -> None:
    """Whether the running scoring service (SCORING_URL) serves the manifest in force."""
    service = compare_with_service(champion, settings.scoring_url, settings.scoring_api_token)
    if service.error is not None:
        st.warning(
            f"**Scoring service:** {service.error}. Start it with `python -m core serve` or "
            "correct SCORING_URL.",
            icon=":material/cloud_off:",
        )
        return
    (st.success if service.in_step else st.error)(
        f"**Scoring service:** {service.detail}.", icon=":material/dns:"
    )
    st.dataframe(service.table(), hide_index=True, width="stretch")


def verification_and_history(
    settings: Settings, champion: PromotionManifest | None
) -> tuple[audit.VerificationReport, pd.DataFrame]:
    """The verification verdict, the scoring service's state, the history and its exports."""
    st.header("History")
    report = audit.verify(settings)
    integrity = [c for c in report.checks if c.name != "registry"]
    if report.ok and report.warnings:
        st.warning(
            "**Intact, with warnings.** "
            + " · ".join(f"{c.name}: {c.detail}" for c in report.warnings),
            icon=":material/lock_open:",
        )
    elif report.ok:
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
    if settings.scoring_url:
        service_status(settings, champion)
    history = audit.history(settings)
    if history.empty:
        st.caption("The ledger is empty.")
        return report, history
    # Times read "2026-11-28 14:03 UTC" (the exports keep ISO-8601).
    shown = history.assign(when=history["when"].map(lambda t: readable_time(t) if t else ""))
    st.dataframe(shown, hide_index=True, width="stretch", column_config=HISTORY_COLUMNS)
    _reasons_in_full(shown)
    csv_col, json_col, _ = st.columns([1, 1, 3])
    for column, fmt in ((csv_col, "csv"), (json_col, "json")):
        column.download_button(
            f"Export {fmt.upper()}",
            audit_export.export_history(settings, fmt),
            help="For auditors: every entry with its full hash and the verification result.",
            file_name=f"promotion-history.{fmt}",
            mime="text/csv" if fmt == "csv" else "application/json",
            icon=":material/download:",
            key=f"export_{fmt}",
        )
    return report, history


ROLLBACK_FORM_KEYS = ("rollback_target", "rollback_by", "rollback_reason")


def rollback_form(
    settings: Settings,
    report: audit.VerificationReport,
    history: pd.DataFrame,
    manifest_broken: bool,
    signer: Signer,
) -> None:
    """Emergency rollback: one person, with a reason; flagged for a second person's review."""
    st.header("Rollback")
    choices = audit.rollback_choices(settings)
    restore_last = manifest_broken or (not report.ok and bool(len(history)))
    if not choices and not restore_last:
        st.caption("Nothing earlier to roll back to: roll back needs at least two promotions.")
        return
    st.caption("An emergency action one person may take; it shows “needs review” in the "
               "history until a second person acknowledges it.")  # fmt: skip
    if not (signer.may("request") or signer.may("approve")):
        signer.read_only("roll back")
        return
    labels = {
        e.seq: f"#{e.seq} {run_label(e.manifest.run_name, e.manifest.run_id)} · threshold "
        f"{e.manifest.threshold} · {readable_time(e.manifest.promoted_at)} by "
        f"{e.manifest.promoted_by}"
        + (" · roll forward (undoes a rollback)" if audit.is_roll_forward(settings, e) else "")
        for e in choices
    }
    options: list[int | None] = [None, *labels] if restore_last else list(labels)
    default = None if restore_last else audit.rollback_default(settings, choices)
    with st.form("rollback_form"):
        target = st.selectbox(
            "Roll back to",
            options,
            index=options.index(default) if default in options else (0 if restore_last else None),
            format_func=lambda seq: "the last recorded promotion" if seq is None else labels[seq],
            placeholder="Choose an entry (a roll forward needs an explicit choice)",
            key="rollback_target",
        )
        by, identity = signer.name_field("Rolled back by", "rollback_by")
        reason = st.text_area("Reason", key="rollback_reason", height=80)
        do_rollback = st.form_submit_button("Roll back")
    if do_rollback and target is None and not restore_last:
        st.error("Choose the entry to roll back to.")
    elif do_rollback:
        run_action(
            "Verifying the export and rolling back…",
            lambda: promotion.rollback(
                settings, by=by, reason=reason, to_seq=target, identity=identity, actor=signer.actor
            ),
            lambda result: (
                f"Rolled back to {literal(result.manifest.run_name)} (`{result.manifest.run_id}`) "
                "at "
                f"threshold {result.manifest.threshold}; ledger entry {result.entry.seq}, "
                f"needs review by a second person. {result.registry_message}"
            ),
            clear_keys=ROLLBACK_FORM_KEYS,
        )
