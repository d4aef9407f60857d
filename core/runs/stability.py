"""The cross-validation stability rule and the recommended run, shared by Runs and Promotion."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

StabilityFlag = Literal["stable", "unstable", "no CV logged"]
STABLE: StabilityFlag = "stable"
UNSTABLE: StabilityFlag = "unstable"
NO_CV: StabilityFlag = "no CV logged"
DEFAULT_PRIMARY_METRIC = "metrics.val_auc"
_LOWER_IS_BETTER = re.compile(r"loss|error|rmse|mae|mse|brier|deviance", re.IGNORECASE)


def higher_is_better(metric: str) -> bool:
    """False for losses and errors (logloss, rmse, brier...), True for AUC, KS and scores."""
    return not _LOWER_IS_BETTER.search(metric)


@dataclass(frozen=True)
class StabilityRule:
    """A run is stable when std(cv_auc) <= max_std and worst fold >= mean - max_drop."""

    max_std: float = 0.01
    max_worst_fold_drop: float = 0.02

    def describe(self) -> str:
        """The rule in one sentence."""
        return (
            f"std(CV AUC) ≤ {self.max_std:g} and worst fold ≥ mean − {self.max_worst_fold_drop:g}"
        )


def stability_flags(runs: pd.DataFrame, rule: StabilityRule) -> pd.Series:
    """Flag each run stable / unstable / no CV logged from its cv_auc_{mean,std,min} columns."""
    if runs.empty:
        return pd.Series([], dtype="str", index=runs.index)
    mean = pd.to_numeric(runs.get("cv_auc_mean"), errors="coerce")
    std = pd.to_numeric(runs.get("cv_auc_std"), errors="coerce")
    worst = pd.to_numeric(runs.get("cv_auc_min"), errors="coerce")
    has_cv = mean.notna() & std.notna()
    worst_ok = worst.isna() | (worst >= mean - rule.max_worst_fold_drop - 1e-12)
    stable = has_cv & (std <= rule.max_std + 1e-12) & worst_ok
    flags = np.where(~has_cv, NO_CV, np.where(stable, STABLE, UNSTABLE))
    return pd.Series(flags, index=runs.index, dtype="str")


@dataclass(frozen=True)
class Recommendation:
    """The recommended run and the reason, in one sentence."""

    run_id: str | None
    run_name: str | None
    metric: str
    value: float | None
    reason: str


def recommend_run(
    runs: pd.DataFrame,
    rule: StabilityRule,
    metric: str = DEFAULT_PRIMARY_METRIC,
    *,
    maximize: bool | None = None,
) -> Recommendation:
    """The best finished run with a model by `metric` among stable runs, with the reason.

    `maximize` defaults to True except for metrics named like a loss or an error.
    """
    if maximize is None:
        maximize = higher_is_better(metric)
    label = metric.removeprefix("metrics.")
    if runs.empty or metric not in runs.columns:
        return Recommendation(None, None, metric, None, f"No run logged {label}.")
    flags = stability_flags(runs, rule)
    values = pd.to_numeric(runs[metric], errors="coerce")
    eligible = (runs["status"] == "FINISHED") & runs["has_model"].astype(bool) & values.notna()
    candidates = runs[eligible & (flags == STABLE)]
    if candidates.empty:
        n_eligible = int(eligible.sum())
        reason = (
            f"None of the {n_eligible} finished run(s) with a model and {label} is stable "
            f"by the rule ({rule.describe()})."
            if n_eligible
            else f"No finished run with a model logged {label}."
        )
        return Recommendation(None, None, metric, None, reason)
    ranked = values[candidates.index]
    best_index = ranked.idxmax() if maximize else ranked.idxmin()
    best = runs.loc[best_index]
    n_unstable = int((eligible & (flags == UNSTABLE)).sum())
    direction = "highest" if maximize else "lowest"
    reason = (
        f"{best['run_name']} has the {direction} {label} ({values[best_index]:.4f}) of "
        f"{len(candidates)} stable run(s) ({rule.describe()})"
        + (f"; {n_unstable} unstable run(s) were set aside." if n_unstable else ".")
    )
    return Recommendation(
        str(best["run_id"]), str(best["run_name"]), metric, float(values[best_index]), reason
    )
