"""The cross-validation stability rule, shared by Runs, Promotion and the recommendation.

By default a run's fold spread is judged against sampling noise: the std of fold AUC that
folds of that size would show anyway (Hanley–McNeil), a variance-ratio chi-square test at a
set level, and the worst fold's distance below the mean in standard errors. Runs whose fold
sizes are neither logged nor estimable, and users who ask for it, get the absolute rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special  # chi2 as scipy.stats computes it, without its ~1 s import

from core.runs.fold_noise import fold_noise

StabilityFlag = Literal["stable", "unstable", "inconclusive", "no CV logged"]
RuleMethod = Literal["noise", "absolute"]
STABLE: StabilityFlag = "stable"
UNSTABLE: StabilityFlag = "unstable"
INCONCLUSIVE: StabilityFlag = "inconclusive"
NO_CV: StabilityFlag = "no CV logged"
NOISE: RuleMethod = "noise"
ABSOLUTE: RuleMethod = "absolute"
DEFAULT_PRIMARY_METRIC = "metrics.val_auc"
_LOWER_IS_BETTER = re.compile(r"loss|error|rmse|mae|mse|brier|deviance", re.IGNORECASE)
_EPS = 1e-12


def higher_is_better(metric: str) -> bool:
    """False for losses and errors (logloss, rmse, brier...), True for AUC, KS and scores."""
    return not _LOWER_IS_BETTER.search(metric)


@dataclass(frozen=True)
class StabilityRule:
    """When a run's CV is stable.

    method "noise" (default): unstable when the fold AUC spread is significantly larger than
    sampling noise (variance-ratio chi-square test, p < level) or the worst fold lies more than
    max_worst_fold_se standard errors below the mean. A run the test passes is "inconclusive"
    when the test cannot flag a fold std of detect_ratio × the noise (too few folds for the level)
    and the spread it would miss exceeds material_std (folds small enough for that miss to matter).
    Runs whose fold sizes are unknown, and method "absolute", use std(cv_auc) <= max_std and
    worst fold >= mean - max_worst_fold_drop.
    """

    max_std: float = 0.01
    max_worst_fold_drop: float = 0.02
    method: RuleMethod = NOISE
    level: float = 0.05
    max_worst_fold_se: float = 3.0
    detect_ratio: float = 1.5
    material_std: float = 0.05

    def __post_init__(self) -> None:
        """Reject settings that make no sense (a level outside (0, 1), negative limits)."""
        if self.method not in (NOISE, ABSOLUTE):
            raise ValueError(f"Unknown stability method '{self.method}'.")
        if not 0 < self.level < 1:
            raise ValueError(f"The test level must be in (0, 1), got {self.level}.")
        if min(self.max_std, self.max_worst_fold_drop, self.max_worst_fold_se) < 0:
            raise ValueError("Stability limits cannot be negative.")
        if self.detect_ratio <= 1 or self.material_std < 0:
            raise ValueError("The detectable ratio must exceed 1 and material_std be ≥ 0.")

    def describe_absolute(self) -> str:
        """The absolute rule in one phrase."""
        return (
            f"std(CV AUC) ≤ {self.max_std:g} and worst fold ≥ mean − {self.max_worst_fold_drop:g}"
        )

    def describe(self) -> str:
        """The rule in one sentence."""
        if self.method == ABSOLUTE:
            return self.describe_absolute()
        return (
            f"fold spread within sampling noise (χ² test at {self.level:g}) and worst fold "
            f"at most {self.max_worst_fold_se:g} SE below the mean"
        )


@dataclass(frozen=True)
class StabilityVerdict:
    """One run's stability flag with the numbers behind it and a sentence that explains it."""

    flag: StabilityFlag
    judged_by: RuleMethod | None
    mean: float
    observed_std: float
    worst: float
    n_folds: int
    expected_std: float = math.nan
    p_value: float = math.nan
    worst_fold_se: float = math.nan
    sizes: str = "unknown"
    fold_rows: float = math.nan
    fold_bads: float = math.nan
    detectable_ratio: float = math.nan
    reason: str = ""

    @property
    def explanation(self) -> str:
        """The verdict in one sentence: the flag, then the numbers behind it."""
        return f"{self.flag.capitalize()}: {self.reason}" if self.reason else self.flag

    @property
    def sizes_estimated(self) -> bool:
        """True when the expected noise rests on estimated, not logged, fold sizes."""
        return self.sizes == "estimated"


def _absolute_verdict(
    rule: StabilityRule, mean: float, std: float, worst: float, n: int, why: str
) -> StabilityVerdict:
    """Judge by the absolute limits; `why` says why this rule was used."""
    drop = mean - worst
    std_ok = std <= rule.max_std + _EPS
    worst_ok = math.isnan(worst) or drop <= rule.max_worst_fold_drop + _EPS
    flag = STABLE if std_ok and worst_ok else UNSTABLE
    parts = [f"fold AUC std {std:.4f} {'≤' if std_ok else '>'} {rule.max_std:g}"]
    if not math.isnan(worst):
        parts.append(
            f"worst fold {drop:.4f} below the mean "
            f"({'within' if worst_ok else 'beyond'} {rule.max_worst_fold_drop:g})"
        )
    reason = "; ".join(parts) + f" ({why})."
    return StabilityVerdict(flag, ABSOLUTE, mean, std, worst, n, sizes="unknown", reason=reason)


def _p_text(p_value: float) -> str:
    """'p = 0.412', or 'p < 0.001' for tiny values."""
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3g}"


@dataclass(frozen=True)
class _Noise:
    """One run's sampling-noise numbers: expected std, p-value and where the sizes came from."""

    expected: float
    p_value: float
    source: str
    fold_rows: float
    fold_bads: float
    description: str


def detectable_ratio(n_folds: int, level: float) -> float:
    """The smallest fold std, as a multiple of the noise, that the χ² test flags at `level`."""
    if n_folds < 2:
        return math.inf
    return math.sqrt(2 * special.gammaincinv((n_folds - 1) / 2, 1 - level) / (n_folds - 1))


def _noise_flag(
    rule: StabilityRule, unstable: bool, detectable: float, expected: float
) -> StabilityFlag:
    """Unstable when a test fired; inconclusive when it could miss a material 1.5× spread."""
    if unstable:
        return UNSTABLE
    blind = detectable > rule.detect_ratio and detectable * expected > rule.material_std
    return INCONCLUSIVE if blind else STABLE


def _power_text(rule: StabilityRule, flag: StabilityFlag, n: int, detectable: float) -> str:
    """What the χ² test can see with this many folds: the smallest detectable ratio."""
    text = f"with {n} folds the test flags a spread from {detectable:.2f}× the noise"
    if flag == INCONCLUSIVE:
        text += (
            f", so a fold std of {rule.detect_ratio:g}× the noise would pass unseen "
            "(more folds or larger folds would tell)"
        )
    return text


def _noise_verdict(
    rule: StabilityRule, mean: float, std: float, worst: float, n: int, noise: _Noise
) -> StabilityVerdict:
    """Judge the spread against the sampling noise folds of these sizes would show."""
    expected, p_value = noise.expected, noise.p_value
    if expected > 0:
        worst_se = (mean - worst) / expected if not math.isnan(worst) else math.nan
    else:
        worst_se = math.inf if not math.isnan(worst) and worst < mean else 0.0
    too_spread = p_value < rule.level
    worst_far = not math.isnan(worst_se) and worst_se > rule.max_worst_fold_se
    detectable = detectable_ratio(n, rule.level)
    flag = _noise_flag(rule, too_spread or worst_far, detectable, expected)
    ratio = std / expected if expected > 0 else math.inf
    spread = (
        f"fold AUC std {std:.4f} vs {expected:.4f} expected from sampling noise alone "
        f"({ratio:.1f}×, χ² {_p_text(p_value)}, level {rule.level:g})"
    )
    worst_text = (
        f"worst fold {worst_se:.1f} SE below the mean"
        f"{' (limit ' + format(rule.max_worst_fold_se, 'g') + ')' if worst_far else ''}"
        if not math.isnan(worst_se)
        else "worst fold not logged"
    )
    power = _power_text(rule, flag, n, detectable)
    reason = f"{spread}; {worst_text}; {power}; {n} folds of {noise.description}."
    return StabilityVerdict(
        flag,
        NOISE,
        mean,
        std,
        worst,
        n,
        expected_std=expected,
        p_value=p_value,
        worst_fold_se=worst_se,
        sizes=noise.source,
        fold_rows=noise.fold_rows,
        fold_bads=noise.fold_bads,
        detectable_ratio=detectable,
        reason=reason,
    )


def _column(runs: pd.DataFrame, name: str) -> np.ndarray:
    """A column as floats (NaN when absent or not a number)."""
    if name not in runs.columns:
        return np.full(len(runs), np.nan)
    return pd.to_numeric(runs[name], errors="coerce").to_numpy(dtype=float)


def _verdicts(runs: pd.DataFrame, rule: StabilityRule) -> list[StabilityVerdict]:
    """Every run's verdict; the noise numbers and p-values are computed for all runs at once."""
    mean, std, worst = (_column(runs, f"cv_auc_{s}") for s in ("mean", "std", "min"))
    n_folds = _column(runs, "cv_auc_n")
    n_folds = np.where(np.isnan(n_folds), _column(runs, "params.cv_folds"), n_folds)
    noise = fold_noise(runs, mean, n_folds)
    with np.errstate(invalid="ignore", divide="ignore"):
        statistic = (n_folds - 1) * std**2 / noise.expected_std**2
        p_values = special.chdtrc(np.maximum(n_folds - 1, 1), np.maximum(statistic, 0))
    p_values = np.where(noise.expected_std > 0, p_values, np.where(std > 0, 0.0, 1.0))
    verdicts = []
    for i in range(len(runs)):
        m, s, w = float(mean[i]), float(std[i]), float(worst[i])
        n = int(n_folds[i]) if np.isfinite(n_folds[i]) else 0
        if math.isnan(m) or math.isnan(s):
            verdicts.append(StabilityVerdict(NO_CV, None, m, s, w, 0, reason="no CV folds logged."))
        elif rule.method == ABSOLUTE:
            verdicts.append(_absolute_verdict(rule, m, s, w, n, "absolute rule chosen"))
        elif noise.source[i] == "unknown" or n < 2:
            why = "fold sizes unknown, so judged by the absolute rule"
            verdicts.append(_absolute_verdict(rule, m, s, w, n, why))
        else:
            run_noise = _Noise(
                float(noise.expected_std[i]),
                float(p_values[i]),
                str(noise.source[i]),
                float(noise.fold_rows[i]),
                float(noise.fold_bads[i]),
                str(noise.description[i]),
            )
            verdicts.append(_noise_verdict(rule, m, s, w, n, run_noise))
    return verdicts


def stability_verdict(row: Mapping[str, object], rule: StabilityRule) -> StabilityVerdict:
    """The verdict for one run from its cv_auc_{mean,std,min,n} and fold sizes (or estimate)."""
    return _verdicts(pd.DataFrame([dict(row)]), rule)[0]


def stability_row(
    cv: Mapping[str, float] | None,
    metrics: Mapping[str, float],
    params: Mapping[str, str],
    n_folds: int | None = None,
) -> dict[str, object]:
    """One run's CV statistics, metrics and params shaped like a runs-table row for the rule."""
    row: dict[str, object] = dict(cv or {})
    if n_folds:
        row["cv_auc_n"] = n_folds
    row.update({f"metrics.{k}": v for k, v in metrics.items()})
    row.update({f"params.{k}": v for k, v in params.items()})
    return row


def stability_verdicts(runs: pd.DataFrame, rule: StabilityRule) -> pd.DataFrame:
    """One verdict per run (StabilityVerdict's fields and its explanation), indexed like `runs`."""
    columns = [*StabilityVerdict.__dataclass_fields__, "explanation"]
    if runs.empty:
        return pd.DataFrame(columns=columns, index=runs.index)
    records = [vars(v) | {"explanation": v.explanation} for v in _verdicts(runs, rule)]
    return pd.DataFrame(records, columns=columns, index=runs.index)


def stability_flags(runs: pd.DataFrame, rule: StabilityRule) -> pd.Series:
    """Flag each run stable / unstable / inconclusive / no CV logged (see stability_verdicts)."""
    if runs.empty:
        return pd.Series([], dtype="str", index=runs.index)
    return stability_verdicts(runs, rule)["flag"].astype("str")
