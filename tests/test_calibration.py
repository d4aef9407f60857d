"""The calibration check: slope and intercept match a logistic fit; over-prediction is caught."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from core.evaluation.calibration import calibration_check
from core.evaluation.threshold_policy import build_score_table


def _book(shift: float, n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from true PDs, and scores that are those PDs shifted by `shift` log-odds."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(-1.8, 1.0, n)
    labels = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return labels, np.round(1 / (1 + np.exp(-(logit + shift))), 4)


def test_a_calibrated_score_passes_and_the_fit_matches_sklearn() -> None:
    # given scores that are the true probabilities
    labels, scores = _book(shift=0.0)
    # when checked
    check = calibration_check(build_score_table(labels, scores))
    # then slope ≈ 1, intercept ≈ 0, Brier beats the base rate, and no problem is reported
    assert check.is_calibrated, check.problems
    logit = np.log(scores / (1 - scores)).reshape(-1, 1)
    reference = LogisticRegression(penalty=None, tol=1e-10, max_iter=1000).fit(logit, labels)
    assert check.slope == pytest.approx(reference.coef_[0, 0], abs=1e-6)
    assert check.base_rate_brier == pytest.approx(labels.mean() * (1 - labels.mean()))


def test_an_over_predicting_score_is_flagged_with_numbers() -> None:
    # given scores one log-odds too high (as is_unbalance=True training gives)
    labels, scores = _book(shift=1.0)
    # when checked
    check = calibration_check(build_score_table(labels, scores))
    # then the intercept is about -1, and the problem is said in words
    assert check.intercept == pytest.approx(-1.0, abs=0.05)
    assert not check.is_calibrated
    assert any("intercept" in problem for problem in check.problems)
    assert check.mean_predicted > check.observed_rate


def _small_overconfident_book(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """80 applicants whose scores span 1e-3 to 0.98 but say little about who defaults."""
    rng = np.random.default_rng(seed)
    logit = rng.uniform(-7.0, 4.5, 80)
    labels = (rng.random(80) < 1 / (1 + np.exp(-0.3 * logit - 0.3))).astype(int)
    return labels, 1 / (1 + np.exp(-logit))


def test_a_small_book_with_extreme_scores_gets_the_sklearn_slope() -> None:
    # given a small book whose scores are far too confident (an undamped Newton step from
    # slope 1 overshoots here: it once reported a slope of -2e92)
    labels, scores = _small_overconfident_book()
    # when checked
    check = calibration_check(build_score_table(labels, scores))
    # then the slope is the maximum-likelihood one, and the problem is said with it
    logit = np.log(scores / (1 - scores)).reshape(-1, 1)
    reference = LogisticRegression(penalty=None, tol=1e-10, max_iter=1000).fit(logit, labels)
    assert check.slope == pytest.approx(reference.coef_[0, 0], abs=1e-5)
    assert f"the calibration slope is {check.slope:.2f}" in "; ".join(check.problems)


def test_scores_that_separate_the_classes_have_no_slope_and_say_why() -> None:
    # given a sample in which every bad scores above every good
    labels = np.array([0] * 50 + [1] * 10)
    scores = np.concatenate([np.linspace(0.01, 0.4, 50), np.linspace(0.6, 0.9, 10)])
    # when checked
    check = calibration_check(build_score_table(labels, scores))
    # then no slope is invented: it is missing, and the reason is given in words
    assert np.isnan(check.slope)
    assert any("cannot be estimated" in problem for problem in check.problems)
