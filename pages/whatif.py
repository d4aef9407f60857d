"""What-if scoring: score an applicant, edit the inputs, see why, and what would flip it."""

from __future__ import annotations

import streamlit as st

from core.errors import GovernanceError
from core.scoring.model_spec import model_spec, monotone_from_params, with_monotone
from core.scoring.reason_codes import ReasonCodeBook, load_reason_codes
from core.store import access as store
from ui.shared import cache
from ui.shared.context import get_context, require_runs, show_error
from ui.shared.feature_policy import feature_policy, held_fixed_note
from ui.shared.markdown_text import literal
from ui.shared.selection import threshold_input
from ui.whatif import cache as cached
from ui.whatif.batch import batch_section
from ui.whatif.editor import Workbench, applicant_workbench, load_applicant_into_form
from ui.whatif.picker import pick_applicant
from ui.whatif.run import pick_run

context = get_context()
st.title("What-if scoring")
st.caption(
    "Score one applicant, change the inputs and see why: SHAP contributions, plain-language "
    "reason codes and the smallest single change that flips the decision."
)
table = require_runs(context)
if table.runs.empty:
    st.info("This experiment has no runs yet. Train some with `python -m core train --demo`.")
    st.stop()

top_left, top_right = st.columns([3, 1])
with top_left:
    choice = pick_run(context, table.runs)
if choice is None:
    st.stop()
with top_right:
    threshold = threshold_input(
        "Decision threshold",
        context.settings,
        key="whatif_threshold",
        help="Score at or above which an applicant is declined: a risk score, or the "
        "probability of default for a run trained with --calibrate "
        f"(configured: {context.settings.decision_threshold}). Shared with Diagnostics "
        "and Promotion.",
    )

model_uri = store.model_uri(choice.run_id)
try:
    model = cache.model(context.tracking_uri, model_uri)
    spec = model_spec(model.classifier)
except GovernanceError as exc:
    show_error(exc)
    st.stop()
spec = with_monotone(
    spec, monotone_from_params(choice.params.get("monotone_constraints"), spec.names)
)

validation = None
if choice.has_validation_set:
    try:
        validation = cache.validation_set(context.tracking_uri, choice.run_id)
    except GovernanceError as exc:
        show_error(exc)
else:
    st.info(
        "This run logged no validation set, so applicants cannot be picked from it: start "
        "from the template of typical values, or upload a CSV under Batch scoring. Governed "
        "runs (`python -m core train`) log one."
    )

try:
    book = load_reason_codes(context.settings.reason_codes_file)
except GovernanceError as exc:
    show_error(exc)
    book = ReasonCodeBook(source="built-in defaults (the reason-code file is invalid)")
policy = feature_policy(context.settings)
book = book.withholding(policy.protected)

template, steps = cached.run_defaults(
    spec, validation, context.tracking_uri, choice.run_id, validation is not None
)
one_tab, batch_tab = st.tabs(["One applicant", "Batch scoring"])
with one_tab:
    picked = pick_applicant(spec, validation, threshold)
    if picked is not None:
        load_applicant_into_form(spec, picked.frame, f"{choice.run_id}|{picked.key}")
        applicant_workbench(
            Workbench(
                model=model,
                model_uri=model_uri,
                spec=spec,
                threshold=threshold,
                book=book,
                steps=steps,
                reference=template,
                policy=policy,
            ),
            picked.frame,
            picked.label,
        )
    unmapped = book.unmapped(spec.names)
    path = context.settings.reason_codes_file
    origin = (
        f"Reason texts come from {path}: edit it to change them"
        if book.source == str(path)
        else f"Reason texts: {book.source}; write {path} to change them"
    )
    fallback = f" (features without a text use the fallback: {', '.join(map(literal, unmapped))})"
    st.caption(origin + (fallback if unmapped else "") + ".")
    held_fixed_note(policy, spec)
with batch_tab:
    batch_section(model, model_uri, spec, threshold, book, template)
