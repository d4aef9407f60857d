"""Cached wrappers for What-if scoring, keyed by the model URI and the applicant or the upload."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.scoring import applicants, batch
from core.scoring.model_spec import ModelSpec
from core.scoring.reason_codes import ReasonCodeBook
from core.scoring.scorer import ScoringResult, scorer_for

BATCH_CACHE_ENTRIES = 4
APPLICANT_CACHE_ENTRIES = 64


def book_fingerprint(book: ReasonCodeBook) -> str:
    """A text that changes whenever the reason texts or the withheld features change."""
    return repr((sorted(book.texts.items()), book.fallback, book.missing, sorted(book.withheld)))


def applicant_key(applicant: pd.DataFrame) -> tuple[tuple[str, str, str], ...]:
    """One applicant's values as an immutable key: (column, dtype, value) per column."""
    row = applicant.iloc[0]
    return tuple((str(c), str(applicant[c].dtype), repr(row[c])) for c in applicant.columns)


# A resource, not data: unpickling a ScoringResult on every edit costs more than scoring it.
# The result is never modified by its readers.
@st.cache_resource(max_entries=APPLICANT_CACHE_ENTRIES, show_spinner=False)
def applicant_score(
    _model: object,
    model_uri: str,
    _applicant: pd.DataFrame,
    key: tuple[tuple[str, str, str], ...],
    threshold: float,
    _book: ReasonCodeBook,
    fingerprint: str,
) -> ScoringResult:
    """One applicant's score and explanation, keyed by the model URI, the applicant's values
    (`applicant_key`), the threshold and the reason texts (`book_fingerprint`)."""
    return scorer_for(_model).score(_applicant, threshold, reason_book=_book)


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


@st.cache_data(max_entries=APPLICANT_CACHE_ENTRIES, show_spinner=False)
def run_defaults(
    _spec: ModelSpec,
    _validation: pd.DataFrame | None,
    tracking_uri: str,
    run_id: str,
    has_validation: bool,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The typical applicant and each numeric feature's granularity for a run, keyed by the
    store, the run (its model, monotone constraints and validation set never change) and
    whether its validation set could be read."""
    return applicants.typical_applicant(_spec, _validation), applicants.value_steps(
        _spec, _validation
    )
