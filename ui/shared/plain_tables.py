"""Tables for people: plain-words headers and one number format per kind of column."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
import streamlit as st

from core.plain_words import plain_header

DECIMALS = "%.4f"
PERCENT = "%.2f%%"
POINTS = "%+.2f pp"


def plain_table(
    frame: pd.DataFrame,
    *,
    percent: Iterable[str] = (),
    points: Iterable[str] = (),
    formats: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """The frame to show and its column config: plain headers; `percent` columns (fractions)
    as percentages and `points` (differences of fractions) as signed percentage points, both
    with two decimals; other decimals with four; whole numbers as they are."""
    percent = [c for c in percent if c in frame.columns]
    points = [c for c in points if c in frame.columns]
    scaled = [*percent, *points]
    shown = frame.assign(**{c: frame[c] * 100 for c in scaled}) if scaled else frame
    config: dict[str, object] = {}
    for column in list(shown.columns):
        label = (labels or {}).get(column, plain_header(column))
        values = shown[column]
        if values.dtype == object:  # numbers stored as objects (NaN-filled columns) stay numbers
            numbers = pd.to_numeric(values, errors="coerce")
            if values.notna().any() and numbers.notna().sum() == values.notna().sum():
                shown = shown.assign(**{column: numbers.astype("float64")})
                values = shown[column]
        if column in percent:
            config[column] = st.column_config.NumberColumn(label, format=PERCENT)
        elif column in points:
            config[column] = st.column_config.NumberColumn(label, format=POINTS)
        elif formats and column in formats:
            config[column] = st.column_config.NumberColumn(label, format=formats[column])
        elif pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
            config[column] = st.column_config.NumberColumn(label, format="localized")
        elif pd.api.types.is_float_dtype(values):
            config[column] = st.column_config.NumberColumn(label, format=DECIMALS)
        elif pd.api.types.is_bool_dtype(values):
            config[column] = st.column_config.CheckboxColumn(label)
        else:
            config[column] = st.column_config.TextColumn(label)
    return shown, config
