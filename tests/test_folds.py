"""Fold extraction under the three conventions (step, named, child) and its summary."""

from __future__ import annotations

import math

import pytest

from core.store import folds as fold_lib
from core.store.filestore_reader import RawRun
from core.store.runs_table import PARENT_TAG, build_runs_table


def _raw(run_id: str, *, metrics=None, history=None, tags=None, params=None) -> RawRun:
    """A finished RawRun with the given metrics, history, tags and params."""
    return RawRun(
        run_id=run_id,
        experiment_id="1",
        run_name=run_id,
        status="FINISHED",
        start_time=1_700_000_000_000,
        end_time=1_700_000_060_000,
        lifecycle_stage="active",
        user="tester",
        params=params or {},
        metrics=metrics or {},
        history=history or {},
        tags=tags or {},
    )


def test_step_convention_keeps_last_value_per_step() -> None:
    # given cv_auc logged with step = fold, fold 1 logged twice
    history = {"cv_auc": [(0, 0.80), (1, 0.70), (1, 0.82), (2, 0.84)], "val_auc": [(0, 0.9)]}
    # when folds are extracted
    rows = fold_lib.folds_from_history("r1", history)
    # then one row per fold, the later value wins, and val_auc is not a fold
    assert rows == [
        ("r1", "auc", 0, 0.80, "step"),
        ("r1", "auc", 1, 0.82, "step"),
        ("r1", "auc", 2, 0.84, "step"),
    ]


def test_step_metric_with_a_single_step_is_not_cv() -> None:
    # given cv_auc logged once (a summary, not folds)
    # when folds are extracted
    rows = fold_lib.folds_from_history("r1", {"cv_auc": [(0, 0.8)]})
    # then there are no folds
    assert rows == []


@pytest.mark.parametrize(
    ("name", "metric", "fold"),
    [
        ("cv_auc_fold_0", "auc", 0),
        ("auc_fold3", "auc", 3),
        ("fold_1_auc", "auc", 1),
        ("fold2_val_ks", "ks", 2),
        ("cv_ks_4", "ks", 4),
    ],
)
def test_named_convention_recognises_common_spellings(name: str, metric: str, fold: int) -> None:
    # given one metric per fold, named the way other code names them
    # when folds are extracted
    rows = fold_lib.folds_from_history("r1", {name: [(0, 0.5), (3, 0.75)]})
    # then the fold index and metric come from the name and the last value is used
    assert rows == [("r1", metric, fold, 0.75, "named")]


def test_child_convention_uses_fold_hint_else_start_order() -> None:
    # given three nested runs, one with a fold tag and two without
    children = [
        fold_lib.ChildRun("c-late", 300, {"auc": 0.70, "ks": 0.30}),
        fold_lib.ChildRun("c-tagged", 200, {"val_auc": 0.72}, fold_hint="7"),
        fold_lib.ChildRun("c-early", 100, {"roc_auc": 0.74, "ks": float("nan")}),
    ]
    # when folds are extracted
    rows = fold_lib.folds_from_children("p", children)
    # then the tagged child keeps its fold, the others are ranked by start time, NaN is dropped
    assert sorted(rows) == sorted(
        [
            ("p", "auc", 0, 0.74, "child"),
            ("p", "auc", 7, 0.72, "child"),
            ("p", "auc", 2, 0.70, "child"),
            ("p", "ks", 2, 0.30, "child"),
        ]
    )


def test_child_fold_hint_reads_tags_before_params() -> None:
    # given a fold in both a tag and a param
    # when the hint is read
    hint = fold_lib.child_fold_hint({"fold": "2"}, {"fold": "5"})
    # then the tag wins; with neither there is no hint
    assert hint == "2"
    assert fold_lib.child_fold_hint({}, {"lr": "0.1"}) is None


def test_first_convention_wins_when_a_run_logs_two() -> None:
    # given a run with step folds and named folds
    rows = [
        ("r", "auc", 0, 0.8, "named"),
        ("r", "auc", 0, 0.7, "step"),
        ("r", "auc", 1, 0.9, "step"),
    ]
    # when the folds table is built
    frame = fold_lib.folds_frame(rows)
    # then only the step convention is kept
    assert set(frame["source"]) == {"step"}
    assert list(frame["value"]) == [0.7, 0.9]


def test_runs_table_groups_children_and_summarises_each_convention() -> None:
    # given a step run, a named run, and a parent with two child runs
    raws = [
        _raw("step", history={"cv_auc": [(0, 0.80), (1, 0.82), (2, 0.84)]}),
        _raw("named", metrics={"cv_auc_fold_0": 0.7, "cv_auc_fold_1": 0.9}),
        _raw("parent", metrics={"val_auc": 0.8}),
        _raw("kid0", metrics={"auc": 0.6}, tags={PARENT_TAG: "parent", "fold": "0"}),
        _raw("kid1", metrics={"auc": 0.8}, tags={PARENT_TAG: "parent", "fold": "1"}),
    ]
    raws[1] = _raw(
        "named",
        metrics=raws[1].metrics,
        history={k: [(0, v)] for k, v in raws[1].metrics.items()},
    )
    # when the runs table is built
    table = build_runs_table(raws)
    runs = table.runs.set_index("run_id")
    # then children are not rivals, and each parent has its fold statistics and source
    assert set(runs.index) == {"step", "named", "parent"}
    assert runs.loc["parent", "n_child_runs"] == 2
    assert set(table.children["run_id"]) == {"kid0", "kid1"}
    assert runs.loc["step", "cv_auc_mean"] == pytest.approx(0.82)
    assert runs.loc["step", "cv_auc_std"] == pytest.approx(0.02)
    assert runs.loc["named", "cv_auc_min"] == pytest.approx(0.7)
    assert runs.loc["parent", "cv_auc_max"] == pytest.approx(0.8)
    assert dict(runs["cv_source"]) == {"step": "step", "named": "named", "parent": "child"}
    assert math.isnan(runs.loc["step", "cv_ks_mean"])


def test_logged_summary_fills_in_when_no_folds() -> None:
    # given a run that logged only cv_auc_mean and cv_auc_std
    raws = [_raw("s", metrics={"cv_auc_mean": 0.81, "cv_auc_std": 0.004})]
    # when the runs table is built
    runs = build_runs_table(raws).runs
    # then the summary is used and says so
    assert runs.loc[0, "cv_auc_mean"] == pytest.approx(0.81)
    assert runs.loc[0, "cv_source"] == "summary"


def test_user_tags_become_columns_but_mlflow_tags_do_not() -> None:
    # given a run with a user tag and a system tag
    raws = [_raw("t", tags={"team": "risk", "mlflow.source.name": "x.py"})]
    # when the runs table is built
    table = build_runs_table(raws)
    # then only the user tag is a column
    assert table.tag_columns == ["tags.team"]
