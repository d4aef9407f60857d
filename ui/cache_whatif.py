"""Cached wrappers for What-if scoring, keyed by the model URI and the uploaded bytes."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.scoring import batch
from core.scoring.reason_codes import ReasonCodeBook
from core.scoring.scorer import scorer_for

BATCH_CACHE_ENTRIES = 4


@st.cache_data(max_entries=BATCH_CACHE_ENTRIES, show_spinner="Scoring the file…")
def batch_results(
    _model: object,
    model_uri: str,
    data: bytes,
    name: str,
    threshold: float,
    allow_unseen: bool,
    _book: ReasonCodeBook,
    book_fingerprint: str,
) -> tuple[pd.DataFrame, dict[str, list[str]], dict[str, int]]:
    """Scored upload keyed by the model URI, the file bytes, threshold and reason texts."""
    applicants = batch.read_applicants_csv(data, name)
    result = scorer_for(_model).score(
        applicants,
        threshold,
        on_unseen="report" if allow_unseen else "raise",
        reason_book=_book,
    )
    features = list(result.contributions.columns)
    ids = [c for c in applicants.columns if c not in features]
    return (
        batch.batch_table(applicants, result, ids),
        result.prepared.unseen_categories,
        result.prepared.out_of_range,
    )
