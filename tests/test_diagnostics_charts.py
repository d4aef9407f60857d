"""Figure builders for Model diagnostics put the threshold where the policy says it is."""

from __future__ import annotations

import numpy as np
import pytest

from core.charts import diagnostics as charts
from core.evaluation.curves import calibration, evaluate
from core.evaluation.threshold_policy import build_score_table, policy_at, policy_curve


@pytest.fixture(scope="module")
def table():
    """A score table of 2,000 applicants."""
    rng = np.random.default_rng(4)
    labels = (rng.random(2_000) < 0.2).astype(int)
    scores = 1 / (1 + np.exp(-(rng.normal(0, 1, 2_000) + 1.2 * labels - 1.3)))
    return build_score_table(labels, scores)


def test_roc_marker_sits_at_the_policy_point(table) -> None:
    # given the evaluation and the policy at 0.3
    evaluation, point = evaluate(table), policy_at(table, 0.3)
    # when the ROC figure is built
    fig = charts.roc_figure({"model": evaluation}, {"model": point})
    # then its marker is at (goods declined share, bads caught share)
    marker = next(t for t in fig.data if t.mode == "markers")
    assert marker.x[0] == pytest.approx(point.goods_declined / table.n_goods)
    assert marker.y[0] == pytest.approx(point.bads_declined / table.n_bads)
    assert "AUC" in fig.data[0].name


def test_score_axis_figures_draw_the_threshold_line(table) -> None:
    # given an evaluation, a policy point and its curve
    evaluation, point = evaluate(table), policy_at(table, 0.42)
    figures = [
        charts.ks_figure({"model": evaluation}, 0.42),
        charts.distribution_figure(evaluation, 0.42),
        charts.policy_figure(policy_curve(table), point),
    ]
    # when built / then each has one vertical line at the threshold
    for fig in figures:
        lines = [s for s in fig.layout.shapes if s.x0 == s.x1]
        assert [s.x0 for s in lines] == [0.42]


def test_calibration_and_pr_figures_carry_their_metrics(table) -> None:
    # given an evaluation
    evaluation = evaluate(table)
    # when the figures are built / then their legends state Brier and average precision
    calibration_fig = charts.calibration_figure(calibration(table), evaluation.brier)
    pr_fig = charts.precision_recall_figure(evaluation, policy_at(table, 0.5))
    assert f"{evaluation.brier:.4f}" in calibration_fig.data[0].name
    assert f"{evaluation.average_precision:.4f}" in pr_fig.data[0].name
