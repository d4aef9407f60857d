"""Prepare applicants for a LightGBM model: the first step of the one scoring path.

LightGBM scores reordered columns silently wrong and treats unseen categories silently as
missing; `prepare_features` reindexes to the model's features, casts categories to the model's
own, and reports unseen categories, values outside the training range and missing values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import lightgbm as lgb
import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.scoring.model_spec import model_spec

UnseenPolicy = Literal["report", "raise"]


class UnseenCategoryError(DataValidationError):
    """Applicants carry categories the model never saw (LightGBM would treat them as missing)."""

    def __init__(self, unseen: Mapping[str, list[str]]) -> None:
        self.unseen = dict(unseen)
        listed = "; ".join(f"{name}: {', '.join(values)}" for name, values in self.unseen.items())
        super().__init__(
            f"Categories the model never saw in training: {listed}.",
            fix="Correct them, or choose to score them as missing values.",
        )


@dataclass(frozen=True)
class PreparedFeatures:
    """Applicants aligned to the model: columns in model order, categories cast to the model's."""

    frame: pd.DataFrame
    unseen_categories: dict[str, list[str]] = field(default_factory=dict)
    out_of_range: dict[str, int] = field(default_factory=dict)
    missing_values: dict[str, int] = field(default_factory=dict)


def model_categories(model: lgb.LGBMClassifier) -> dict[str, list[object]]:
    """The categories the model was trained with, by categorical feature name."""
    return model_spec(model).categorical


def with_model_column_names(frame: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """The frame with its columns renamed to the model's feature names where LightGBM renamed
    them in training (it turns spaces into underscores: 'home status' is 'home_status')."""
    absent = {f for f in features if f not in frame.columns}
    renames: dict[str, str] = {}
    for column in frame.columns:
        if isinstance(column, str) and " " in column:
            name = column.replace(" ", "_")
            if name in absent and name not in renames.values():
                renames[column] = name
    return frame.rename(columns=renames) if renames else frame


def _check_columns(model: lgb.LGBMClassifier, applicants: pd.DataFrame) -> list[str]:
    """The model's features, after checking each appears exactly once in the applicants."""
    features = list(model.feature_name_)
    duplicated = sorted({str(c) for c in applicants.columns[applicants.columns.duplicated()]})
    if duplicated:
        raise DataValidationError(
            f"Columns appear more than once: {', '.join(duplicated)}.",
            fix="Keep one column per feature.",
        )
    missing = [f for f in features if f not in applicants.columns]
    if missing:
        raise DataValidationError(
            f"Missing model feature(s): {', '.join(missing)}.",
            fix="Add these columns (empty values are allowed, absent columns are not).",
        )
    return features


def _cast_categorical(values: pd.Series, categories: list[object]) -> tuple[pd.Series, list[str]]:
    """Cast to the model's own categories (matched as text); return the unseen values too."""
    if isinstance(values.dtype, pd.CategoricalDtype) and list(values.cat.categories) == categories:
        return values, []
    position = {str(c): i for i, c in enumerate(categories)}
    codes_of_unique, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.full(len(uniques) + 1, -1, dtype="int64")  # last slot: the missing sentinel
    unseen: list[str] = []
    for i, value in enumerate(np.asarray(uniques, dtype=object)):
        text = str(value).strip()
        if text in position:
            mapped[i] = position[text]
        elif text:
            unseen.append(text)
    codes = mapped[np.where(codes_of_unique < 0, len(uniques), codes_of_unique)]
    cast = pd.Categorical.from_codes(codes, categories=categories)
    return pd.Series(cast, index=values.index, name=values.name), sorted(set(unseen))


def _to_float(values: pd.Series, name: str) -> np.ndarray:
    """Numeric values as float64 (empty text is missing), or an error naming the bad values."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        converted = values.to_numpy(dtype="float64", na_value=np.nan)
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        parsed = np.full(len(uniques) + 1, np.nan)
        bad: list[str] = []
        for i, value in enumerate(np.asarray(uniques, dtype=object)):
            text = str(value).strip()
            if not text:
                continue
            try:
                parsed[i] = float(text)
            except ValueError:
                bad.append(text)
        if bad:
            shown = ", ".join(repr(v) for v in bad[:5])
            raise DataValidationError(
                f"'{name}' must be a number; got {shown}.",
                fix="Enter digits with a dot for decimals (no thousands separators); "
                "leave it empty for a missing value.",
            )
        converted = parsed[np.where(codes < 0, len(uniques), codes)]
    infinite = np.isinf(converted)
    if infinite.any():
        raise DataValidationError(
            f"'{name}' has {int(infinite.sum())} infinite value(s).",
            fix="Enter a finite number, or leave it empty for a missing value.",
        )
    return converted


def feature_matrix(frame: pd.DataFrame) -> np.ndarray:
    """A prepared frame as LightGBM sees it: float64, category codes, NaN for missing."""
    columns = []
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.CategoricalDtype):
            codes = series.cat.codes.to_numpy().astype("float64")
            codes[codes < 0] = np.nan
            columns.append(codes)
        else:
            columns.append(series.to_numpy(dtype="float64", na_value=np.nan))
    return np.column_stack(columns) if columns else np.empty((len(frame), 0))


def prepare_features(
    model: lgb.LGBMClassifier,
    applicants: pd.DataFrame,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    on_unseen: UnseenPolicy = "report",
) -> PreparedFeatures:
    """Reindex to the model's features and cast categoricals, reporting what LightGBM would hide.

    `ranges` defaults to the training range the model recorded for each numeric feature.
    An unseen category becomes a missing value and is reported (`on_unseen="report"`) or
    raises UnseenCategoryError (`on_unseen="raise"`): the caller decides whether to go on.
    """
    applicants = with_model_column_names(applicants, model.feature_name_)
    features = _check_columns(model, applicants)
    spec = model_spec(model)
    categories = spec.categorical
    columns: dict[str, pd.Series | np.ndarray] = {}
    unseen: dict[str, list[str]] = {}
    for name in features:
        if name in categories:
            columns[name], bad = _cast_categorical(applicants[name], categories[name])
            if bad:
                unseen[name] = bad
        else:
            columns[name] = _to_float(applicants[name], name)
    if unseen and on_unseen == "raise":
        raise UnseenCategoryError(unseen)
    frame = pd.DataFrame(columns, index=applicants.index)
    limits = spec.ranges if ranges is None else ranges
    out_of_range: dict[str, int] = {}
    for name, (low, high) in limits.items():
        if name in columns and name not in categories:
            values = np.asarray(columns[name])
            outside = int(np.count_nonzero((values < low) | (values > high)))
            if outside:
                out_of_range[name] = outside
    missing_values: dict[str, int] = {}
    for name, values in columns.items():
        count = (
            int(values.isna().sum())
            if isinstance(values, pd.Series)
            else int(np.isnan(values).sum())
        )
        if count:
            missing_values[name] = count
    return PreparedFeatures(frame, unseen, out_of_range, missing_values)
