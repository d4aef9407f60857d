"""Promotion: compare a candidate with the champion, run the gates, promote or request, approve,
audit, roll back. Only wiring: the sections live in ui/promotion/, the logic in
core/promotion."""

from __future__ import annotations

import streamlit as st

from ui.promotion import candidate, history, review
from ui.promotion.actions import repair_on_open, show_flash
from ui.promotion.identity import current_signer
from ui.shared.context import get_context, require_runs
from ui.shared.report_download import evidence_pack_button

context = get_context()
settings = context.settings
st.title("Promotion")
st.caption(
    f"Manifest `{settings.promotion_manifest}` · ledger and exported models beside it. "
    "The page and `python -m core promote` run the same gates and write the same record."
    + (" Four-eyes rule: one person requests, another approves." if settings.four_eyes else "")
)
table = require_runs(context)
show_flash()
signer = current_signer(settings)
repair_on_open(settings)

champion, manifest_broken = candidate.champion_banner(settings)
review.pending_requests(settings, signer)
record = candidate.candidate(context, table, champion)
threshold = candidate.threshold_and_rate(settings, record.run_id)
evidence_pack_button(settings, record.run_id, record.run_name, threshold, "promo_pack")
candidate.checklist_form(settings, record, threshold, signer)

report, ledger_table = history.verification_and_history(settings, champion)
review.rollbacks_to_review(settings, signer)
history.rollback_form(settings, report, ledger_table, manifest_broken, signer)
