"""What a run's training rows were: each numeric feature's range and a 64-bit row fingerprint.

Training writes both (training_rows/ in the run's artifacts); monitoring judges out-of-range
values against the training range, and every evaluation counts its rows found among them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.run_schema import ROW_FINGERPRINTS_FILE, TRAINING_RANGES_FILE

LEAKAGE_ALERT_SHARE = 0.01


def _normalised(frame: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """Features as float64 (numbers) or text (everything else), so equal values hash equally."""
    columns = {}
    for name in features:
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values) and not isinstance(
            values.dtype, pd.CategoricalDtype
        ):
            columns[name] = values.astype("float64").to_numpy()
        else:
            text = values.astype("object")
            columns[name] = np.asarray(text.where(text.notna(), None).map(_text), dtype=object)
    return pd.DataFrame(columns)


def _text(value: object) -> str:
    """A category as text; missing as a marker no real category uses."""
    return "\x00missing" if value is None else str(value)


def row_fingerprints(
    frame: pd.DataFrame, labels: Sequence[float] | np.ndarray, features: Sequence[str]
) -> np.ndarray:
    """One 64-bit hash per row of its feature values (in `features` order) and its label."""
    absent = [f for f in features if f not in frame.columns]
    if absent:
        raise DataValidationError(
            f"The rows lack the model's features: {', '.join(absent)}.",
            fix="Give every feature the model was trained on.",
        )
    table = _normalised(frame.reset_index(drop=True), features)
    table["\x00label"] = np.asarray(labels, dtype="float64")
    return pd.util.hash_pandas_object(table, index=False).to_numpy(dtype=np.uint64)


def numeric_ranges(frame: pd.DataFrame, features: Sequence[str]) -> dict[str, list[float]]:
    """[min, max] of each numeric feature with at least one value."""
    ranges = {}
    for name in features:
        values = frame[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            continue
        if pd.api.types.is_numeric_dtype(values) and values.notna().any():
            ranges[name] = [float(values.min()), float(values.max())]
    return ranges


@dataclass(frozen=True)
class TrainingRows:
    """A run's training rows as recorded: features hashed, row count, fingerprints and ranges."""

    features: tuple[str, ...]
    n_rows: int
    fingerprints: np.ndarray
    ranges: dict[str, tuple[float, float]]

    def write(self, folder: Path) -> None:
        """Write the ranges (JSON) and the fingerprints (.npy, 8 bytes a row) into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        record = {
            "features": list(self.features),
            "n_rows": self.n_rows,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
        }
        (folder / TRAINING_RANGES_FILE).write_text(json.dumps(record, indent=2), "utf-8")
        np.save(folder / ROW_FINGERPRINTS_FILE, self.fingerprints.astype(np.uint64))

    @classmethod
    def read(cls, folder: Path) -> TrainingRows:
        """Read what write() wrote; DataValidationError names a corrupt file."""
        try:
            record = json.loads((folder / TRAINING_RANGES_FILE).read_text("utf-8"))
            prints = np.load(folder / ROW_FINGERPRINTS_FILE, allow_pickle=False)
            ranges = {k: (float(v[0]), float(v[1])) for k, v in record["ranges"].items()}
            return cls(tuple(record["features"]), int(record["n_rows"]), prints, ranges)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise DataValidationError(
                f"The training-rows record in '{folder}' is unreadable ({exc}).",
                fix="Retrain the run to log its training rows again.",
            ) from exc


def record_training_rows(
    frame: pd.DataFrame, labels: Sequence[float] | np.ndarray, features: Sequence[str]
) -> TrainingRows:
    """The record of a training set: fingerprints of every row and numeric feature ranges."""
    prints = row_fingerprints(frame, labels, features)
    ranges = {k: (v[0], v[1]) for k, v in numeric_ranges(frame, features).items()}
    return TrainingRows(tuple(features), len(frame), prints, ranges)


@dataclass(frozen=True)
class TrainingOverlap:
    """How many evaluation rows a model saw in training; `seen` is a row mask (None: unknown)."""

    model: str
    n_rows: int
    seen: np.ndarray | None

    @property
    def checkable(self) -> bool:
        """False for runs that logged no fingerprints (logged by other code)."""
        return self.seen is not None

    @property
    def n_seen(self) -> int:
        """Evaluation rows found among the training rows (0 when unknown)."""
        return int(self.seen.sum()) if self.seen is not None else 0

    @property
    def share(self) -> float:
        """Share of evaluation rows the model trained on (NaN when unknown or no rows)."""
        if self.seen is None or self.n_rows == 0:
            return math.nan
        return self.n_seen / self.n_rows

    @property
    def material(self) -> bool:
        """True when more than 1% of the rows were training rows."""
        return self.checkable and self.share > LEAKAGE_ALERT_SHARE

    @property
    def sentence(self) -> str:
        """What the check found, in one sentence a validator can sign."""
        if not self.checkable:
            return (
                f"Training-row overlap for {self.model} cannot be checked: the run logged no "
                "row fingerprints (it was logged by other code)."
            )
        if not self.material:
            return (
                f"{self.n_seen:,} of {self.n_rows:,} evaluation rows ({self.share:.1%}) were "
                f"training rows of {self.model}: at most {LEAKAGE_ALERT_SHARE:.0%}, no caveat."
            )
        return (
            f"{self.n_seen:,} of {self.n_rows:,} evaluation rows ({self.share:.1%}) were "
            f"training rows of {self.model}: its metrics on these rows are optimistic. "
            f"The metrics on the {self.n_rows - self.n_seen:,} unseen rows are the fair ones."
        )


def training_overlap(
    model: str,
    training: TrainingRows | None,
    frame: pd.DataFrame,
    labels: Sequence[float] | np.ndarray,
) -> TrainingOverlap:
    """Which evaluation rows (features and label) appear among a model's training rows."""
    if training is None or any(f not in frame.columns for f in training.features):
        return TrainingOverlap(model, len(frame), None)
    prints = row_fingerprints(frame, labels, training.features)
    return TrainingOverlap(model, len(frame), np.isin(prints, training.fingerprints))
