"""What-if scoring: not built yet; says what it will do and checks the store is readable."""

from __future__ import annotations

import streamlit as st

from ui.context import get_context, require_runs

context = get_context()
st.title("What-if scoring")
st.info(
    "Coming next: Score one applicant, change the inputs, and see the SHAP "
    "explanation, reason codes and the smallest change that flips the decision."
)
table = require_runs(context)
st.caption(f"{len(table.runs)} run(s) available in this experiment.")
