"""Model diagnostics: ROC, KS, score bands, calibration, explanations and the threshold policy."""

from __future__ import annotations

import streamlit as st

from core import cache_diagnostics as cached
from core.errors import GovernanceError
from core.evaluation import require_both_classes
from ui.context import get_context, require_runs, show_error
from ui.diagnostics_data import describe_data, load_model, pick_data, pick_run
from ui.diagnostics_policy import threshold_section
from ui.diagnostics_sections import (
    bands_tab,
    champion_tab,
    explain_tab,
    monotonicity_tab,
    performance_tab,
)

context = get_context()
st.title("Model diagnostics")
runs = require_runs(context)
run = pick_run(runs)
if run is None:
    st.stop()
model = load_model(context, run)
data = pick_data(context, run, model)
if data is None:
    st.stop()
describe_data(data)

table_key = f"{run['run_id']}:{data.fingerprint}"
table = cached.score_table(table_key, data.labels, data.scores)
point = threshold_section(context.settings, table)

tabs = st.tabs(
    ["Performance", "Score bands", "Explainability", "Monotonicity", "Champion vs challenger"]
)
try:
    require_both_classes(table)
    evaluation = cached.evaluation_of(table_key, table)
except GovernanceError as exc:
    evaluation = None
    with tabs[0]:
        show_error(exc)
if evaluation is not None:
    with tabs[0]:
        performance_tab(evaluation, table, point)
with tabs[1]:
    bands_tab(table, run["run_name"])
no_model = "Needs the run's model, which is unavailable (see the message above)."
with tabs[2]:
    if model is None:
        st.info(no_model)
    else:
        explain_tab(context, run["run_id"], model, data)
with tabs[3]:
    if model is None:
        st.info(no_model)
    else:
        monotonicity_tab(context, run, model, data)
with tabs[4]:
    if evaluation is None:
        st.info("The comparison needs both goods and bads in the evaluation data.")
    else:
        champion_tab(context, runs, run, data, evaluation, point)
