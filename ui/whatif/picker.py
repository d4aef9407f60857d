"""What-if scoring: pick the starting applicant (row, id, random, borderline, template)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.errors import DataValidationError
from core.scoring import applicants as picks
from core.scoring.model_spec import ModelSpec
from ui.shared.context import show_error

SOURCE_KEY = "whatif_source"
ROW_KEY = "whatif_row"
ID_QUERY_KEY = "whatif_id_query"
ID_PICK_KEY = "whatif_id_pick"
SEED_KEY = "whatif_seed"
BORDERLINE_KEY = "whatif_borderline"
BY_ROW = "Validation row"
BY_ID = "Applicant id"
RANDOM = "Random"
BORDERLINE = "Borderline"
TEMPLATE = "Typical values"
SOURCES = (BY_ROW, BY_ID, RANDOM, BORDERLINE, TEMPLATE)


@dataclass(frozen=True)
class PickedApplicant:
    """The starting applicant (model features, one row), a label, and a key naming the pick."""

    frame: pd.DataFrame
    label: str
    key: str


def _applicant_id(validation: pd.DataFrame, row: int) -> str:
    """The id of a validation row, or its position when the set has no id column."""
    if picks.ID_COLUMN in validation.columns:
        return str(validation[picks.ID_COLUMN].iloc[row])
    return f"row {row}"


def _by_row(validation: pd.DataFrame, spec: ModelSpec, row: int, how: str) -> PickedApplicant:
    """A validation row as the picked applicant."""
    applicant_id = _applicant_id(validation, row)
    return PickedApplicant(
        picks.applicant_by_row(validation, spec, row),
        f"{how}: validation row {row} (id {applicant_id})",
        f"row:{row}",
    )


def _pick_from_validation(
    source: str, validation: pd.DataFrame, spec: ModelSpec, threshold: float
) -> PickedApplicant | None:
    """The applicant for one of the validation-set sources."""
    if source == BY_ROW:
        row = st.number_input(
            f"Row (0 – {len(validation) - 1})",
            min_value=0,
            max_value=len(validation) - 1,
            value=0,
            step=1,
            key=ROW_KEY,
        )
        return _by_row(validation, spec, int(row), "Picked")
    if source == BY_ID:
        query = st.text_input("Search applicant id", key=ID_QUERY_KEY, placeholder="part of an id")
        hits = picks.search_ids(validation, query)
        if not hits:
            st.info(f"No applicant id contains '{query}'.")
            return None
        chosen = st.selectbox(f"Matches ({len(hits)} shown)", hits, key=ID_PICK_KEY)
        frame = picks.applicant_by_id(validation, spec, chosen)
        return PickedApplicant(frame, f"Applicant {chosen}", f"id:{chosen}")
    if source == RANDOM:
        if st.button("Draw another applicant", key="whatif_draw"):
            st.session_state[SEED_KEY] = st.session_state.get(SEED_KEY, 0) + 1
        seed = st.session_state.get(SEED_KEY, 0)
        return _by_row(validation, spec, picks.random_row(validation, seed), f"Random draw {seed}")
    borderline = picks.borderline_rows(validation, threshold)
    options = borderline["row"].tolist()
    shown = {
        int(r.row): f"row {int(r.row)} · {r.applicant_id} · score {r.score:.4f} ({r.distance:+.4f})"
        for r in borderline.itertuples()
    }
    kept = st.session_state.get(BORDERLINE_KEY)
    if kept is not None and kept not in shown and 0 <= int(kept) < len(validation):
        # A threshold change must not swap the applicant (and the user's edits) underneath.
        options = [int(kept), *options]
        shown[int(kept)] = f"row {int(kept)} · your pick (no longer among the closest)"
    row = st.selectbox(
        "Closest to the threshold (logged validation scores)",
        options,
        key=BORDERLINE_KEY,
        format_func=lambda r: shown.get(r, str(r)),
    )
    return _by_row(validation, spec, int(row), "Borderline")


def pick_applicant(
    spec: ModelSpec, validation: pd.DataFrame | None, threshold: float
) -> PickedApplicant | None:
    """Draw the applicant picker and return the starting applicant."""
    sources = SOURCES if validation is not None and not validation.empty else (TEMPLATE,)
    if st.session_state.get(SOURCE_KEY) not in sources:
        st.session_state[SOURCE_KEY] = sources[0]
    source = st.radio("Start from", sources, key=SOURCE_KEY, horizontal=True)
    if source == TEMPLATE or validation is None:
        frame = picks.typical_applicant(spec, validation)
        origin = "medians and most frequent categories of the validation set"
        if validation is None:
            origin = "training-range midpoints: this run logged no validation set"
        return PickedApplicant(frame, f"Template of typical values ({origin})", "template")
    try:
        return _pick_from_validation(source, validation, spec, threshold)
    except DataValidationError as exc:
        show_error(exc)
        return None
