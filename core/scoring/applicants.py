"""Pick applicants to score: a validation row, an id, random, borderline, or a template."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.run_schema import ID_COLUMN, SCORE_COLUMN
from core.scoring.model_spec import ModelSpec
from core.scoring.prepare import with_model_column_names

DEFAULT_BORDERLINE_COUNT = 10
DEFAULT_SEARCH_LIMIT = 20


def _one_row(frame: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """The model's features of a one-row frame, with a fresh 0 index."""
    return with_model_column_names(frame, spec.names).loc[:, spec.names].reset_index(drop=True)


def applicant_by_row(validation: pd.DataFrame, spec: ModelSpec, row: int) -> pd.DataFrame:
    """The applicant at position `row` of the validation set (0-based)."""
    if not 0 <= row < len(validation):
        raise DataValidationError(
            f"Row {row} does not exist; the validation set has rows 0 to {len(validation) - 1}.",
            fix="Pick a row inside that range.",
        )
    return _one_row(validation.iloc[[row]], spec)


def search_ids(
    validation: pd.DataFrame, query: str, limit: int = DEFAULT_SEARCH_LIMIT
) -> list[str]:
    """Applicant ids containing `query` (case-insensitive), at most `limit` of them."""
    if ID_COLUMN not in validation.columns:
        return []
    ids = validation[ID_COLUMN].astype("string")
    needle = query.strip()
    if not needle:
        return ids.head(limit).tolist()
    hits = ids[ids.str.contains(needle, case=False, regex=False, na=False)]
    return hits.head(limit).tolist()


def applicant_by_id(validation: pd.DataFrame, spec: ModelSpec, applicant_id: str) -> pd.DataFrame:
    """The applicant whose id equals `applicant_id`."""
    if ID_COLUMN not in validation.columns:
        raise DataValidationError(
            f"This validation set has no '{ID_COLUMN}' column to search.",
            fix="Pick the applicant by row instead.",
        )
    hits = validation[validation[ID_COLUMN].astype("string") == applicant_id.strip()]
    if hits.empty:
        raise DataValidationError(
            f"No applicant with id '{applicant_id}'.", fix="Search part of the id and pick a hit."
        )
    return _one_row(hits.iloc[[0]], spec)


def random_row(validation: pd.DataFrame, seed: int) -> int:
    """A reproducible random row position for a seed."""
    if validation.empty:
        raise DataValidationError("The validation set is empty.")
    return int(np.random.default_rng(seed).integers(len(validation)))


def borderline_rows(
    validation: pd.DataFrame, threshold: float, n: int = DEFAULT_BORDERLINE_COUNT
) -> pd.DataFrame:
    """The n applicants whose logged score is closest to the threshold, with their distance."""
    if SCORE_COLUMN not in validation.columns:
        raise DataValidationError(f"The validation set has no '{SCORE_COLUMN}' column.")
    distance = (validation[SCORE_COLUMN] - threshold).abs()
    order = distance.sort_values(kind="stable").index[:n]
    picked = pd.DataFrame(
        {
            "row": [int(validation.index.get_loc(i)) for i in order],
            "applicant_id": validation.loc[order, ID_COLUMN].astype("string").to_numpy()
            if ID_COLUMN in validation.columns
            else [str(i) for i in order],
            "score": validation.loc[order, SCORE_COLUMN].to_numpy(),
        }
    )
    picked["distance"] = picked["score"] - threshold
    return picked


def typical_applicant(spec: ModelSpec, validation: pd.DataFrame | None = None) -> pd.DataFrame:
    """A template applicant: medians and the most frequent categories the model saw in training
    (training-range midpoints and first categories when no validation set exists)."""
    values: dict[str, object] = {}
    if validation is not None:
        validation = with_model_column_names(validation, spec.names)
    for feature in spec.features:
        column = (
            validation[feature.name]
            if validation is not None and feature.name in validation.columns
            else None
        )
        if feature.is_categorical:
            # Only the model's own levels: an unseen one, however frequent, scores as missing.
            seen = {str(c) for c in feature.categories}
            text = pd.Series([], dtype=object)
            if column is not None:
                text = column.dropna().map(lambda v: str(v).strip())
            modes = text[text.isin(seen)].mode()
            values[feature.name] = (
                str(modes.iloc[0])
                if len(modes)
                else (str(feature.categories[0]) if feature.categories else None)
            )
        elif column is not None and column.notna().any():
            values[feature.name] = float(column.median())
        elif feature.has_range:
            # Ten significant digits, as the What-if form writes numbers: an untouched field then
            # reads back as the same value (0.43515, not 0.43515000000000004, "changed").
            middle = (float(feature.low) + float(feature.high)) / 2  # type: ignore[arg-type]
            values[feature.name] = float(f"{middle:.10g}")
        else:
            values[feature.name] = np.nan
    return pd.DataFrame([values], columns=spec.names)


def value_steps(spec: ModelSpec, validation: pd.DataFrame | None = None) -> dict[str, float]:
    """The coarsest power-of-ten granularity of each numeric feature (0.0 when unknown)."""
    steps: dict[str, float] = {}
    if validation is not None:
        validation = with_model_column_names(validation, spec.names)
    for feature in spec.features:
        if feature.is_categorical:
            continue
        column = None
        if validation is not None and feature.name in validation.columns:
            column = pd.to_numeric(validation[feature.name], errors="coerce").dropna()
        if column is None or column.empty:
            steps[feature.name] = 0.0
            continue
        for decimals in range(-3, 5):
            if np.allclose(column, column.round(decimals), rtol=0, atol=1e-9):
                steps[feature.name] = 10.0**-decimals
                break
        else:
            steps[feature.name] = 0.0
    return steps
