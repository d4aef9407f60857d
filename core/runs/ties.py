"""Ties in the recommendation: runs whose validation AUC is within noise of the best.

Each run's val_auc carries the Hanley–McNeil standard error of its validation set (rows from
`n_validation`, bads from `val_bad_rate`); a run is "equivalent within noise" of the best when
the gap is within 1.96 times the two errors combined (unpaired: the runs' scores on the same
rows are not read here, so the paired error, usually smaller, is not known). Among equivalent
runs the recommended one is chosen by a stated tie-break: better CV stability (lower CV AUC
std), then fewer features, then a lower train/validation gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

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


def find_tie(candidates: pd.DataFrame, best: object) -> Tie | None:
    """The tie around the best candidate by val_auc, or None (no tie, or noise unknown)."""
    if TIE_METRIC not in candidates.columns or len(candidates) < 2:
        return None
    auc, se = _column(candidates, TIE_METRIC), auc_std_error(candidates)
    if not math.isfinite(se[best]):
        return None
    z = float(norm.ppf(0.5 + CONFIDENCE / 2))
    margin = z * np.sqrt(se[best] ** 2 + se**2)
    tied = candidates.index[((auc[best] - auc) <= margin) & se.notna()]
    if len(tied) < 2:
        return None
    keys = tie_break_keys(candidates.loc[tied])
    order = keys.sort_values(list(TIE_BREAK_RULES), na_position="last", kind="stable").index
    winner, runner_up = order[0], order[1]
    rule = next(
        (
            name
            for name in TIE_BREAK_RULES
            if not (
                keys.at[winner, name] == keys.at[runner_up, name]
                or (pd.isna(keys.at[winner, name]) and pd.isna(keys.at[runner_up, name]))
            )
        ),
        "highest val_auc (the tie-break keys are equal)",
    )
    if rule.startswith("highest"):
        winner = best
    return Tie(tuple(order), winner, rule, float(margin[best]))
