"""Outcomes by group: approval rates, the adverse impact ratio and AUC per group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from core.evaluation.fairness import (
    FAVOURED,
    FOUR_FIFTHS,
    SPANS,
    TOO_FEW,
    group_labels,
    outcomes_by_group,
)


def _book() -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Two groups: A scored low (mostly approved), B scored high (often declined)."""
    rng = np.random.default_rng(3)
    groups = pd.Series(["A"] * 600 + ["B"] * 400)
    scores = np.concatenate([rng.uniform(0.0, 0.6, 600), rng.uniform(0.2, 0.9, 400)])
    labels = (rng.random(1000) < scores * 0.5).astype(int)
    return labels, scores, groups


def test_approval_rates_and_adverse_impact_match_a_hand_count() -> None:
    # given a book with two groups and a threshold
    labels, scores, groups = _book()
    # when outcomes are computed by group
    outcomes = outcomes_by_group(labels, scores, groups, 0.45, "group")
    table = outcomes.table.set_index("group")
    # then each number equals the direct computation on that group's rows
    for name in ("A", "B"):
        rows = (groups == name).to_numpy()
        approved = scores[rows] < 0.45
        assert table.at[name, "applicants"] == rows.sum()
        assert table.at[name, "approval_rate"] == pytest.approx(approved.mean())
        assert table.at[name, "bad_rate_approved"] == pytest.approx(labels[rows][approved].mean())
        assert table.at[name, "auc"] == pytest.approx(roc_auc_score(labels[rows], scores[rows]))
    # and the adverse impact ratio is against the most favoured group, with the 4/5 rule
    assert outcomes.most_favoured == "A"
    ratio = table.at["B", "approval_rate"] / table.at["A", "approval_rate"]
    assert table.at["B", "adverse_impact_ratio"] == pytest.approx(ratio)
    assert (ratio < FOUR_FIFTHS) == ("B" in outcomes.below_four_fifths)


def test_a_group_with_one_class_has_no_auc_and_numbers_are_banded() -> None:
    # given a group with no bads, and an age-like numeric attribute with many values
    labels, scores, groups = _book()
    labels = np.where(groups == "A", 0, labels)
    outcomes = outcomes_by_group(labels, scores, groups, 0.45, "group")
    # then that group's AUC is missing rather than wrong
    assert np.isnan(outcomes.table.set_index("group").at["A", "auc"])
    ages = pd.Series(np.random.default_rng(1).integers(18, 80, 1000))
    assert group_labels(ages).nunique() == 4
    assert group_labels(pd.Series([1, 2, None])).tolist() == ["1.0", "2.0", "(missing)"]


def _groups(sizes: dict[str, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Groups of (applicants, approved): approved rows score 0.1, declined 0.9."""
    names, scores = [], []
    for name, (n, approved) in sizes.items():
        names += [name] * n
        scores += [0.1] * approved + [0.9] * (n - approved)
    return np.zeros(len(names), dtype=int), np.asarray(scores), pd.Series(names)


def test_a_group_of_12_is_too_few_to_judge() -> None:
    # given a large favoured group, and a group of 12 approved at half its rate
    labels, scores, groups = _groups({"A": (400, 360), "B": (12, 5)})
    # when the four-fifths check runs with the default minimum size (30)
    outcomes = outcomes_by_group(labels, scores, groups, 0.5, "group")
    table = outcomes.table.set_index("group")
    # then the small group is not flagged: it is too few to judge
    assert table.at["B", "verdict"] == TOO_FEW
    assert outcomes.below_four_fifths == []
    assert table.at["A", "verdict"] == FAVOURED


def test_the_flag_fires_only_when_the_whole_katz_interval_is_below_four_fifths() -> None:
    # given a group of 40 at AIR 0.74 (its interval spans 0.8) and one of 300 at AIR 0.60
    labels, scores, groups = _groups({"A": (400, 360), "B": (40, 27), "C": (300, 162)})
    outcomes = outcomes_by_group(labels, scores, groups, 0.5, "group")
    table = outcomes.table.set_index("group")
    # then the Katz log interval is ln(AIR) ± 1.96·sqrt(1/a − 1/n + 1/c − 1/m)
    half = 1.959964 * np.sqrt(1 / 162 - 1 / 300 + 1 / 360 - 1 / 400)
    air = (162 / 300) / (360 / 400)
    assert table.at["C", "air_low"] == pytest.approx(air * np.exp(-half), rel=1e-5)
    assert table.at["C", "air_high"] == pytest.approx(air * np.exp(half), rel=1e-5)
    # and only C, whose whole interval is below 0.8, is flagged; B cannot be told
    assert outcomes.below_four_fifths == ["C"]
    assert table.at["B", "verdict"] == SPANS
    assert table.at["B", "air_low"] < FOUR_FIFTHS < table.at["B", "air_high"]


def test_age_bands_read_as_plain_ranges() -> None:
    # given whole-number ages
    ages = pd.Series(np.random.default_rng(1).integers(19, 76, 1000))
    labels = set(group_labels(ages))
    # then the bands are plain ranges such as "19–32", with no fractional edges
    assert len(labels) == 4
    assert all("." not in label and "–" in label for label in labels), labels
    lows = sorted(int(label.split("–")[0]) for label in labels)
    assert lows[0] == 19
