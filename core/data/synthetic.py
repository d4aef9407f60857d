"""Data sets: the seeded synthetic credit data, loading a user's file, and data versions.

The synthetic generating process (documented in the README too):
- credit_score ~ Normal(690, 70) clipped to 300-850; credit_history_years grows with it.
- annual_income ~ LogNormal(log 62,000, 0.5); 3% missing (not reported).
- loan_amount ~ LogNormal(log 14,000, 0.6) clipped to 1,000-50,000; term 36 or 60 months.
- debt_to_income, revolving_utilization, employment_length (4% missing), delinquencies_2y,
  home_ownership and loan_purpose (categoricals).
- default ~ Bernoulli(sigmoid(logit)), logit linear in standardised risk drivers plus an
  interaction, with the intercept solved so the default rate is near 15%.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

from core.data.tables import check_unique_columns, read_table
from core.errors import DataValidationError

DEMO_TARGET = "default"
DEMO_ID_COLUMN = "applicant_id"
DEMO_CATEGORICAL = ("home_ownership", "loan_purpose")
DEMO_MONOTONE = {"credit_score": -1, "debt_to_income": 1, "delinquencies_2y": 1}
HOME_OWNERSHIP = ("MORTGAGE", "OWN", "RENT", "OTHER")
LOAN_PURPOSE = (
    "debt_consolidation",
    "credit_card",
    "home_improvement",
    "major_purchase",
    "car",
    "medical",
    "small_business",
    "other",
)
_PURPOSE_RISK = {
    "debt_consolidation": 0.15,
    "credit_card": 0.05,
    "home_improvement": -0.15,
    "major_purchase": -0.05,
    "car": -0.2,
    "medical": 0.25,
    "small_business": 0.6,
    "other": 0.1,
}
_HOME_RISK = {"MORTGAGE": -0.2, "OWN": -0.1, "RENT": 0.2, "OTHER": 0.3}
_TARGET_DEFAULT_RATE = 0.15


@dataclass(frozen=True)
class Dataset:
    """A validated modelling data set: features, binary target, and its content version."""

    features: pd.DataFrame
    target: pd.Series
    categorical_columns: tuple[str, ...]
    data_version: str
    ids: pd.Series | None = None
    monotone_constraints: dict[str, int] = field(default_factory=dict)
    source: str = "synthetic"

    @property
    def default_rate(self) -> float:
        """Share of rows with target 1."""
        return float(self.target.mean())


def _solve_intercept(linear: np.ndarray, rate: float) -> float:
    """Find the intercept that makes the mean of sigmoid(intercept + linear) equal rate."""
    low, high = -20.0, 20.0
    for _ in range(60):
        mid = (low + high) / 2
        if expit(mid + linear).mean() > rate:
            high = mid
        else:
            low = mid
    return (low + high) / 2


@functools.lru_cache(maxsize=32)
def _reference_intercept(n_rows: int, seed: int) -> float:
    """The intercept of the undrifted population, so drift changes the default rate too."""
    frame = make_synthetic_credit_data(n_rows=n_rows, seed=seed, drift=0.0)
    return float(frame.attrs["intercept"])


def make_synthetic_credit_data(
    n_rows: int = 12_000, seed: int = 42, drift: float = 0.0
) -> pd.DataFrame:
    """Generate a deterministic consumer-credit frame with an id column and a `default` target.

    `drift` in [0, 1] shifts the applicant population (lower scores, higher utilisation, more
    small-business loans) to simulate recent production data for monitoring.
    """
    if n_rows < 10:
        raise DataValidationError(f"n_rows={n_rows} is too small.", fix="Ask for at least 10 rows.")
    rng = np.random.default_rng(seed)
    credit_score = np.clip(rng.normal(690 - 40 * drift, 70, n_rows), 300, 850).round()
    history = np.clip(rng.gamma(4.0, 2.5, n_rows) + (credit_score - 690) / 40, 0.5, 50).round(1)
    income = np.exp(rng.normal(np.log(62_000), 0.5, n_rows)).round(-2)
    loan = np.clip(np.exp(rng.normal(np.log(14_000), 0.6, n_rows)), 1_000, 50_000).round(-2)
    term = np.where(rng.random(n_rows) < 0.7, 36, 60)
    dti = np.clip(rng.beta(2.2, 6.0, n_rows) + loan / income * 0.15, 0, 0.95).round(4)
    utilisation = np.clip(rng.beta(2.0 + 1.5 * drift, 3.0, n_rows) * 1.1, 0, 1.3).round(4)
    employment = rng.integers(0, 11, n_rows).astype(float)
    delinquencies = rng.poisson(0.25 + 0.25 * drift + (credit_score < 620) * 0.5, n_rows)
    home = rng.choice(HOME_OWNERSHIP, n_rows, p=(0.42, 0.12, 0.42, 0.04))
    purpose_p = np.array((0.34, 0.2, 0.1, 0.07, 0.1, 0.05, 0.06, 0.08))
    purpose_p[6] += 0.1 * drift
    purpose = rng.choice(LOAN_PURPOSE, n_rows, p=purpose_p / purpose_p.sum())

    linear = (
        -0.9 * (credit_score - 690) / 70
        + 0.66 * (dti - 0.3) / 0.12
        + 0.6 * (utilisation - 0.45) / 0.25
        + 0.45 * np.minimum(delinquencies, 4)
        - 0.3 * (np.log(income) - np.log(62_000)) / 0.5
        + 0.25 * (term == 60)
        - 0.05 * employment
        - 0.02 * history
        + np.vectorize(_PURPOSE_RISK.get)(purpose)
        + np.vectorize(_HOME_RISK.get)(home)
        + 0.3 * ((credit_score < 640) & (utilisation > 0.7))
    )
    if drift > 0:
        intercept = _reference_intercept(n_rows, seed)
        # Unobserved risk grows with drift, so the model's ranking degrades too.
        linear = linear + drift * rng.normal(0.0, 1.2, n_rows)
    else:
        intercept = _solve_intercept(linear, _TARGET_DEFAULT_RATE)
    default = (rng.random(n_rows) < expit(intercept + linear)).astype(int)

    income = np.where(rng.random(n_rows) < 0.03, np.nan, income)
    employment = np.where(rng.random(n_rows) < 0.04, np.nan, employment)
    utilisation = np.where(rng.random(n_rows) < 0.01, np.nan, utilisation)
    frame = pd.DataFrame(
        {
            DEMO_ID_COLUMN: [f"A{seed:03d}-{i:06d}" for i in range(n_rows)],
            "credit_score": credit_score,
            "annual_income": income,
            "loan_amount": loan,
            "term_months": term,
            "debt_to_income": dti,
            "revolving_utilization": utilisation,
            "employment_length": employment,
            "delinquencies_2y": delinquencies,
            "credit_history_years": history,
            "home_ownership": pd.Categorical(home, categories=HOME_OWNERSHIP),
            "loan_purpose": pd.Categorical(purpose, categories=LOAN_PURPOSE),
            DEMO_TARGET: default,
        }
    )
    frame.attrs["intercept"] = intercept
    return frame


def make_recent_applications(
    n_rows: int = 6_000, seed: int = 2026, months: int = 6, max_drift: float = 1.0
) -> pd.DataFrame:
    """Simulated recent applications: monthly batches whose drift grows to max_drift.

    Adds an `application_date` column; labels are kept so performance can be checked.
    """
    per_month = max(n_rows // months, 10)
    start = pd.Timestamp("2026-01-01")
    batches = []
    for month in range(months):
        drift = max_drift * month / max(months - 1, 1)
        batch = make_synthetic_credit_data(per_month, seed=seed + month, drift=drift)
        offsets = np.random.default_rng(seed + month).integers(0, 28, per_month)
        batch.insert(
            1,
            "application_date",
            (start + pd.DateOffset(months=month) + pd.to_timedelta(offsets, unit="D")).normalize(),
        )
        batch[DEMO_ID_COLUMN] = [f"R{month:02d}-{i:06d}" for i in range(per_month)]
        batches.append(batch)
    return pd.concat(batches, ignore_index=True)


def data_version(frame: pd.DataFrame) -> str:
    """Content hash of a frame (values, column names and dtypes), as 'sha256:<16 hex>'."""
    digest = hashlib.sha256()
    digest.update("|".join(f"{c}:{frame[c].dtype}" for c in frame.columns).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return f"sha256:{digest.hexdigest()[:16]}"


def demo_dataset(n_rows: int = 12_000, seed: int = 42) -> Dataset:
    """The built-in synthetic data set, ready for training."""
    frame = make_synthetic_credit_data(n_rows=n_rows, seed=seed)
    return dataset_from_frame(
        frame,
        target=DEMO_TARGET,
        id_column=DEMO_ID_COLUMN,
        monotone_constraints=DEMO_MONOTONE,
        source=f"synthetic(n_rows={n_rows}, seed={seed})",
    )


def coerce_binary_target(values: pd.Series, target: str) -> pd.Series:
    """Return the target as 0/1 integers, or raise naming the offending values."""
    if values.isna().any():
        raise DataValidationError(
            f"Target '{target}' has {int(values.isna().sum())} missing values "
            f"({_rows(values.isna())}).",
            fix="Drop or label those rows; the target must be 0/1 for every row. Rows are "
            "counted from the first row after the header.",
        )
    if pd.api.types.is_bool_dtype(values):
        return values.astype(int)
    distinct = set(pd.unique(values).tolist())
    if not distinct <= {0, 1}:
        shown = ", ".join(repr(v) for v in sorted(distinct, key=str)[:6])
        raise DataValidationError(
            f"Target '{target}' is not binary: found values {shown} "
            f"({_rows(~values.isin([0, 1]))} not 0 or 1).",
            fix="Encode the target as 0 (good) and 1 (bad/default). Rows are counted from the "
            "first row after the header.",
        )
    return values.astype(int)


def _rows(flags: pd.Series, shown: int = 5) -> str:
    """Which rows a mask flags, counted from 1: 'row 2', 'rows 2, 7 and 3 more' (by the
    file's row index, which a subset keeps; by position when the index is not row numbers)."""
    positions = flags.to_numpy().nonzero()[0]
    index = flags.index
    rows = index[positions] if pd.api.types.is_integer_dtype(index) else positions
    numbers = [str(int(i) + 1) for i in rows]
    listed = ", ".join(numbers[:shown])
    more = f" and {len(numbers) - shown} more" if len(numbers) > shown else ""
    return f"row{'s' if len(numbers) > 1 else ''} {listed}{more}"


def dataset_from_frame(
    frame: pd.DataFrame,
    target: str,
    categorical: Sequence[str] | None = None,
    id_column: str | None = None,
    monotone_constraints: dict[str, int] | None = None,
    source: str = "frame",
) -> Dataset:
    """Validate a frame and turn it into a Dataset (string columns become Categoricals)."""
    check_unique_columns(list(frame.columns), source)
    if frame.empty:
        raise DataValidationError(f"{source} has no rows.", fix="Give a file with data rows.")
    if target not in frame.columns:
        raise DataValidationError(
            f"Target column '{target}' is not in {source}.",
            fix=f"Pick one of: {', '.join(map(str, frame.columns[:20]))}.",
        )
    if id_column is not None and id_column not in frame.columns:
        raise DataValidationError(f"Id column '{id_column}' is not in {source}.")
    y = coerce_binary_target(frame[target], target)
    if y.nunique() < 2:
        raise DataValidationError(
            f"Target '{target}' has one class only ({int(y.iloc[0])}).",
            fix="Training needs both goods (0) and bads (1).",
        )
    excluded = {target} | ({id_column} if id_column else set())
    features = frame[[c for c in frame.columns if c not in excluded]].copy()
    if features.shape[1] == 0:
        raise DataValidationError(f"{source} has no feature columns besides the target.")
    all_missing = [c for c in features.columns if features[c].isna().all()]
    if all_missing:
        raise DataValidationError(
            f"Columns with no values at all: {', '.join(all_missing)}.",
            fix="Drop them or fill them; an all-missing column cannot be learnt from.",
        )
    categorical = list(categorical or [])
    unknown = [c for c in categorical if c not in features.columns]
    if unknown:
        raise DataValidationError(f"Categorical columns not in the data: {', '.join(unknown)}.")
    for column in features.columns:
        series = features[column]
        is_text = pd.api.types.is_string_dtype(series) or series.dtype == object
        if column in categorical or is_text or isinstance(series.dtype, pd.CategoricalDtype):
            if not isinstance(series.dtype, pd.CategoricalDtype):
                features[column] = pd.Categorical(series.astype("string"))
            if column not in categorical:
                categorical.append(column)
        elif not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            raise DataValidationError(
                f"Column '{column}' has type {series.dtype}, which LightGBM cannot use.",
                fix="Convert it to numbers or mark it categorical.",
            )
    monotone = dict(monotone_constraints or {})
    bad = {k: v for k, v in monotone.items() if k not in features.columns or v not in (-1, 0, 1)}
    if bad:
        raise DataValidationError(
            f"Invalid monotone constraints: {bad}.",
            fix="Name existing numeric features with -1 (decreasing) or 1 (increasing).",
        )
    on_categorical = [k for k in monotone if k in categorical]
    if on_categorical:
        raise DataValidationError(
            f"Monotone constraints on categorical columns: {', '.join(on_categorical)}.",
            fix="Constrain numeric features only.",
        )
    ordered_categorical = tuple(c for c in features.columns if c in categorical)
    return Dataset(
        features=features,
        target=y,
        categorical_columns=ordered_categorical,
        data_version=data_version(frame),
        ids=frame[id_column].astype("string") if id_column else None,
        monotone_constraints=monotone,
        source=source,
    )


def load_dataset(
    path: str | Path,
    target: str,
    categorical: Sequence[str] | None = None,
    id_column: str | None = None,
    monotone_constraints: dict[str, int] | None = None,
) -> Dataset:
    """Load and validate a user's CSV or Parquet file as a Dataset."""
    frame = read_table(path, allow_empty=True)
    return dataset_from_frame(
        frame,
        target=target,
        categorical=categorical,
        id_column=id_column,
        monotone_constraints=monotone_constraints,
        source=Path(path).name,
    )


def parse_monotone_spec(spec: str | None) -> dict[str, int]:
    """Parse 'credit_score:-1,debt_to_income:1' into a dict of directions."""
    result: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in (spec or "").split(","))):
        name, _, direction = item.partition(":")
        try:
            value = int(direction)
        except ValueError:
            raise DataValidationError(
                f"Monotone constraint '{item}' is not NAME:DIRECTION.",
                fix="Write it as credit_score:-1,debt_to_income:1.",
            ) from None
        result[name.strip()] = value
    return result
