"""Monitoring: not built yet; says what it will do and checks the store is readable."""

from __future__ import annotations

import streamlit as st

from ui.context import get_context, require_runs

context = get_context()
st.title("Monitoring")
st.info(
    "Coming next: Drift and performance of the promoted model on recent data: "
    "population stability per feature, approval rate, bad rate among approved, AUC "
    "and KS over time."
)
table = require_runs(context)
st.caption(f"{len(table.runs)} run(s) available in this experiment.")
