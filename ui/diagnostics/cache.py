"""Cached wrappers for Model diagnostics, keyed by run id and evaluation-data fingerprint.

Results are immutable (frozen dataclasses over read-only arrays) and can be large, so they are
held with st.cache_resource rather than copied on every rerun by st.cache_data. The validation
set, its score table and curves are cached in ui/shared/cache_evaluation.py (Runs › Compare
draws them too).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data.tables import read_columns, read_table_bytes
from core.data.training_rows import TrainingOverlap
from core.evaluation import eval_data, explain_global, monotonicity, run_comparison
from core.run_schema import model_uri
from core.store.training_rows import training_overlaps
from ui.shared import cache

_ENTRIES = 8


@st.cache_data(show_spinner=False, max_entries=_ENTRIES)
def file_columns(name: str, fingerprint: str, _content: bytes) -> list[str]:
    """The column names of a user's file (keyed by its content hash)."""
    return read_columns(name, _content)


@st.cache_resource(show_spinner="Scoring the file with the run's model…", max_entries=_ENTRIES)
def labelled_file_data(
    tracking_uri: str, run_id: str, name: str, fingerprint: str, label_column: str, _content: bytes
) -> eval_data.EvaluationData:
    """A user's labelled file (keyed by its content hash), scored by the run's model."""
    frame = read_table_bytes(name, _content)
    model = cache.model(tracking_uri, model_uri(run_id))
    return eval_data.from_labelled_frame(
        frame, model, label_column, source=name, fingerprint=f"{fingerprint}:{label_column}"
    )


@st.cache_resource(show_spinner="Computing SHAP values…", max_entries=_ENTRIES)
def global_shap(
    tracking_uri: str, run_id: str, key: str, sample_size: int, _data: eval_data.EvaluationData
) -> explain_global.GlobalShap:
    """Exact TreeSHAP of the run's model on a sample of the evaluation rows."""
    model = cache.model(tracking_uri, model_uri(run_id))
    return explain_global.global_shap(model, _data.features, sample_size)


@st.cache_resource(show_spinner="Checking monotonicity…", max_entries=_ENTRIES)
def monotonicity_check(
    tracking_uri: str,
    run_id: str,
    key: str,
    constraints: tuple[tuple[str, int], ...],
    _data: eval_data.EvaluationData,
) -> monotonicity.MonotonicityCheck:
    """Partial-dependence monotonicity of the declared features."""
    model = cache.model(tracking_uri, model_uri(run_id))
    return monotonicity.check_monotonicity(model, _data.features, dict(constraints))


@st.cache_resource(show_spinner="Scoring with the challenger…", max_entries=_ENTRIES)
def challenger_scores(
    tracking_uri: str, run_id: str, key: str, _data: eval_data.EvaluationData
) -> tuple[np.ndarray, dict[str, list[str]]]:
    """Another run's scores on the same evaluation rows, and the categories it has not seen."""
    model = cache.model(tracking_uri, model_uri(run_id))
    scores, unseen, _ = eval_data.score_frame(model, _data.features)
    scores.setflags(write=False)
    return scores, unseen


@st.cache_resource(show_spinner="Comparing AUCs (DeLong)…", max_entries=_ENTRIES)
def delong(
    key: str, _labels: np.ndarray, _base: np.ndarray, _challenger: np.ndarray
) -> run_comparison.AucComparison:
    """DeLong's paired AUC comparison of two runs on the same rows."""
    return run_comparison.delong_test(_labels, _base, _challenger)


@st.cache_resource(show_spinner="Looking for the rows among the training rows…", max_entries=16)
def training_overlap(
    tracking_uri: str, run_id: str, name: str, key: str, _data: eval_data.EvaluationData
) -> TrainingOverlap:
    """Which evaluation rows (features and label) were among a run's training rows."""
    client = cache.client_for(tracking_uri)
    return training_overlaps(client, {name: run_id}, _data.features, _data.labels)[0]
