"""Model diagnostics: ROC, KS, score bands, calibration, explanations and the threshold policy."""

from __future__ import annotations

import streamlit as st

from core.errors import GovernanceError
from core.evaluation.curves import require_both_classes
from core.scoring.loaded_model import output_label
from ui.diagnostics.comparison import comparison_tab
from ui.diagnostics.data import (
    describe_data,
    flag_protected_inputs,
    load_model,
    pick_data,
    pick_run,
)
from ui.diagnostics.fairness import fairness_tab
from ui.diagnostics.leakage import leakage_check
from ui.diagnostics.sections import (
    bands_tab,
    explain_tab,
    monotonicity_tab,
    policy_and_performance,
)
from ui.shared import cache_evaluation
from ui.shared.context import get_context, require_runs
from ui.shared.report_download import diagnostics_pack_button

context = get_context()
st.title("Model diagnostics")
runs = require_runs(context)
run = pick_run(context, runs)
if run is None:
    st.stop()
model = load_model(context, run)
flag_protected_inputs(context, model)
data = pick_data(context, run, model)
if data is None:
    st.stop()
data = leakage_check(context, run, data)
describe_data(data, output_label(model))
diagnostics_pack_button(context.settings, run["run_id"], run["run_name"])

table_key = f"{run['run_id']}:{data.fingerprint}"
table = cache_evaluation.score_table(table_key, data.labels, data.scores)
try:
    require_both_classes(table)
    evaluation, error = cache_evaluation.evaluation_of(table_key, table), None
except GovernanceError as exc:
    evaluation, error = None, exc

# Only the open tab runs (on_change="rerun"): a closed tab draws nothing, so a page switch
# and a first render pay for one tab's charts, not fourteen.
performance, bands, explain, monotonicity, comparison, fairness = st.tabs(
    [
        "Threshold & performance",
        "Score bands",
        "Explainability",
        "Monotonicity",
        "Compare with another run",
        "Fair lending & segments",
    ],
    key="diag_tab",
    on_change="rerun",
)
no_model = "Needs the run's model, which is unavailable (see the message above)."
with performance:
    if performance.open:
        policy_and_performance(context.settings, table_key, table, evaluation, error)
with bands:
    if bands.open:
        bands_tab(table, run["run_name"])
with explain:
    if explain.open:
        if model is None:
            st.info(no_model)
        else:
            explain_tab(context, run["run_id"], model, data)
with monotonicity:
    if monotonicity.open:
        if model is None:
            st.info(no_model)
        else:
            monotonicity_tab(context, run, model, data)
with comparison:
    if comparison.open:
        if evaluation is None:
            st.info("The comparison needs both goods and bads in the evaluation data.")
        else:
            comparison_tab(context, runs, run, data, table, evaluation)
with fairness:
    if fairness.open:
        fairness_tab(context.settings, data)
