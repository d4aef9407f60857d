"""Cached evaluation of a run's scores, shared by Diagnostics and Runs › Compare.

Results are immutable (frozen dataclasses over read-only arrays) and can be large (a score
table over a million rows), so they are held with st.cache_resource rather than copied on
every rerun by st.cache_data: a threshold change then costs a lookup, not a copy. A run drawn
on Runs › Compare is then found, not rebuilt, when Diagnostics opens it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.evaluation import curves as evaluation
from core.evaluation import eval_data
from core.evaluation.threshold_policy import ScoreTable, build_score_table
from ui.shared import cache

_ENTRIES = 8


@st.cache_resource(show_spinner="Reading the validation set…", max_entries=_ENTRIES)
def validation_data(tracking_uri: str, run_id: str) -> eval_data.EvaluationData:
    """The run's logged validation set as evaluation data."""
    return eval_data.from_validation_set(cache.validation_set(tracking_uri, run_id), run_id)


@st.cache_resource(show_spinner="Sorting scores…", max_entries=_ENTRIES)
def score_table(key: str, _labels: np.ndarray, _scores: np.ndarray) -> ScoreTable:
    """The sorted-score table behind every metric and threshold lookup."""
    return build_score_table(_labels, _scores)


@st.cache_resource(show_spinner=False, max_entries=_ENTRIES)
def evaluation_of(key: str, _table: ScoreTable) -> evaluation.Evaluation:
    """ROC, KS, precision-recall and the score distribution of a score table."""
    return evaluation.evaluate(_table)
