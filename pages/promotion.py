"""Promotion: not built yet; says what it will do and checks the store is readable."""

from __future__ import annotations

import streamlit as st

from ui.context import get_context, require_runs

context = get_context()
st.title("Promotion")
st.info(
    "Coming next: Pass the promotion checklist, write the chosen run_id and threshold"
    " to the promotion manifest with an append-only audit history, export the model, "
    "and roll back."
)
table = require_runs(context)
st.caption(f"{len(table.runs)} run(s) available in this experiment.")
