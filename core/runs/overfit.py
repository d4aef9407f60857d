"""The overfit flag: train AUC far above the cross-validated AUC a run's folds measured."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.settings import DEFAULT_OVERFIT_GAP


@dataclass(frozen=True)
class OverfitVerdict:
    """Train AUC, CV AUC, their gap, the limit, and whether the gap exceeds it."""

    train_auc: float
    cv_auc: float
    limit: float = DEFAULT_OVERFIT_GAP

    @property
    def gap(self) -> float:
        """Train AUC minus CV AUC (NaN when either is missing)."""
        return self.train_auc - self.cv_auc

    @property
    def flagged(self) -> bool:
        """True when the model scores its own training rows far better than held-out folds."""
        return not math.isnan(self.gap) and self.gap > self.limit

    @property
    def sentence(self) -> str:
        """The verdict in one sentence, with the numbers behind it."""
        if math.isnan(self.gap):
            return "Overfit cannot be judged: train AUC or CV AUC was not logged."
        numbers = (
            f"train AUC {self.train_auc:.4f} vs CV AUC {self.cv_auc:.4f} "
            f"(gap {self.gap:.4f}, limit {self.limit:g})"
        )
        if self.flagged:
            return (
                f"Overfit: {numbers}. The model fits its training rows much better than rows it "
                "did not see; expect held-out performance near the CV figure."
            )
        return f"No overfit flag: {numbers}."


def overfit_verdict(
    train_auc: float | None, cv_auc: float | None, limit: float = DEFAULT_OVERFIT_GAP
) -> OverfitVerdict:
    """The overfit verdict from a run's train and mean CV AUC (None counts as not logged)."""
    as_float = [math.nan if v is None else float(v) for v in (train_auc, cv_auc)]
    return OverfitVerdict(as_float[0], as_float[1], limit)


def _numbers(runs: pd.DataFrame, column: str) -> pd.Series:
    """A column as floats, all-NaN when absent."""
    if column not in runs.columns:
        return pd.Series(np.nan, index=runs.index, dtype="float64")
    return pd.to_numeric(runs[column], errors="coerce").astype("float64")


def overfit_column(runs: pd.DataFrame, limit: float = DEFAULT_OVERFIT_GAP) -> pd.Series:
    """Per run: '⚠ overfit (gap 0.250)' when train AUC − CV AUC exceeds `limit`, else ''."""
    gap = _numbers(runs, "metrics.train_auc") - _numbers(runs, "cv_auc_mean")
    text = [f"⚠ overfit (gap {g:.3f})" if g > limit else "" for g in gap]
    return pd.Series(text, index=runs.index, dtype="str")
