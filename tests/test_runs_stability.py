"""The stability rule, the recommendation and the champion comparison."""

from __future__ import annotations

import pandas as pd
import pytest

from core.record.manifest import PromotionManifest
from core.runs.analysis import champion_comparison
from core.runs.recommendation import recommend_run
from core.runs.stability import (
    INCONCLUSIVE,
    NO_CV,
    STABLE,
    UNSTABLE,
    StabilityRule,
    stability_flags,
)


def _runs(rows: list[dict]) -> pd.DataFrame:
    """A runs table with the columns the rule and recommendation read."""
    base = {"status": "FINISHED", "has_model": True, "cv_auc_min": None}
    return pd.DataFrame([{**base, **row} for row in rows])


RUNS = _runs(
    [
        # stable, best val_auc among stable
        {"run_id": "a", "run_name": "a", "metrics.val_auc": 0.80, "cv_auc_mean": 0.79,
         "cv_auc_std": 0.005, "cv_auc_min": 0.78},
        # best val_auc overall but its std is too high
        {"run_id": "b", "run_name": "b", "metrics.val_auc": 0.85, "cv_auc_mean": 0.80,
         "cv_auc_std": 0.03, "cv_auc_min": 0.76},
        # low std but one fold far below the mean
        {"run_id": "c", "run_name": "c", "metrics.val_auc": 0.84, "cv_auc_mean": 0.80,
         "cv_auc_std": 0.009, "cv_auc_min": 0.77},
        # no CV at all
        {"run_id": "d", "run_name": "d", "metrics.val_auc": 0.90, "cv_auc_mean": None,
         "cv_auc_std": None},
        # stable, lower val_auc
        {"run_id": "e", "run_name": "e", "metrics.val_auc": 0.78, "cv_auc_mean": 0.77,
         "cv_auc_std": 0.002, "cv_auc_min": 0.765},
    ]
)  # fmt: skip


def test_flags_follow_both_parts_of_the_rule() -> None:
    # given runs with low std, high std, a bad worst fold and no CV
    # when the default rule flags them
    flags = stability_flags(RUNS, StabilityRule())
    # then each part of the rule can make a run unstable
    assert list(flags) == [STABLE, UNSTABLE, UNSTABLE, NO_CV, STABLE]


def test_boundary_values_count_as_stable() -> None:
    # given a run exactly on both limits
    runs = _runs([{"cv_auc_mean": 0.80, "cv_auc_std": 0.01, "cv_auc_min": 0.78}])
    # when flagged
    # then it is stable (the rule uses ≤ and ≥)
    assert list(stability_flags(runs, StabilityRule(0.01, 0.02))) == [STABLE]


def test_loosening_the_rule_changes_the_flags() -> None:
    # given a looser rule
    rule = StabilityRule(max_std=0.05, max_worst_fold_drop=0.05)
    # when flagged
    flags = stability_flags(RUNS, rule)
    # then the formerly unstable runs are stable
    assert list(flags) == [STABLE, STABLE, STABLE, NO_CV, STABLE]


def test_recommendation_is_best_stable_run_with_reason() -> None:
    # given the runs above
    # when a run is recommended by val_auc
    rec = recommend_run(RUNS, StabilityRule())
    # then the best stable run wins, and the reason says why the better ones were set aside
    assert rec.run_id == "a"
    assert rec.value == pytest.approx(0.80)
    assert "highest val_auc" in rec.reason
    assert "2 unstable run(s) were set aside" in rec.reason


def test_recommendation_skips_failed_runs_and_runs_without_model() -> None:
    # given the best stable run failed and the next has no model
    runs = RUNS.copy()
    runs.loc[0, "status"] = "FAILED"
    runs.loc[4, "has_model"] = False
    # when a run is recommended
    rec = recommend_run(runs, StabilityRule())
    # then nothing qualifies and the reason says so
    assert rec.run_id is None
    assert "is stable" in rec.reason


def test_recommendation_minimises_losses() -> None:
    # given a loss metric
    runs = RUNS.assign(**{"metrics.val_logloss": [0.40, 0.30, 0.35, 0.20, 0.38]})
    # when a run is recommended by it
    rec = recommend_run(runs, StabilityRule(), "metrics.val_logloss")
    # then the lowest loss among stable runs wins
    assert rec.run_id == "e"
    assert "lowest val_logloss" in rec.reason


@pytest.mark.parametrize(
    "runs",
    [
        _runs([]).reindex(columns=["run_id", "status", "has_model"]),
        _runs([{"run_id": "f", "run_name": "f", "status": "FAILED", "has_model": False}]),
    ],
    ids=["no runs", "only failed runs"],
)
def test_recommendation_explains_when_nothing_can_be_recommended(runs: pd.DataFrame) -> None:
    # given no runs, or only failed runs without val_auc
    # when a run is recommended
    rec = recommend_run(runs, StabilityRule())
    # then there is none, and a reason
    assert rec.run_id is None
    assert "val_auc" in rec.reason


def _manifest(run_id: str, val_auc: float) -> PromotionManifest:
    """A minimal manifest naming a champion."""
    return PromotionManifest(
        run_id=run_id,
        run_name=f"champ-{run_id}",
        experiment_id="1",
        experiment_name="x",
        tracking_uri="file:./mlruns",
        model_uri=f"runs:/{run_id}/model",
        exported_model_path="deploy/model",
        exported_model_sha256="0" * 64,
        threshold=0.45,
        metrics={"val_auc": val_auc},
        promoted_by="me",
        promoted_at="2026-01-01T00:00:00Z",
        reason="test",
    )


def test_champion_comparison_states_the_difference() -> None:
    # given champion e (in the table) and a recommendation of a
    rec = recommend_run(RUNS, StabilityRule())
    # when compared
    sentence = champion_comparison(RUNS, rec, _manifest("e", 0.1))
    # then the table's value is used, not the manifest's, with the signed difference
    assert "better than the champion champ-e" in sentence
    assert "+0.0200" in sentence


def test_champion_comparison_uses_manifest_metrics_for_unknown_runs() -> None:
    # given a champion that is not in this experiment
    rec = recommend_run(RUNS, StabilityRule())
    # when compared
    sentence = champion_comparison(RUNS, rec, _manifest("zzz", 0.9))
    # then the manifest's metrics are used
    assert "worse than the champion" in sentence
    assert "-0.1000" in sentence
    assert champion_comparison(RUNS, rec, None) is None
    assert "already" in champion_comparison(RUNS, rec, _manifest("a", 0.8))


def test_inconclusive_runs_are_ranked_only_when_no_run_is_stable_and_say_so() -> None:
    # given the runs above, flagged so that a and e are inconclusive instead of stable
    flags = pd.Series([INCONCLUSIVE, UNSTABLE, INCONCLUSIVE, NO_CV, STABLE], index=RUNS.index)
    # when a stable run exists, then it is recommended and the inconclusive ones set aside
    rec = recommend_run(RUNS, StabilityRule(), flags=flags)
    assert rec.run_id == "e" and rec.ranked_flag == STABLE
    assert "2 inconclusive run(s)" in rec.reason
    # when no run is stable, then the best inconclusive run is recommended with the caveat
    flags[flags == STABLE] = INCONCLUSIVE
    rec = recommend_run(RUNS, StabilityRule(), flags=flags)
    assert rec.run_id == "c" and rec.ranked_flag == INCONCLUSIVE
    assert "of 3 CV-inconclusive run(s)" in rec.reason
    assert "the CV-stable gate will not pass them without a written force reason" in rec.reason
    # when every run is unstable or logged no CV, then nothing is recommended
    rec = recommend_run(RUNS, StabilityRule(), flags=flags.replace(INCONCLUSIVE, UNSTABLE))
    assert rec.run_id is None and "unstable or logged no CV" in rec.reason
