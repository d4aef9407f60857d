"""Figure builders for Model diagnostics put the threshold where the policy says it is."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from core.charts import diagnostics as charts
from core.charts import explanations
from core.evaluation import curves as ev
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


def test_lift_gains_and_strategy_figures_are_built_from_the_numbers() -> None:
    # given a score table with a known bad rate
    rng = np.random.default_rng(5)
    scores = rng.random(4_000)
    labels = (rng.random(4_000) < scores * 0.4).astype(int)
    table = build_score_table(labels, scores)
    bands = ev.score_bands(table, n_bands=10)
    # then lift is each band's bad rate over the overall one, and gains end at 100%
    overall = labels.mean()
    np.testing.assert_allclose(bands["lift"], bands["bad_rate"] / overall)
    assert bands["cum_share"].iloc[-1] == pytest.approx(1.0)
    gains = charts.gains_figure(bands)
    assert gains.data[0].y[-1] == pytest.approx(1.0) and gains.data[0].x[0] == 0.0
    lift = charts.lift_figure(bands)
    np.testing.assert_allclose(lift.data[0].y, bands["lift"])
    # and the strategy curve marks the policy point where the policy says
    point = policy_at(table, 0.5)
    strategy = charts.strategy_figure(policy_curve(table), point)
    assert strategy.data[1].x[0] == pytest.approx(point.approval_rate)
    assert strategy.data[1].y[0] == pytest.approx(point.bad_rate_approved)


def test_policy_figure_bad_rate_axis_has_round_ticks() -> None:
    # given a policy whose bad rate tops out at an awkward value (14.7%)
    curve = pd.DataFrame(
        {"threshold": [0.1, 0.5, 0.9], "approval_rate": [0.2, 0.6, 1.0],
         "bad_rate_approved": [0.01, 0.08, 0.147]}
    )  # fmt: skip
    table = build_score_table([0, 1, 0, 1], [0.1, 0.5, 0.7, 0.9])
    figure = charts.policy_figure(curve, policy_at(table, 0.5))
    # then the right axis steps by a round 5% and starts at 0
    assert figure.layout.yaxis2.dtick == pytest.approx(0.05)
    assert figure.layout.yaxis2.range[0] == 0


def test_long_feature_names_fit_the_axis_and_keep_their_ends() -> None:
    # given a hostile, very long feature name
    name = "installment_rate_in_percentage_of_disposable_income"
    # when it labels a bar / then the label fits and still shows how it starts and ends
    label = explanations.short_label(name)
    assert len(label) <= charts.LABEL_LIMIT
    assert label.startswith("installment") and label.endswith("income")
    frame = pd.DataFrame({"feature": [name, "age"], "importance": [3.0, 1.0]})
    figure = explanations.bar_figure(frame, "importance", "Importance", "gain")
    assert list(figure.data[0].customdata) == ["age", name]
    assert figure.layout.yaxis.automargin is True


def test_marked_figures_are_valid_plotly_and_marks_change_nothing_else(table) -> None:
    # given the figures a threshold change redraws from figure data plus its marks (unvalidated)
    evaluation, curve = evaluate(table), policy_curve(table)
    low, high = policy_at(table, 0.2), policy_at(table, 0.6)
    builders = [
        lambda p: charts.roc_figure({"model": evaluation}, {"model": p}),
        lambda p: charts.ks_figure({"model": evaluation}, p.threshold),
        lambda p: charts.distribution_figure(evaluation, p.threshold),
        lambda p: charts.precision_recall_figure(evaluation, p),
        lambda p: charts.policy_figure(curve, p),
        lambda p: charts.strategy_figure(curve, p),
    ]
    for build in builders:
        at_low, at_high = build(low).to_dict(), build(high).to_dict()
        # then plotly's own validation accepts them as they are
        assert go.Figure(at_low).to_dict()["data"][0]["type"] == at_low["data"][0]["type"]
        # and two thresholds differ only in the marks, never in the curves
        n_base = min(len(at_low["data"]), len(at_high["data"]))
        curves_low = [t for t in at_low["data"][:n_base] if "threshold" not in t.get("name", "")]
        curves_high = [t for t in at_high["data"][:n_base] if "threshold" not in t.get("name", "")]
        assert json.dumps(curves_low, default=str) == json.dumps(curves_high, default=str)
    # and the threshold's label names the threshold it marks
    assert "threshold 0.6000" in json.dumps(charts.ks_figure({"model": evaluation}, 0.6).to_dict())
