"""ROC AUC, KS, precision-recall, Brier and score bands against sklearn, scipy and hand counts."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from core.errors import DataValidationError
from core.evaluation.curves import (
    auc_from_table,
    calibration,
    evaluate,
    ks_from_table,
    parse_band_edges,
    score_bands,
)
from core.evaluation.metrics import auc_score, ks_statistic
from core.evaluation.threshold_policy import build_score_table


def _synthetic(n: int, seed: int, decimals: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Labels with about 15% bads and informative scores (rounded to force ties if asked)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.15).astype(int)
    scores = 1 / (1 + np.exp(-(rng.normal(0, 1, n) + 1.3 * labels - 1.5)))
    return labels, scores if decimals is None else np.round(scores, decimals)


@pytest.mark.parametrize(
    ("n", "seed", "decimals"), [(50, 1, None), (5_000, 2, None), (20_000, 3, 2)]
)
def test_auc_equals_sklearn(n: int, seed: int, decimals: int | None) -> None:
    # given labels and scores, with heavy ties in the last case
    labels, scores = _synthetic(n, seed, decimals)
    # when the AUC is read from the score table
    auc = auc_from_table(build_score_table(labels, scores))
    # then it equals sklearn's roc_auc_score to 1e-9, and so does core.evaluation.metrics
    assert auc == pytest.approx(roc_auc_score(labels, scores), abs=1e-9)
    assert auc_score(labels, scores) == pytest.approx(auc, abs=1e-9)


@pytest.mark.parametrize(
    ("n", "seed", "decimals"), [(60, 4, None), (8_000, 5, None), (8_000, 6, 2)]
)
def test_ks_equals_scipy_two_sample(n: int, seed: int, decimals: int | None) -> None:
    # given labels and scores
    labels, scores = _synthetic(n, seed, decimals)
    # when KS is read from the score table
    ks, at_score = ks_from_table(build_score_table(labels, scores))
    # then it equals scipy's two-sample KS on the two classes' scores
    reference = ks_2samp(scores[labels == 1], scores[labels == 0])
    assert ks == pytest.approx(reference.statistic, abs=1e-12)
    assert ks_statistic(labels, scores) == pytest.approx(ks, abs=1e-12)
    # and the gap is reached at the score scipy reports
    assert at_score == pytest.approx(reference.statistic_location)


def test_hand_computed_case() -> None:
    # given 2 bads and 3 goods: bads score 0.8 and 0.4, goods 0.6, 0.4 and 0.1
    labels = np.array([1, 1, 0, 0, 0])
    scores = np.array([0.8, 0.4, 0.6, 0.4, 0.1])
    table = build_score_table(labels, scores)
    # when evaluated
    result = evaluate(table)
    # then AUC counts the 6 bad-good pairs: 0.8 beats all 3, 0.4 beats 0.1 and ties 0.4
    assert result.auc == pytest.approx((3 + 1 + 0.5) / 6)
    assert result.gini == pytest.approx(2 * 4.5 / 6 - 1)
    # and KS: at score <= 0.4 the bads' ECDF is 1/2, the goods' 2/3; at 0.1 it is 0 vs 1/3;
    # at 0.6 it is 1/2 vs 1: the largest gap is 1/2, first reached at 0.6
    assert result.ks == pytest.approx(0.5)
    assert result.ks_score == pytest.approx(0.6)
    # and Brier is the mean squared error
    expected_brier = np.mean((scores - labels) ** 2)
    assert result.brier == pytest.approx(expected_brier)
    assert result.n == 5 and result.n_bads == 2


def test_precision_recall_and_brier_equal_sklearn() -> None:
    # given labels and tied scores
    labels, scores = _synthetic(10_000, 7, decimals=3)
    # when evaluated
    result = evaluate(build_score_table(labels, scores))
    # then average precision and Brier equal sklearn's
    assert result.average_precision == pytest.approx(
        average_precision_score(labels, scores), abs=1e-9
    )
    assert result.brier == pytest.approx(brier_score_loss(labels, scores), abs=1e-12)


def test_curves_are_thinned_but_keep_their_ends() -> None:
    # given many distinct scores
    labels, scores = _synthetic(50_000, 8)
    # when evaluated
    result = evaluate(build_score_table(labels, scores))
    # then the ROC curve is short enough to plot and runs from (0, 0) to (1, 1)
    assert len(result.roc) <= 700
    assert result.roc.iloc[0][["fpr", "tpr"]].tolist() == [0.0, 0.0]
    assert result.roc.iloc[-1][["fpr", "tpr"]].tolist() == [1.0, 1.0]
    # and the KS curve holds the point where KS is reached
    gap = (result.ks_curve["cum_goods"] - result.ks_curve["cum_bads"]).abs().max()
    assert gap == pytest.approx(result.ks)
    # and the histogram counts every row
    assert int(result.distribution[["goods", "bads"]].to_numpy().sum()) == 50_000


@pytest.mark.parametrize("n_bands", [1, 3, 10, 20])
def test_quantile_bands_add_up_to_totals(n_bands: int) -> None:
    # given tied scores
    labels, scores = _synthetic(7_777, 9, decimals=2)
    table = build_score_table(labels, scores)
    # when cut into bands
    bands = score_bands(table, n_bands=n_bands)
    # then counts and bads add up, captures end at 100%, riskiest band first
    assert bands["count"].sum() == len(labels)
    assert bands["bads"].sum() == labels.sum()
    assert bands["goods"].sum() == len(labels) - labels.sum()
    assert bands["cum_bad_capture"].iloc[-1] == pytest.approx(1.0)
    assert bands["cum_good_capture"].iloc[-1] == pytest.approx(1.0)
    assert bands["score_min"].is_monotonic_decreasing
    # and each band's counts match a direct count of its score interval
    for band in bands.itertuples():
        inside = (scores >= band.score_min) & (scores <= band.score_max)
        assert inside.sum() == band.count
        assert labels[inside].sum() == band.bads
        assert scores[inside].mean() == pytest.approx(band.mean_score)
    # and band KS never exceeds the overall KS
    assert bands["ks"].max() <= ks_from_table(table)[0] + 1e-12


def test_deciles_hold_about_a_tenth_each_without_ties() -> None:
    # given distinct scores
    labels, scores = _synthetic(10_000, 10)
    # when cut into deciles
    bands = score_bands(build_score_table(labels, scores))
    # then each band holds 1,000 rows
    assert bands["count"].tolist() == [1_000] * 10


def test_custom_edges_make_bands_between_them() -> None:
    # given scores and the edges 0.2 and 0.5
    labels, scores = _synthetic(3_000, 11)
    table = build_score_table(labels, scores)
    # when banded by those edges
    bands = score_bands(table, edges=parse_band_edges("0.5, 0.2"))
    # then the three bands are [0.5, max], [0.2, 0.5) and [min, 0.2)
    assert bands["count"].tolist() == [
        int((scores >= 0.5).sum()),
        int(((scores >= 0.2) & (scores < 0.5)).sum()),
        int((scores < 0.2).sum()),
    ]


@pytest.mark.parametrize("text", ["0.2, abc", "0, 0.5", "1.5", ""])
def test_bad_band_edges_are_refused(text: str) -> None:
    # given edges that are not probabilities inside (0, 1)
    # when parsed / then a DataValidationError says how to write them
    with pytest.raises(DataValidationError, match=re.escape("0.1, 0.2, 0.5")):
        parse_band_edges(text)


def test_calibration_bins_cover_all_rows_and_follow_scores() -> None:
    # given well-calibrated scores (labels drawn from the scores)
    rng = np.random.default_rng(12)
    scores = rng.uniform(0.01, 0.9, 20_000)
    labels = (rng.random(20_000) < scores).astype(int)
    # when the reliability curve is computed
    curve = calibration(build_score_table(labels, scores))
    # then bins cover all rows, ascend in predicted PD, and observed tracks predicted
    assert curve["count"].sum() == 20_000
    assert curve["mean_predicted"].is_monotonic_increasing
    assert np.abs(curve["mean_predicted"] - curve["observed_bad_rate"]).max() < 0.05


def test_one_class_only_says_auc_is_undefined() -> None:
    # given only goods
    table = build_score_table(np.zeros(10, dtype=int), np.linspace(0.1, 0.9, 10))
    # when evaluated / then the error says AUC is undefined
    with pytest.raises(DataValidationError, match=r"only goods.*undefined"):
        evaluate(table)


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [
        ([0, 1, 2], [0.1, 0.2, 0.3], "0 \\(good\\) or 1"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "missing or infinite"),
        ([0, 1], [0.1, 0.2, 0.3], "do not line up"),
    ],
)
def test_invalid_labels_or_scores_are_refused(labels, scores, message: str) -> None:
    # given malformed labels or scores / when tabled / then a clear error
    with pytest.raises(DataValidationError, match=message):
        build_score_table(labels, scores)
