"""Cached wrappers for What-if scoring (the only streamlit import among its core modules)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import batch, scoring
from core.reason_codes import ReasonCodeBook

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
    result = scoring.score_applicants(
        _model,  # type: ignore[arg-type]
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
