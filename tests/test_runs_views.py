"""Runs page decisions: ranking, column order, notes, selection sync, stability summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.runs import views
from core.runs.stability import StabilityRule, stability_verdicts


def _runs() -> pd.DataFrame:
    """Four runs: one without CV, one without a model, one running, one failed loss."""
    return pd.DataFrame(
        {
            "run_id": ["a", "b", "c", "d"],
            "run_name": ["a", "b", "c", "d"],
            "status": ["FINISHED", "FINISHED", "RUNNING", "FAILED"],
            "has_model": [True, False, True, True],
            "metrics.val_auc": [0.70, 0.90, np.nan, 0.80],
            "metrics.val_logloss": [0.5, 0.3, 0.2, np.nan],
            "cv_auc_mean": [0.71, np.nan, 0.75, 0.79],
            "cv_auc_std": [0.01, np.nan, 0.05, 0.002],
            "cv_auc_min": [0.70, np.nan, 0.70, 0.78],
            "cv_auc_n": [5, np.nan, 5, 5],
            "cv_source": ["step", None, "step", "summary"],
        }
    )


def test_ranking_puts_best_first_and_missing_last() -> None:
    runs = _runs()
    assert list(views.rank_runs(runs, "metrics.val_auc")["run_id"]) == ["b", "d", "a", "c"]
    assert list(views.rank_runs(runs, "metrics.val_logloss")["run_id"]) == ["c", "b", "a", "d"]


def test_column_order_drops_the_duplicate_headline_and_keeps_present_columns() -> None:
    present = ["run_name", "primary", "val_auc", "val_ks", "stability", "params.x", "run_id"]
    order = views.table_column_order("metrics.val_auc", ["params.x"], present)
    assert order == ["run_name", "primary", "val_ks", "stability", "params.x", "run_id"]
    assert "val_auc" in views.table_column_order("metrics.val_ks", [], present)


def test_notes_count_runs_without_cv_or_model() -> None:
    notes = views.table_notes(_runs())
    assert notes[0].startswith("1 run(s) logged no CV folds")
    assert notes[1].startswith("1 run(s) logged no model")
    assert len(notes) == 2
    assert "No run finished" in views.table_notes(_runs().assign(status="FAILED"))[-1]


def test_selection_sync_applies_ticks_and_keeps_filtered_out_runs() -> None:
    # given x selected but filtered out of the table, a and b selected and shown
    before, shown = ["x", "a", "b"], ["a", "b", "c"]
    # when b is unticked and c ticked
    after = views.sync_selection(before, shown, ticked={"a", "c"}, baseline={"a", "b"})
    # then x stays, b leaves, c joins at the end
    assert after == ["x", "a", "c"]
    assert views.sync_selection(before, shown, {"a", "b"}, {"a", "b"}) == before


def test_stability_summary_carries_the_verdict_numbers() -> None:
    runs = _runs().assign(**{"metrics.n_train": 8000.0, "metrics.val_bad_rate": 0.2})
    summary = views.stability_summary(runs, stability_verdicts(runs, StabilityRule()))
    assert list(summary["stability"]) == ["✔ stable", "— no CV logged", "⚠ unstable", "✔ stable"]
    assert summary.loc[0, "sizes"] == "estimated"
    assert 0 < summary.loc[0, "expected_std"] < 0.03
    assert summary.loc[2, "p_value"] < 0.05
    assert views.folds_to_fetch(runs, pd.DataFrame({"run_id": ["a"]})) == ["c", "d"]


def test_caption_mentions_children_only_when_there_are_some() -> None:
    assert "nested child" not in views.runs_caption(3, 0, "exp")
    assert "2 nested child run(s)" in views.runs_caption(3, 2, "exp")
