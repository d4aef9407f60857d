"""The reference profile frozen at promotion: what the model's population looked like, as JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import DataValidationError, GovernanceError
from core.evaluation.metrics import auc_score, ks_statistic
from core.scoring.prepare import with_model_column_names

PROFILE_SCHEMA_VERSION = 1
N_QUANTILE_BINS = 10


class ProfileError(GovernanceError):
    """A reference profile is missing, unreadable, or of an unknown schema version."""


class _ColumnCounts(BaseModel):
    """What every column profile counts: rows per bin or category, missing rows, all rows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    counts: list[int]
    n_missing: int
    n_rows: int

    @property
    def missing_rate(self) -> float:
        """Share of reference rows with no value."""
        return self.n_missing / self.n_rows if self.n_rows else 0.0


class NumericProfile(_ColumnCounts):
    """One numeric column: inner decile edges, reference counts per bin, range and missing rate."""

    kind: Literal["numeric"] = "numeric"
    edges: list[float]
    minimum: float | None
    maximum: float | None
    training_minimum: float | None = None
    training_maximum: float | None = None

    @property
    def has_training_range(self) -> bool:
        """True when the range of the model's training rows was recorded."""
        return self.training_minimum is not None and self.training_maximum is not None

    @property
    def range_low(self) -> float | None:
        """The lowest value the model saw: the training minimum, else the reference minimum."""
        return self.training_minimum if self.has_training_range else self.minimum

    @property
    def range_high(self) -> float | None:
        """The highest value the model saw: the training maximum, else the reference maximum."""
        return self.training_maximum if self.has_training_range else self.maximum

    def range_text(self) -> str:
        """'the training range 19–75 (validation 21–74)', or the reference range when no other."""
        seen = f"{_short(self.minimum)}–{_short(self.maximum)}"
        if self.has_training_range:
            trained = f"{_short(self.training_minimum)}–{_short(self.training_maximum)}"
            return f"the training range {trained} (validation {seen})"
        return f"the validation range {seen} (no training range was logged)"

    def shares(self) -> np.ndarray:
        """Reference share per bin, the missing bin last (sums to 1)."""
        return np.asarray([*self.counts, self.n_missing], dtype=float) / max(self.n_rows, 1)


def _short(value: float | None) -> str:
    """A range end in at most 4 significant digits ('—' when unknown)."""
    return "—" if value is None else f"{value:.4g}"


class CategoricalProfile(_ColumnCounts):
    """One categorical column: reference count per category and missing rate."""

    kind: Literal["categorical"] = "categorical"
    categories: list[str]

    def shares(self) -> np.ndarray:
        """Reference share per category, then unseen (0 by definition), then missing."""
        return np.asarray([*self.counts, 0, self.n_missing], dtype=float) / max(self.n_rows, 1)


class ScoreBand(BaseModel):
    """A score band (a reference score decile) and the bad rate the model was validated at."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lower: float
    upper: float
    n: int
    expected_bad_rate: float | None


class ReferenceProfile(BaseModel):
    """Everything drift and accuracy are measured against, frozen when a run is promoted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = PROFILE_SCHEMA_VERSION
    run_id: str
    source: str
    threshold: float
    n_rows: int
    features: dict[str, NumericProfile | CategoricalProfile]
    score: NumericProfile
    expected_approval_rate: float
    expected_bad_rate: float | None = None
    expected_bad_rate_approved: float | None = None
    expected_auc: float | None = None
    expected_ks: float | None = None
    bands: list[ScoreBand] = Field(default_factory=list)
    score_scale: str = "risk_score"

    def to_json_bytes(self) -> bytes:
        """Stable pretty JSON bytes (what the export bundle stores and hashes)."""
        return (self.model_dump_json(indent=2) + "\n").encode("utf-8")

    @property
    def sha256(self) -> str:
        """The sha256 of the JSON bytes written to the export bundle."""
        return hashlib.sha256(self.to_json_bytes()).hexdigest()


def numeric_profile(
    values: object, training_range: tuple[float, float] | None = None
) -> NumericProfile:
    """Decile edges (unique inner quantiles), counts per bin, min, max and missing count;
    `training_range` is the (min, max) of the model's training rows when recorded."""
    low, high = training_range if training_range is not None else (None, None)
    numbers = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    present = numbers[~np.isnan(numbers)]
    n_missing = int(numbers.size - present.size)
    if present.size == 0:
        return NumericProfile(
            edges=[], counts=[0], minimum=None, maximum=None, n_missing=n_missing,
            n_rows=int(numbers.size), training_minimum=low, training_maximum=high,
        )  # fmt: skip
    inner = np.quantile(present, np.linspace(0, 1, N_QUANTILE_BINS + 1)[1:-1])
    edges = np.unique(inner)
    counts = np.bincount(np.searchsorted(edges, present, side="right"), minlength=edges.size + 1)
    return NumericProfile(
        edges=edges.tolist(),
        counts=counts.tolist(),
        minimum=float(present.min()),
        maximum=float(present.max()),
        n_missing=n_missing,
        n_rows=int(numbers.size),
        training_minimum=low,
        training_maximum=high,
    )


def categorical_profile(values: object) -> CategoricalProfile:
    """Count per category (as text, most frequent first) and missing count."""
    text = pd.Series(values).astype("string")
    counts = text.dropna().value_counts()
    return CategoricalProfile(
        categories=[str(c) for c in counts.index],
        counts=[int(c) for c in counts.to_numpy()],
        n_missing=int(text.isna().sum()),
        n_rows=int(text.size),
    )


def _bands(scores: np.ndarray, labels: np.ndarray | None, edges: list[float]) -> list[ScoreBand]:
    """Reference score deciles as bands, with their observed bad rate when labels exist."""
    bounds = [0.0, *edges, 1.0]
    index = np.searchsorted(np.asarray(edges), scores, side="right")
    n = np.bincount(index, minlength=len(bounds) - 1)
    bads = (
        np.bincount(index, weights=labels, minlength=len(bounds) - 1)
        if labels is not None
        else None
    )
    return [
        ScoreBand(
            lower=bounds[i],
            upper=bounds[i + 1],
            n=int(n[i]),
            expected_bad_rate=float(bads[i] / n[i]) if bads is not None and n[i] else None,
        )
        for i in range(len(bounds) - 1)
    ]


def build_profile(
    frame: pd.DataFrame,
    features: list[str],
    categorical: list[str] | tuple[str, ...],
    scores: np.ndarray,
    threshold: float,
    *,
    run_id: str,
    source: str,
    labels: np.ndarray | None = None,
    training_ranges: Mapping[str, tuple[float, float]] | None = None,
    score_scale: str = "risk_score",
) -> ReferenceProfile:
    """Profile a development sample (its features, the model's scores and optional labels);
    `training_ranges` are the numeric features' (min, max) over the training rows; columns
    spelled as the training data did ('home status') name the model's features."""
    frame = with_model_column_names(frame, features)
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise DataValidationError(
            f"The reference sample lacks the model's features: {', '.join(missing)}.",
            fix="Profile the run's own validation set or a sample with every model feature.",
        )
    scores = np.asarray(scores, dtype=float)
    if scores.size == 0:
        raise DataValidationError("The reference sample has no rows.")
    y = None if labels is None else np.asarray(labels, dtype=float)
    approved = scores < threshold
    both = y is not None and 0 < y.sum() < y.size
    score = numeric_profile(scores)
    return ReferenceProfile(
        run_id=run_id,
        source=source,
        threshold=float(threshold),
        n_rows=int(scores.size),
        features={
            f: categorical_profile(frame[f])
            if f in categorical
            else numeric_profile(frame[f], (training_ranges or {}).get(f))
            for f in features
        },
        score=score,
        expected_approval_rate=float(approved.mean()),
        expected_bad_rate=float(y.mean()) if y is not None else None,
        expected_bad_rate_approved=(
            float(y[approved].mean()) if y is not None and approved.any() else None
        ),
        expected_auc=auc_score(y, scores) if both else None,
        expected_ks=ks_statistic(y, scores) if both else None,
        bands=_bands(scores, y, score.edges),
        score_scale=score_scale,
    )


def parse_profile(data: bytes, origin: str) -> ReferenceProfile:
    """A profile from its JSON bytes; ProfileError names the file and what is wrong."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProfileError(f"The reference profile '{origin}' is not valid JSON ({exc}).") from exc
    version = raw.get("schema_version") if isinstance(raw, dict) else None
    if version != PROFILE_SCHEMA_VERSION:
        raise ProfileError(
            f"The reference profile '{origin}' has schema version {version!r}; this code reads "
            f"version {PROFILE_SCHEMA_VERSION}.",
            fix="Promote the run again to rebuild its profile.",
        )
    try:
        return ReferenceProfile.model_validate(raw)
    except ValidationError as exc:
        first = str(exc).splitlines()[0][:200]
        raise ProfileError(f"The reference profile '{origin}' is invalid ({first}).") from exc


def read_profile(path: Path, expected_sha256: str | None = None) -> ReferenceProfile:
    """Read a saved profile and check it against the sha256 recorded in the ledger, if any."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"Cannot read the reference profile '{path}' ({exc.strerror}).") from exc
    if expected_sha256 and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise ProfileError(
            f"The reference profile '{path}' does not match the sha256 in the ledger.",
            fix="Someone changed the deployed files: promote or roll back to re-export them.",
        )
    return parse_profile(data, str(path))
