"""Threshold policy lookups against brute-force confusion matrices computed from scratch."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from core.errors import DataValidationError
from core.evaluation.threshold_policy import (
    build_score_table,
    policy_at,
    policy_curve,
    policy_grid,
    profit_maximising_threshold,
    threshold_for_approval_rate,
)
from core.scoring.scorer import DECLINE, decide
from core.settings import DEFAULT_DECISION_THRESHOLD, DEFAULT_TARGET_APPROVAL_RATE


@pytest.fixture(scope="module")
def labelled() -> tuple[np.ndarray, np.ndarray]:
    """Labels and tied scores (two decimals) of 4,000 applicants."""
    rng = np.random.default_rng(21)
    labels = (rng.random(4_000) < 0.2).astype(int)
    scores = np.round(1 / (1 + np.exp(-(rng.normal(0, 1, 4_000) + 1.2 * labels - 1.2))), 2)
    return labels, scores


def _brute_force(labels: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """sklearn's confusion matrix of 'declined' against 'bad' with the scoring module's rule."""
    declined = (decide(scores, threshold) == DECLINE).astype(int)
    return confusion_matrix(labels, declined, labels=[0, 1])


@pytest.mark.parametrize("threshold", [0.01, 0.2, 0.35, 0.5, DEFAULT_DECISION_THRESHOLD, 0.99])
def test_policy_matches_a_fresh_confusion_matrix(labelled, threshold: float) -> None:
    # given labels and scores, some exactly at the threshold
    labels, scores = labelled
    table = build_score_table(labels, scores)
    # when the policy at a threshold is looked up
    point = policy_at(table, threshold)
    # then its counts equal a confusion matrix computed from scratch
    (tn, fp), (fn, tp) = _brute_force(labels, scores, threshold)
    assert (point.goods_approved, point.goods_declined) == (tn, fp)
    assert (point.bads_approved, point.bads_declined) == (fn, tp)
    approved = scores < threshold
    assert point.approval_rate == pytest.approx(approved.mean())
    if approved.any():
        assert point.bad_rate_approved == pytest.approx(labels[approved].mean())
    assert point.bads_caught == pytest.approx(labels[~approved].sum() / labels.sum())
    assert point.confusion_matrix().to_numpy().tolist() == [[tn, fp], [fn, tp]]


def test_a_score_equal_to_the_threshold_is_declined() -> None:
    # given one applicant scoring exactly the threshold
    table = build_score_table([0, 1, 0], [0.2, 0.5, 0.7])
    # when the threshold is 0.5
    point = policy_at(table, 0.5)
    # then only the 0.2 applicant is approved
    assert point.approved == 1 and point.bads_declined == 1


def test_expected_profit_and_loss(labelled) -> None:
    # given a loss per bad and a profit per good
    labels, scores = labelled
    table = build_score_table(labels, scores)
    # when the policy is looked up with them
    point = policy_at(table, 0.3, loss_per_bad=5_000, profit_per_good=800)
    # then loss and profit follow the approved counts
    approved = scores < 0.3
    bads, goods = labels[approved].sum(), (1 - labels[approved]).sum()
    assert point.expected_loss == 5_000 * bads
    assert point.expected_profit == 800 * goods - 5_000 * bads
    # and without economics there is no profit figure
    assert policy_at(table, 0.3).expected_profit is None


@pytest.mark.parametrize("target", [0.5, DEFAULT_TARGET_APPROVAL_RATE, 0.97])
def test_threshold_for_a_target_approval_rate(labelled, target: float) -> None:
    # given tied scores
    labels, scores = labelled
    table = build_score_table(labels, scores)
    # when asked for the threshold giving the target approval rate
    point = threshold_for_approval_rate(table, target)
    # then applying that threshold gives the promised rate
    assert (scores < point.threshold).mean() == pytest.approx(point.approval_rate)
    # and no other cut-off comes closer to the target
    achievable = np.array([(scores < s).mean() for s in np.unique(scores)] + [1.0])
    assert abs(point.approval_rate - target) == pytest.approx(np.abs(achievable - target).min())


def test_profit_maximising_threshold_beats_every_other_cut(labelled) -> None:
    # given economics where a bad costs five goods' profit
    labels, scores = labelled
    table = build_score_table(labels, scores)
    # when the profit-maximising threshold is found
    best = profit_maximising_threshold(table, loss_per_bad=5_000, profit_per_good=1_000)
    # then no cut-off (brute force over all distinct scores) earns more
    profits = []
    for cut in [*np.unique(scores), 1.0]:
        approved = scores < cut
        profits.append(1_000 * (1 - labels[approved]).sum() - 5_000 * labels[approved].sum())
    assert best.expected_profit == max(profits)
    assert 0.0 < best.threshold < 1.0


def test_policy_curve_is_monotone_in_approval(labelled) -> None:
    # given a table
    table = build_score_table(*labelled)
    # when the policy curve is drawn / then the approval rate rises with the threshold to 100%
    curve = policy_curve(table)
    assert curve["approval_rate"].is_monotonic_increasing
    assert curve["approval_rate"].iloc[-1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: policy_at(t, 0.0), "outside \\(0, 1\\)"),
        (lambda t: policy_at(t, 1.2), "outside \\(0, 1\\)"),
        (lambda t: policy_at(t, 0.5, loss_per_bad=-1, profit_per_good=1), "negative"),
        (lambda t: threshold_for_approval_rate(t, 0.0), "Target approval rate"),
    ],
)
def test_invalid_policy_inputs_are_refused(labelled, call, message: str) -> None:
    # given a table / when asked something impossible / then a clear error
    with pytest.raises(DataValidationError, match=message):
        call(build_score_table(*labelled))


def test_the_precomputed_table_cannot_be_modified(labelled) -> None:
    # given a (cacheable) score table
    table = build_score_table(*labelled)
    # when a caller tries to write into it / then numpy refuses
    with pytest.raises(ValueError, match="read-only"):
        table.cum_bads[0] = 5


def test_the_policy_grid_gives_policy_at_counts_at_every_grid_threshold() -> None:
    # given scores with ties, some exactly on grid thresholds, and their table
    rng = np.random.default_rng(7)
    scores = np.r_[rng.random(2_000), rng.integers(1, 10_000, 500) / 10_000, [0.5] * 50]
    labels = rng.integers(0, 2, len(scores))
    table = build_score_table(labels, scores)
    # when the grid is exported
    grid = policy_grid(table)
    # then every grid threshold's counts (and the control's 4-decimal value) equal policy_at's
    for index in [1, 2, 5_000, 9_998, 9_999, *rng.integers(1, 10_000, 300)]:
        point = policy_at(table, round(index / grid.steps, 4))
        assert grid.counts_at(int(index)) == (point.bads_approved, point.goods_approved)
    assert (grid.n_bads, grid.n_goods) == (table.n_bads, table.n_goods)
    assert grid.as_json()["starts"][0] == 1
