"""Model diagnostics: not built yet; says what it will do and checks the store is readable."""

from __future__ import annotations

import streamlit as st

from ui.context import get_context, require_runs

context = get_context()
st.title("Model diagnostics")
st.info(
    "Coming next: ROC, KS, score bands, calibration, feature importance, global SHAP "
    "and the threshold policy (approval rate and bad rate among approved at any cut-"
    "off) for one run."
)
table = require_runs(context)
st.caption(f"{len(table.runs)} run(s) available in this experiment.")
