"""Ties in the recommendation: runs whose validation AUC is within noise of the best.

Where a run logged the same validation rows as the best, the paired DeLong 95% interval of its
AUC minus the best's decides (core.store.paired_ties computes it): equivalent when the interval
reaches 0. Otherwise each run's val_auc carries the Hanley–McNeil standard error of its
validation set (rows from `n_validation`, bads from `val_bad_rate`), and a run is equivalent
when the gap is within 1.96 times the two errors combined. Among equivalent runs the
recommended one is chosen by a stated tie-break: better CV stability (lower CV AUC std), then
fewer features, then a lower train/validation gap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri  # scipy.stats.norm.ppf's own function, without scipy.stats

from core.runs.fold_noise import hanley_mcneil_variance

TIE_METRIC = "metrics.val_auc"
CONFIDENCE = 0.95
# The tie-break rules in order; lower is better for each key.
TIE_BREAK_RULES = ("better CV stability (lower CV AUC std)", "fewer features",
                   "lower train/validation AUC gap")  # fmt: skip


@dataclass(frozen=True)
class Tie:
    """The runs equivalent within noise of the best (row labels), the winner and the rule."""

    tied: tuple[object, ...]
    winner: object
    rule: str
    margin: float
    best: object
    method: str


def _column(runs: pd.DataFrame, name: str) -> pd.Series:
    """A numeric column (NaN where missing)."""
    if name not in runs.columns:
        return pd.Series(np.nan, index=runs.index)
    return pd.to_numeric(runs[name], errors="coerce")


def auc_std_error(runs: pd.DataFrame) -> pd.Series:
    """Hanley–McNeil standard error of each run's val_auc (NaN when its set size is unknown)."""
    auc = _column(runs, TIE_METRIC)
    rows = _column(runs, "metrics.n_validation")
    bads = (rows * _column(runs, "metrics.val_bad_rate")).round()
    variance = hanley_mcneil_variance(auc.to_numpy(), bads.to_numpy(), (rows - bads).to_numpy())
    return pd.Series(np.sqrt(variance), index=runs.index)


def _feature_count(runs: pd.DataFrame) -> pd.Series:
    """How many features each run logged (params.features, comma separated)."""
    if "params.features" not in runs.columns:
        return pd.Series(np.nan, index=runs.index)
    return runs["params.features"].map(
        lambda text: float(len(str(text).split(","))) if isinstance(text, str) and text else np.nan
    )


def tie_break_keys(runs: pd.DataFrame) -> pd.DataFrame:
    """The tie-break keys per run, in rule order (lower is better; NaN ranks last)."""
    gap = _column(runs, "metrics.train_auc") - _column(runs, TIE_METRIC)
    keys = [_column(runs, "cv_auc_std"), _feature_count(runs), gap]
    return pd.DataFrame(dict(zip(TIE_BREAK_RULES, keys, strict=True)), index=runs.index)


def _method(paired: Mapping[object, tuple[float, float]], others: list[object]) -> str:
    """How the tie was judged, in words."""
    if others and all(i in paired for i in others):
        return "paired DeLong on the same validation rows, 95%"
    if any(i in paired for i in others):
        return "paired DeLong where the validation rows are the same, else Hanley–McNeil, 95%"
    return "Hanley–McNeil, 95%"


def _deciding_rule(keys: pd.DataFrame, winner: object, runner_up: object) -> str | None:
    """The first tie-break rule on which the winner beats the runner-up (None: all equal)."""
    for name in TIE_BREAK_RULES:
        ours, theirs = keys.at[winner, name], keys.at[runner_up, name]
        if not (ours == theirs or (pd.isna(ours) and pd.isna(theirs))):
            return name
    return None


def find_tie(
    candidates: pd.DataFrame,
    best: object,
    paired: Mapping[object, tuple[float, float]] | None = None,
) -> Tie | None:
    """The tie around the best candidate by val_auc, or None (no tie, or noise unknown).

    `paired` maps a candidate's row label to the paired 95% interval of its AUC − the best's.
    """
    paired = paired or {}
    if TIE_METRIC not in candidates.columns or len(candidates) < 2:
        return None
    auc, se = _column(candidates, TIE_METRIC), auc_std_error(candidates)
    if not math.isfinite(se[best]):
        return None
    z = float(ndtri(0.5 + CONFIDENCE / 2))
    margin = z * np.sqrt(se[best] ** 2 + se**2)
    within = ((auc[best] - auc) <= margin) & se.notna()
    for index, (_, high) in paired.items():
        if index in within.index:
            within[index] = high >= 0
    within[best] = True
    tied = candidates.index[within]
    if len(tied) < 2:
        return None
    keys = tie_break_keys(candidates.loc[tied])
    order = keys.sort_values(list(TIE_BREAK_RULES), na_position="last", kind="stable").index
    rule = _deciding_rule(keys, order[0], order[1])
    winner = order[0] if rule is not None else best
    method = _method(paired, [i for i in tied if i != best])
    return Tie(
        tuple(order),
        winner,
        rule or "highest val_auc (the tie-break keys are equal)",
        float(margin[best]),
        best,
        method,
    )
