"""Is the score a probability of default? Calibration slope, intercept and Brier vs base rate.

A model trained with `is_unbalance=True` (the seed's habit) ranks well but over-predicts: its
output is a risk score, not a PD. The check fits the logistic recalibration model
logit P(bad) = a + b · logit(score) on the distinct scores of a ScoreTable (weighted by their
bad and good counts, so a million rows cost what their distinct scores cost) and compares the
Brier score with that of always predicting the bad rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.evaluation.threshold_policy import ScoreTable

SLOPE_RANGE = (0.8, 1.2)
MAX_ABS_INTERCEPT = 0.2
_EPS = 1e-12
_NEWTON_STEPS = 50


@dataclass(frozen=True)
class CalibrationCheck:
    """Calibration slope and intercept (log-odds), Brier against the base-rate Brier."""

    slope: float
    intercept: float
    brier: float
    base_rate_brier: float
    mean_predicted: float
    observed_rate: float

    @property
    def problems(self) -> list[str]:
        """Plain sentences for each sign that the score is not a calibrated PD."""
        found = []
        if self.brier >= self.base_rate_brier:
            found.append(
                f"its Brier score {self.brier:.4f} is no better than always predicting the bad "
                f"rate ({self.base_rate_brier:.4f})"
            )
        if not np.isfinite(self.slope):
            found.append(
                "the calibration slope cannot be estimated: in this sample the scores separate "
                "bads from goods completely"
            )
        elif not SLOPE_RANGE[0] <= self.slope <= SLOPE_RANGE[1]:
            found.append(f"the calibration slope is {self.slope:.2f} (1 when calibrated)")
        if np.isfinite(self.intercept) and abs(self.intercept) > MAX_ABS_INTERCEPT:
            found.append(
                f"the calibration intercept is {self.intercept:+.2f} log-odds (0 when calibrated):"
                f" the average score is {self.mean_predicted:.1%} against {self.observed_rate:.1%}"
                " observed"
            )
        return found

    @property
    def is_calibrated(self) -> bool:
        """True when no calibration problem was found."""
        return not self.problems


def _counts(table: ScoreTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct score: its logit, its bads and its goods."""
    bads = np.diff(table.cum_bads).astype(float)
    goods = np.diff(table.cum_goods).astype(float)
    p = np.clip(table.scores, _EPS, 1 - _EPS)
    return np.log(p / (1 - p)), bads, goods


def _log_likelihood(z: np.ndarray, bads: np.ndarray, goods: np.ndarray) -> float:
    """Binomial log-likelihood of bads and goods at log-odds z, without overflow."""
    return float(-(bads * np.logaddexp(0.0, -z)).sum() - (goods * np.logaddexp(0.0, z)).sum())


def _fit(x: np.ndarray, bads: np.ndarray, goods: np.ndarray, *, slope: bool) -> tuple[float, float]:
    """Weighted logistic fit of bad on a + b·x (b fixed at 1 and x an offset when slope=False).

    Newton steps are halved until the likelihood rises, so a small book with extreme scores
    cannot overshoot into nonsense; (nan, nan) when the fit does not settle (the scores
    separate bads from goods, so the maximum-likelihood slope is infinite).
    """
    a, b = 0.0, 1.0
    total = bads + goods
    current = _log_likelihood(a + b * x, bads, goods)
    for _ in range(_NEWTON_STEPS):
        mu = 0.5 * (1.0 + np.tanh(0.5 * (a + b * x)))  # the logistic function, overflow-free
        residual = bads - total * mu
        weight = total * mu * (1 - mu)
        if slope:
            gradient = np.array([residual.sum(), (residual * x).sum()])
            hessian = np.array(
                [[weight.sum(), (weight * x).sum()], [(weight * x).sum(), (weight * x * x).sum()]]
            )
            try:
                step = np.linalg.solve(hessian, gradient)
            except np.linalg.LinAlgError:
                return float("nan"), float("nan")
        else:
            step = np.array([residual.sum() / max(weight.sum(), _EPS), 0.0])
        scale = 1.0
        while scale > 1e-6:
            trial = _log_likelihood(a + scale * step[0] + (b + scale * step[1]) * x, bads, goods)
            if trial >= current - 1e-12:
                break
            scale /= 2
        a, b, current = a + scale * step[0], b + scale * step[1], trial
        if np.abs(scale * step).max() < 1e-10:
            return float(a), float(b)
    return float("nan"), float("nan")


def calibration_check(table: ScoreTable) -> CalibrationCheck:
    """Calibration slope (recalibration fit), intercept (calibration-in-the-large), Brier."""
    x, bads, goods = _counts(table)
    rate = table.n_bads / table.n
    _, slope = _fit(x, bads, goods, slope=True)
    intercept, _ = _fit(x, bads, goods, slope=False)
    return CalibrationCheck(
        slope=slope,
        intercept=intercept,
        brier=table.brier,
        base_rate_brier=rate * (1 - rate),
        mean_predicted=float(table.cum_score_sum[-1] / table.n),
        observed_rate=rate,
    )
