"""Score applicants with a loaded LightGBM model: probability, decision, SHAP and reason codes.

Shared by what-if scoring, the promotion smoke test and a scoring API. Contributions are
LightGBM's exact TreeSHAP (`pred_contrib=True`), in log-odds, identical to shap.TreeExplainer.
LightGBM scores reordered columns silently wrong and treats unseen categories silently as
missing; `prepare_features` reindexes, casts and reports instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import lightgbm as lgb
import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.grouped_shap import GROUPING_MIN_ROWS, grouped_contributions
from core.model_spec import model_spec
from core.reason_codes import DEFAULT_REASON_COUNT, ReasonCodeBook, reason_table

APPROVE = "approve"
DECLINE = "decline"
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


@dataclass(frozen=True)
class ScoringResult:
    """Per applicant: probability of default, log-odds, decision, SHAP and reason codes."""

    scores: pd.DataFrame
    contributions: pd.DataFrame
    base_value: float
    threshold: float
    prepared: PreparedFeatures
    reasons: pd.DataFrame = field(default_factory=pd.DataFrame)

    def top_risk_drivers(self, n: int = 3) -> list[list[str]]:
        """For each applicant, the n features that pushed the default risk up the most."""
        values = self.contributions.to_numpy()
        names = np.asarray(self.contributions.columns)
        order = np.argsort(-values, axis=1)[:, :n]
        return [[str(names[j]) for j in row if values[i, j] > 0] for i, row in enumerate(order)]


def model_categories(model: lgb.LGBMClassifier) -> dict[str, list[object]]:
    """The categories the model was trained with, by categorical feature name."""
    return model_spec(model).categorical


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


def decide(probability: np.ndarray, threshold: float) -> np.ndarray:
    """Approve below the threshold, decline at or above it."""
    return np.where(np.asarray(probability) >= threshold, DECLINE, APPROVE)


def check_threshold(threshold: float) -> float:
    """The threshold as a float strictly inside (0, 1), or DataValidationError."""
    value = float(threshold)
    if not 0.0 < value < 1.0:
        raise DataValidationError(
            f"Threshold {threshold} is outside (0, 1).",
            fix="Pick a probability of default strictly between 0 and 1.",
        )
    return value


def sigmoid(raw: np.ndarray) -> np.ndarray:
    """Log-odds to probability."""
    return 1.0 / (1.0 + np.exp(-np.asarray(raw, dtype="float64")))


def contributions_matrix(booster: lgb.Booster, matrix: np.ndarray) -> np.ndarray:
    """Exact TreeSHAP in log-odds, one row per applicant, the base value in the last column.

    LightGBM's multi-threaded SHAP costs ~6 ms of thread start-up on a single row and is no
    faster on large batches here, so small frames run on one thread; large ones are computed
    once per distinct path pattern of each tree (core.grouped_shap), same values.
    """
    if len(matrix) >= GROUPING_MIN_ROWS:
        return grouped_contributions(booster, matrix)
    return np.asarray(booster.predict(matrix, pred_contrib=True, num_threads=1))


def score_applicants(
    model: lgb.LGBMClassifier,
    applicants: pd.DataFrame,
    threshold: float,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    *,
    on_unseen: UnseenPolicy = "report",
    reason_book: ReasonCodeBook | None = None,
    n_reasons: int = DEFAULT_REASON_COUNT,
) -> ScoringResult:
    """Score applicants: probability of default, log-odds, decision, exact SHAP, reason codes."""
    threshold = check_threshold(threshold)
    if applicants.empty:
        raise DataValidationError("There are no applicants to score.", fix="Give at least one row.")
    prepared = prepare_features(model, applicants, ranges, on_unseen)
    contrib = contributions_matrix(model.booster_, feature_matrix(prepared.frame))
    raw = contrib.sum(axis=1)
    probability = sigmoid(raw)
    decisions = decide(probability, threshold)
    scores = pd.DataFrame(
        {
            "probability": probability,
            "raw_score": raw,
            "decision": decisions,
            "distance_to_threshold": probability - threshold,
        },
        index=applicants.index,
    )
    contributions = pd.DataFrame(
        contrib[:, :-1], columns=list(prepared.frame.columns), index=applicants.index
    )
    reasons = reason_table(
        contributions,
        prepared.frame,
        decisions == DECLINE,
        reason_book or ReasonCodeBook(),
        n_reasons,
    )
    return ScoringResult(scores, contributions, float(contrib[0, -1]), threshold, prepared, reasons)


def _same(left: object, right: object) -> bool:
    """Equality that treats two missing values as equal."""
    if pd.isna(left) and pd.isna(right):
        return True
    return bool(left == right)


def compare_applicants(
    original: ScoringResult, edited: ScoringResult, tolerance: float = 1e-9
) -> pd.DataFrame:
    """Features whose value or contribution moved between two one-row results, largest first."""
    before = original.prepared.frame.iloc[0]
    after = edited.prepared.frame.iloc[0]
    old = original.contributions.iloc[0]
    new = edited.contributions.iloc[0]
    rows = []
    for name in original.contributions.columns:
        changed_value = not _same(before[name], after[name])
        delta = float(new[name] - old[name])
        if changed_value or abs(delta) > tolerance:
            rows.append(
                {
                    "feature": name,
                    "original_value": before[name],
                    "edited_value": after[name],
                    "value_changed": changed_value,
                    "original": float(old[name]),
                    "edited": float(new[name]),
                    "delta": delta,
                }
            )
    table = pd.DataFrame(
        rows,
        columns=[
            "feature",
            "original_value",
            "edited_value",
            "value_changed",
            "original",
            "edited",
            "delta",
        ],
    )
    return table.sort_values("delta", key=np.abs, ascending=False, kind="stable").reset_index(
        drop=True
    )
