"""Outcomes by group: approval rates, the adverse impact ratio and AUC per group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from core.evaluation.fairness import FOUR_FIFTHS, group_labels, outcomes_by_group


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
