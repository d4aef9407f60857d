"""Model diagnostics: how many evaluation rows the run trained on, and the unseen-rows option."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data.training_rows import TrainingOverlap
from core.evaluation.eval_data import EvaluationData, rows_kept
from ui.diagnostics import cache as cached
from ui.shared.context import StoreContext

UNSEEN_ONLY = "unseen rows only"


def overlap_of(
    context: StoreContext, run_id: str, name: str, data: EvaluationData
) -> TrainingOverlap:
    """The cached overlap of the evaluation rows with one run's training rows."""
    return cached.training_overlap(context.tracking_uri, run_id, name, data.fingerprint, data)


def say_overlap(overlap: TrainingOverlap) -> None:
    """A warning above 1% of the rows, a caption otherwise (or that it cannot be checked)."""
    if overlap.material:
        st.warning(overlap.sentence, icon=":material/content_copy:")
    else:
        st.caption(overlap.sentence)


def leakage_check(context: StoreContext, run: pd.Series, data: EvaluationData) -> EvaluationData:
    """Say how many rows this run trained on; above 1%, offer to evaluate on unseen rows only."""
    overlap = overlap_of(context, run["run_id"], "this run", data)
    say_overlap(overlap)
    if not overlap.material or overlap.seen is None:
        return data
    if st.toggle("Evaluate on the unseen rows only", key="diag_unseen_only"):
        return rows_kept(data, ~overlap.seen, UNSEEN_ONLY)
    return data
