"""Drift and monitoring core: PSI against a hand computation, bins, decisions, reports."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.data.synthetic import make_recent_applications, make_synthetic_credit_data
from core.errors import DataValidationError
from core.monitoring.drift import (
    MISSING_BIN,
    OTHER_BIN,
    decision_summary,
    distribution_comparison,
    drift_status,
    feature_drift,
    performance_alert,
    population_stability_index,
    summary_by_period,
)


def test_psi_matches_a_hand_computation() -> None:
    ref, cur = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert population_stability_index(ref, cur) == pytest.approx(expected, abs=1e-12)
    assert population_stability_index(ref, ref) == 0.0


@pytest.mark.parametrize(("psi", "status"), [(0.0, "stable"), (0.1, "moderate shift"),
                                             (0.25, "significant shift")])  # fmt: skip
def test_status_bands(psi: float, status: str) -> None:
    assert drift_status(psi) == status


def test_numeric_bins_are_reference_deciles_with_a_missing_bin() -> None:
    reference = pd.Series(np.r_[np.arange(100.0), [np.nan] * 10])
    recent = pd.Series(np.r_[np.arange(50.0), [np.nan] * 50])
    table = distribution_comparison(reference, recent, categorical=False)
    assert table["reference_count"].sum() == 110 and table["recent_count"].sum() == 100
    assert table["reference_share"].sum() == pytest.approx(1.0)
    assert table.iloc[-1]["bin"] == MISSING_BIN and table.iloc[-1]["recent_share"] == 0.5
    assert (table["reference_count"].iloc[:-1] == 10).all()


def test_unseen_categories_get_their_own_bin() -> None:
    table = distribution_comparison(
        pd.Series(["a", "b", "a"]), pd.Series(["a", "zzz", None]), categorical=True
    )
    counts = dict(zip(table["bin"], table["recent_count"], strict=True))
    assert counts == {"a": 1, "b": 0, OTHER_BIN: 1, MISSING_BIN: 1}


def test_feature_drift_finds_the_shifted_features() -> None:
    base = make_synthetic_credit_data(6_000, seed=1)
    drifted = make_synthetic_credit_data(6_000, seed=2, drift=1.5)
    same = make_synthetic_credit_data(6_000, seed=3)
    features = [c for c in base.columns if c not in ("applicant_id", "default")]
    categorical = ["home_ownership", "loan_purpose"]
    shifted = feature_drift(base[features], drifted[features], categorical).set_index("feature")
    stable = feature_drift(base[features], same[features], categorical)
    assert shifted.loc["credit_score", "status"] != "stable"
    assert shifted.loc["revolving_utilization", "psi"] > 0.25
    assert (stable["status"] == "stable").all()


def test_decision_summary_and_alert() -> None:
    scores = np.array([0.1, 0.2, 0.6, 0.9])
    labels = np.array([0, 1, 1, 1])
    summary = decision_summary(scores, 0.5, labels)
    assert summary.approval_rate == 0.5 and summary.bad_rate_approved == 0.5
    assert summary.auc == pytest.approx(1.0) and summary.bad_rate == 0.75
    worse = decision_summary(np.array([0.9, 0.2, 0.6, 0.1]), 0.5, labels)
    assert performance_alert(summary, worse).alert
    assert not performance_alert(summary, summary).alert
    unlabelled = decision_summary(scores, 0.5)
    assert "no usable labels" in performance_alert(summary, unlabelled).message
    with pytest.raises(DataValidationError):
        decision_summary(np.array([]), 0.5)


def test_summary_by_period_counts_each_month() -> None:
    recent = make_recent_applications(n_rows=600, months=3)
    scores = np.linspace(0, 1, len(recent))
    table = summary_by_period(recent["application_date"], scores, 0.5, recent["default"].to_numpy())
    assert table["period"].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert table["applications"].sum() == 600
    with pytest.raises(DataValidationError, match="holds no dates"):
        summary_by_period(pd.Series(["x"] * 3, name="when"), scores[:3], 0.5)


def test_recent_data_drifts_and_defaults_more_over_time() -> None:
    recent = make_recent_applications(n_rows=12_000, months=6, max_drift=1.0)
    by_month = recent.groupby(recent["application_date"].dt.month)
    assert by_month["credit_score"].mean().iloc[-1] < by_month["credit_score"].mean().iloc[0] - 20
    assert by_month["default"].mean().iloc[-1] > by_month["default"].mean().iloc[0]
