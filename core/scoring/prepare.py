"""Prepare applicants for a LightGBM model: the first step of the one scoring path.

LightGBM scores reordered columns silently wrong and treats unseen categories silently as
missing; `prepare_features` reindexes to the model's features, casts categories to the model's
own, and reports unseen categories, values outside the training range and missing values. A
value that cannot be scored is refused naming its row (and the row's id when the frame has an
id column) and column; `model_feature_name` is the one mapping from a column or field name to
the model's feature (LightGBM writes the training data's spaces as underscores).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.scoring.model_spec import model_spec

if TYPE_CHECKING:  # annotations only: the model passed in has imported LightGBM already
    import lightgbm as lgb

    from core.scoring.loaded_model import LoadedModel

UnseenPolicy = Literal["report", "raise"]
# Columns (or request fields) that identify an applicant, in order of preference; "row_id" is
# the id column of governed validation sets (core.training.trainer.ID_COLUMN).
ROW_ID_COLUMNS = ("id", "applicant_id", "row_id")
SHOWN_ROWS = 5
_ROWS_FIX = "Rows are counted from the first row after the header. "
_NUMBER_FIX = (
    "Enter digits with a dot for decimals (no thousands separators); "
    "leave it empty for a missing value."
)


@dataclass(frozen=True)
class RowSample:
    """The rows something applies to: how many, and labels of the first few
    ('row 7 (applicant_id A-0007)', rows counted from 1)."""

    count: int
    first: tuple[str, ...]

    def describe(self, shown: int = SHOWN_ROWS) -> str:
        """'3 rows: row 2, row 7 (id A-7), row 9' or '14 rows: row 1, row 4 and 12 more'."""
        first = self.first[:shown]
        more = self.count - len(first)
        listed = ", ".join(first) + (f" and {more:,} more" if more > 0 else "")
        return f"{self.count:,} row{'s' if self.count != 1 else ''}: {listed}"


class UnseenCategoryError(DataValidationError):
    """Applicants carry categories the model never saw (LightGBM would treat them as missing)."""

    def __init__(
        self, unseen: Mapping[str, list[str]], rows: Mapping[str, RowSample] | None = None
    ) -> None:
        self.unseen = dict(unseen)
        self.rows = dict(rows or {})
        listed = "; ".join(
            f"{name}: {_first_values(values)}"
            + (f" ({self.rows[name].describe(shown=3)})" if name in self.rows else "")
            for name, values in self.unseen.items()
        )
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
    # Per feature with unseen categories: the rows that carry one.
    unseen_rows: dict[str, RowSample] = field(default_factory=dict)


def _first_values(values: Sequence[str], shown: int = SHOWN_ROWS) -> str:
    """'a, b, c' or 'a, b, c, d, e and 4 more'."""
    more = len(values) - shown
    return ", ".join(values[:shown]) + (f" and {more} more" if more > 0 else "")


def model_categories(model: LoadedModel) -> dict[str, list[object]]:
    """The categories the model was trained with, by categorical feature name."""
    return model_spec(model.classifier).categorical


def model_feature_name(name: object, features: Collection[str]) -> str | None:
    """The model feature a column or request field names, or None: the name itself, or the
    training data's spelling of a name LightGBM wrote with underscores ('home status' for
    'home_status'; LightGBM turns spaces into underscores when it trains)."""
    if name in features:
        return str(name)
    if isinstance(name, str) and " " in name:
        candidate = name.replace(" ", "_")
        if candidate in features:
            return candidate
    return None


def spaced_names(features: Iterable[str]) -> dict[str, str]:
    """The training-data spelling accepted for each feature LightGBM wrote with underscores."""
    names = set(features)
    return {
        name.replace("_", " "): name
        for name in sorted(names)
        if "_" in name and name.replace("_", " ") not in names
    }


def named_twice(names: Iterable[object], features: Collection[str]) -> dict[str, list[str]]:
    """Features that more than one of the names spell ('home status' and 'home_status')."""
    spellings: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        feature = model_feature_name(name, features)
        if feature is not None:
            spellings.setdefault(feature, []).append(str(name))
    return {feature: given for feature, given in spellings.items() if len(given) > 1}


def named_twice_message(feature: str, names: Sequence[str]) -> str:
    """The one sentence for two spellings of one feature."""
    quoted = " and ".join(f"'{n}'" for n in names)
    return f"{quoted} both name the model feature {feature}."


NAMED_TWICE_FIX = (
    "Keep one of them: the model's name (with underscores) or the training data's (with spaces)."
)


def with_model_column_names(frame: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """The frame with its columns renamed to the model's feature names where LightGBM renamed
    them in training (it turns spaces into underscores: 'home status' is 'home_status').

    Two columns spelling the same feature are refused (DataValidationError naming both).
    """
    known = set(features)
    twice = named_twice(frame.columns, known)
    if twice:
        raise DataValidationError(
            " ".join(named_twice_message(f, names) for f, names in twice.items()),
            fix=NAMED_TWICE_FIX,
        )
    renames: dict[str, str] = {}
    for column in frame.columns:
        name = model_feature_name(column, known)
        if name is not None and name != column:
            renames[column] = name
    return frame.rename(columns=renames) if renames else frame


def _row_ids(applicants: pd.DataFrame, features: Collection[str]) -> tuple[str, pd.Series] | None:
    """The applicants' id column (the first of ROW_ID_COLUMNS that is not a feature), or None."""
    for column in ROW_ID_COLUMNS:
        if column in applicants.columns and column not in features:
            ids = applicants[column]
            if isinstance(ids, pd.Series):
                return column, ids
    return None


def _row_label(position: int, ids: tuple[str, pd.Series] | None) -> str:
    """'row 7' (counted from 1) with '(applicant_id A-0007)' when the row has an id."""
    label = f"row {position + 1:,}"
    if ids is not None:
        value = ids[1].iloc[position]
        if not pd.isna(value) and str(value).strip():
            label += f" ({ids[0]} {str(value).strip()})"
    return label


def _row_sample(mask: np.ndarray, ids: tuple[str, pd.Series] | None) -> RowSample:
    """The rows of a boolean mask, with labels of the first few."""
    positions = np.flatnonzero(mask)
    return RowSample(len(positions), tuple(_row_label(int(p), ids) for p in positions[:SHOWN_ROWS]))


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


def _cast_categorical(
    values: pd.Series, categories: list[object]
) -> tuple[pd.Series, list[str], np.ndarray | None]:
    """Cast to the model's own categories (matched as text); return the unseen values too,
    and a mask of the rows that carry one (None when there is none)."""
    if isinstance(values.dtype, pd.CategoricalDtype) and list(values.cat.categories) == categories:
        return values, [], None
    position = {str(c): i for i, c in enumerate(categories)}
    codes_of_unique, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.full(len(uniques) + 1, -1, dtype="int64")  # last slot: the missing sentinel
    unseen: list[str] = []
    unseen_index: list[int] = []
    for i, value in enumerate(np.asarray(uniques, dtype=object)):
        text = str(value).strip()
        if text in position:
            mapped[i] = position[text]
        elif text:
            unseen.append(text)
            unseen_index.append(i)
    codes = mapped[np.where(codes_of_unique < 0, len(uniques), codes_of_unique)]
    cast = pd.Categorical.from_codes(codes, categories=categories)
    rows = np.isin(codes_of_unique, unseen_index) if unseen_index else None
    return pd.Series(cast, index=values.index, name=values.name), sorted(set(unseen)), rows


class _Unscorable:
    """Numeric values that cannot be scored, by column: how many, and the first few cells."""

    def __init__(self) -> None:
        self.positions: list[np.ndarray] = []
        # position, column order, column, the value as shown, what it must be
        self.cells: list[tuple[int, int, str, str, str]] = []

    def add(
        self, column: str, order: int, positions: np.ndarray, shown: list[str], kind: str
    ) -> None:
        """Record the rows of one column whose values are not a `kind` ('number'), with the
        first few values as shown."""
        self.positions.append(positions)
        self.cells.extend(
            (int(p), order, column, value, kind)
            for p, value in zip(positions[:SHOWN_ROWS], shown, strict=False)
        )

    def check(self, ids: tuple[str, pd.Series] | None, n_rows: int) -> None:
        """Raise DataValidationError naming the first few bad cells by row and column."""
        if not self.positions:
            return
        cells = sorted(self.cells)
        if n_rows == 1:  # one applicant (What-if's editor): the row goes without saying
            listed = "; ".join(
                f"'{col}' must be a {kind}; got {value}" for *_, col, value, kind in cells
            )
            raise DataValidationError(f"{listed}.", fix=_NUMBER_FIX)
        total = sum(len(p) for p in self.positions)
        rows = len(np.unique(np.concatenate(self.positions)))
        shown = [
            f"{_row_label(p, ids)}, column {column}: {value} is not a {kind}"
            for p, _, column, value, kind in cells[:SHOWN_ROWS]
        ]
        more = f"; and {total - len(shown):,} more" if total > len(shown) else ""
        raise DataValidationError(
            f"{total:,} value{'s' if total != 1 else ''} in {rows:,} row{'s' if rows != 1 else ''} "
            f"cannot be scored: {'; '.join(shown)}{more}.",
            fix=_ROWS_FIX + _NUMBER_FIX,
        )


def _to_float(values: pd.Series, name: str, order: int, unscorable: _Unscorable) -> np.ndarray:
    """Numeric values as float64 (empty text is missing); text that is not a number and
    infinite values are recorded in `unscorable`."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        converted = values.to_numpy(dtype="float64", na_value=np.nan)
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        parsed = np.full(len(uniques) + 1, np.nan)
        bad: dict[int, str] = {}
        for i, value in enumerate(np.asarray(uniques, dtype=object)):
            text = str(value).strip()
            if not text:
                continue
            try:
                parsed[i] = float(text)
            except ValueError:
                bad[i] = text
        if bad:
            positions = np.flatnonzero(np.isin(codes, list(bad)))
            shown = [repr(bad[int(codes[p])]) for p in positions[:SHOWN_ROWS]]
            unscorable.add(name, order, positions, shown, "number")
        converted = parsed[np.where(codes < 0, len(uniques), codes)]
    infinite = np.flatnonzero(np.isinf(converted))
    if len(infinite):
        shown = [f"{converted[p]:g}" for p in infinite[:SHOWN_ROWS]]
        unscorable.add(name, order, infinite, shown, "finite number")
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
    # messages name a column as the caller spelled it ('credit score', not credit_score)
    spelled = {model_feature_name(c, model.feature_name_): str(c) for c in applicants.columns}
    applicants = with_model_column_names(applicants, model.feature_name_)
    features = _check_columns(model, applicants)
    spec = model_spec(model)
    categories = spec.categorical
    columns: dict[str, pd.Series | np.ndarray] = {}
    unseen: dict[str, list[str]] = {}
    unseen_masks: dict[str, np.ndarray] = {}
    unscorable = _Unscorable()
    for order, name in enumerate(features):
        if name in categories:
            columns[name], bad, rows = _cast_categorical(applicants[name], categories[name])
            if bad and rows is not None:
                unseen[name], unseen_masks[name] = bad, rows
        else:
            columns[name] = _to_float(applicants[name], spelled.get(name, name), order, unscorable)
    ids = _row_ids(applicants, features) if unscorable.positions or unseen else None
    unscorable.check(ids, len(applicants))
    unseen_rows = {name: _row_sample(mask, ids) for name, mask in unseen_masks.items()}
    if unseen and on_unseen == "raise":
        raise UnseenCategoryError(unseen, unseen_rows)
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
    return PreparedFeatures(frame, unseen, out_of_range, missing_values, unseen_rows)
