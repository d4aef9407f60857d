"""Cached wrappers for the Runs page that ui/shared/cache.py does not hold (st.cache_data only)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.runs import labels
from core.runs.stability import StabilityRule, stability_verdicts
from core.store import access as store
from ui.shared import cache

RUN_FOLDS_TTL_SECONDS = 300
DERIVED_ENTRIES = 8  # a few experiments and rules per process; a 20,000-run entry is ~1 MB


@st.cache_data(ttl=RUN_FOLDS_TTL_SECONDS, show_spinner="Reading CV folds…", max_entries=256)
def run_folds(tracking_uri: str, run_id: str) -> pd.DataFrame:
    """All CV folds of one run, read from its metric history and child runs."""
    return store.load_run_folds(cache.client_for(tracking_uri), run_id)


def runs_fingerprint(runs: pd.DataFrame) -> str:
    """A key that changes whenever any value, row or column of the runs frame changes.

    Hashing 20,000 runs takes about 25 ms; the verdicts it saves recomputing take 0.5 s.
    """
    rows = pd.util.hash_pandas_object(runs, index=True)
    columns = pd.util.hash_pandas_object(pd.Index(runs.columns.astype("str")), index=False)
    return f"{len(runs)}:{int(rows.sum()):x}:{int(columns.sum()):x}"


@st.cache_data(show_spinner=False, max_entries=DERIVED_ENTRIES)
def stability_flags(fingerprint: str, rule: StabilityRule, _runs: pd.DataFrame) -> pd.Series:
    """Every run's stability flag under rule; _runs is the frame fingerprint identifies."""
    return stability_verdicts(_runs, rule)["flag"]


@st.cache_data(show_spinner=False, max_entries=DERIVED_ENTRIES)
def run_labels(fingerprint: str, _runs: pd.DataFrame) -> dict[str, str]:
    """A readable, unique label per run of the frame fingerprint identifies."""
    return labels.run_labels(_runs, list(_runs["run_id"]))
