"""Cached wrappers for the Runs page that core/cache.py does not hold (st.cache_data only)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.store import access as store
from ui import cache

RUN_FOLDS_TTL_SECONDS = 300


@st.cache_data(ttl=RUN_FOLDS_TTL_SECONDS, show_spinner="Reading CV folds…", max_entries=256)
def run_folds(tracking_uri: str, run_id: str) -> pd.DataFrame:
    """All CV folds of one run, read from its metric history and child runs."""
    return store.load_run_folds(cache.client_for(tracking_uri), run_id)
