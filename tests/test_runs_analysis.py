"""Runs page computations: filters, comparison, gaps, param effects, the table view."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from core.runs import analysis as ra
from core.runs.labels import run_labels
from core.runs.param_effects import param_effects
from core.runs.stability import StabilityRule, stability_flags


def _runs() -> pd.DataFrame:
    """Six runs with mixed params, a metric some runs lack, a failed run and a tag."""
    rows = [
        ("r1", "alpha", "FINISHED", "31", "0.05", "dart", 0.80, 0.86, "v1"),
        ("r2", "beta", "FINISHED", "63", "0.10", "gbdt", 0.82, 0.90, "v1"),
        ("r3", "gamma", "FINISHED", "127", "0.10", "gbdt", 0.84, None, None),
        ("r4", "delta", "FINISHED", "15", "auto", "dart", 0.78, 0.84, "v2"),
        ("r5", "epsilon", "FINISHED", "255", "0.20", "gbdt", 0.86, 0.95, None),
        ("r6", "crashed", "FAILED", "abc", None, None, None, None, None),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "run_id",
            "run_name",
            "status",
            "params.num_leaves",
            "params.learning_rate",
            "params.boosting",
            "metrics.val_auc",
            "metrics.train_auc",
            "tags.team",
        ],
    )
    frame["start_time"] = pd.to_datetime("2026-01-01", utc=True) + pd.to_timedelta(
        range(len(frame)), unit="h"
    )
    frame["has_model"] = frame["status"] == "FINISHED"
    frame["data_version"] = "d1"
    frame["n_child_runs"] = 0
    frame["cv_auc_mean"] = [0.79, 0.81, None, 0.77, 0.85, None]
    frame["cv_auc_std"] = [0.004, 0.03, None, 0.002, 0.005, None]
    frame["cv_auc_min"] = [0.785, 0.77, None, 0.765, 0.84, None]
    frame["cv_ks_mean"] = [0.4, 0.41, None, 0.38, 0.45, None]
    return frame


@pytest.mark.parametrize(
    ("run_filter", "expected"),
    [
        (ra.RunFilter(), ["r1", "r2", "r3", "r4", "r5", "r6"]),
        (ra.RunFilter(search="ALP"), ["r1"]),
        (ra.RunFilter(search="r3"), ["r3"]),
        (ra.RunFilter(statuses=("FAILED",)), ["r6"]),
        (ra.RunFilter(tag="team=v1"), ["r1", "r2"]),
        (ra.RunFilter(tag="team"), ["r1", "r2", "r4"]),
        (ra.RunFilter(tag="nope=1"), []),
        (ra.RunFilter(param="params.learning_rate", param_values=("0.10", "auto")),
         ["r2", "r3", "r4"]),
        (ra.RunFilter(range_metric="metrics.val_auc", range_min=0.81), ["r2", "r3", "r5"]),
        (ra.RunFilter(range_metric="metrics.val_auc", range_min=0.81, range_max=0.845),
         ["r2", "r3"]),
        (ra.RunFilter(range_metric="metrics.train_auc", range_max=0.9), ["r1", "r2", "r4"]),
        (ra.RunFilter(search="a", statuses=("FINISHED",), tag="team=v1"), ["r1", "r2"]),
    ],
)  # fmt: skip
def test_filters(run_filter: ra.RunFilter, expected: list[str]) -> None:
    # given six runs
    # when a filter is applied
    shown = ra.apply_filter(_runs(), run_filter)
    # then exactly the matching runs remain (a metric range drops runs lacking the metric)
    assert list(shown["run_id"]) == expected


def test_filter_describes_itself() -> None:
    # given an active filter
    run_filter = ra.RunFilter(search="x", range_metric="metrics.val_auc", range_min=0.8)
    # when described
    # then each active part is named
    assert run_filter.describe() == ["name or id contains 'x'", "val_auc in [0.8, ∞]"]
    assert ra.RunFilter().describe() == []


def test_an_inverted_metric_range_is_named_and_not_applied() -> None:
    # given a search and a val_auc range whose minimum is above its maximum
    run_filter = ra.RunFilter(
        search="r", range_metric="metrics.val_auc", range_min=0.9, range_max=0.7
    )
    # when it is applied and described
    shown = ra.apply_filter(_runs(), run_filter)
    # then the cause is named with its fix, the range is left out and the search still applies
    assert run_filter.range_problem() == (
        "The minimum 0.9 is above the maximum 0.7 for val_auc: swap them. The range is not "
        "applied until then; the other filters are."
    )
    assert list(shown["run_id"]) == ["r1", "r2", "r3", "r4", "r5", "r6"]
    assert run_filter.describe() == ["name or id contains 'r'"]
    # and an ordered or open range has no problem
    assert (
        ra.RunFilter(range_metric="metrics.val_auc", range_min=0.7, range_max=0.7).range_problem()
        is None
    )
    assert ra.RunFilter(range_metric="metrics.val_auc", range_min=0.9).range_problem() is None


def test_primary_metric_options_put_headline_metrics_first() -> None:
    # given runs with val_auc, train_auc and CV stats but no val_ks
    # when the options are listed
    options = ra.primary_metric_options(_runs())
    # then val_auc leads, CV stats follow, absent metrics are not offered
    assert options[:3] == ["metrics.val_auc", "cv_auc_mean", "cv_ks_mean"]
    assert "metrics.train_auc" in options
    assert "metrics.val_ks" not in options


def test_compare_params_differences_only() -> None:
    # given two runs that share boosting but differ in the rest
    runs = _runs()
    # when compared with and without differences only
    full = ra.compare_params(runs, ["r2", "r3"])
    diff = ra.compare_params(runs, ["r2", "r3"], differences_only=True)
    # then columns follow the selection order and identical params drop out
    assert list(full.columns) == ["differs", "beta", "gamma"]
    assert set(full.index) == {"boosting", "learning_rate", "num_leaves"}
    assert list(diff.index) == ["num_leaves"]
    assert diff.loc["num_leaves"].tolist() == [True, "63", "127"]


def test_compare_params_shows_missing_as_empty() -> None:
    # given a failed run that lacks most params
    # when compared with a full run
    table = ra.compare_params(_runs(), ["r1", "r6"])
    # then its missing params are empty strings, never an error
    assert table.loc["learning_rate", "crashed"] == ""
    assert bool(table.loc["learning_rate", "differs"])


def test_compare_metrics_difference_to_first() -> None:
    # given three selected runs
    # when their metrics are compared
    table = ra.compare_metrics(_runs(), ["r2", "r1", "r3"])
    # then each later run has its difference to the first, NaN where a run lacks the metric
    assert table.loc["val_auc", "Δ alpha − beta"] == pytest.approx(-0.02)
    assert table.loc["val_auc", "Δ gamma − beta"] == pytest.approx(0.02)
    assert math.isnan(table.loc["train_auc", "Δ gamma − beta"])
    assert list(table.index[:3]) == ["val_auc", "train_auc", "cv_auc_mean"]
    assert table.index.is_unique


def test_compare_metrics_drops_fold_step_values_and_logged_duplicates() -> None:
    # given runs that also logged cv_auc per fold and cv_auc_mean as a metric
    runs = _runs().assign(**{"metrics.cv_auc": 0.8, "metrics.cv_auc_mean": 0.79})
    # when compared
    table = ra.compare_metrics(runs, ["r1", "r2"])
    # then the last fold is not passed off as a metric, and cv_auc_mean appears once
    assert "cv_auc" not in table.index
    assert list(table.index).count("cv_auc_mean") == 1


def test_labels_disambiguate_repeated_names() -> None:
    # given two runs with the same name
    runs = _runs()
    runs.loc[1, "run_name"] = "alpha"
    # when labelled
    labels = run_labels(runs, ["r1", "r2", "r3"])
    # then repeated names carry a short id
    assert labels == {"r1": "alpha (r1)", "r2": "alpha (r2)", "r3": "gamma"}


def test_auc_gaps() -> None:
    # given runs with train, CV and validation AUC
    # when gaps are computed
    gaps = ra.auc_gaps(_runs()).set_index("run_id")
    # then over-fitting shows as train minus CV
    assert gaps.loc["r5", "train_minus_cv"] == pytest.approx(0.10)
    assert gaps.loc["r1", "cv_minus_val"] == pytest.approx(-0.01)
    assert math.isnan(gaps.loc["r3", "train_minus_cv"])


def test_param_effects_handle_numeric_mixed_and_text_params() -> None:
    # given num_leaves rising with val_auc, learning_rate mixing numbers and 'auto', boosting text
    # when effects on val_auc are computed (the failed run is ignored)
    effects = param_effects(_runs(), "metrics.val_auc").set_index("param")
    # then num_leaves correlates perfectly, the text value is left out and said so
    assert effects.loc["num_leaves", "kind"] == "numeric"
    assert effects.loc["num_leaves", "effect"] == pytest.approx(1.0)
    assert effects.loc["num_leaves", "n_runs"] == 5
    assert effects.loc["learning_rate", "kind"] == "numeric"
    assert effects.loc["learning_rate", "n_runs"] == 4
    assert "1 text value(s) left out" in effects.loc["learning_rate", "note"]
    assert effects.loc["boosting", "kind"] == "categorical"
    assert 0 < effects.loc["boosting", "effect"] <= 1
    assert effects.index[0] == "num_leaves"
    # and a perfect correlation from five runs is still flagged as few runs, with its p-value
    assert effects.loc["num_leaves", "p_value"] < 0.05
    assert "only 5 runs" in effects.loc["num_leaves", "note"]
    assert effects["p_value"].between(0, 1).all()


def test_param_effects_need_enough_runs() -> None:
    # given only three finished runs
    # when effects are computed
    effects = param_effects(_runs().head(3), "metrics.val_auc")
    # then none are claimed
    assert effects.empty


def test_table_view_links_and_flags() -> None:
    # given runs and their flags
    runs = _runs()
    flags = stability_flags(runs, StabilityRule())
    # when the view is built with an extra column and page links
    view = ra.table_view(
        runs, "metrics.train_auc", flags, ["params.boosting"], link_paths={"diag": "/diagnostics"}
    )
    # then the primary metric, flags, extra column and per-run links are there
    assert view.loc[0, "diag"] == "/diagnostics?run_id=r1"
    assert view.loc[4, "primary"] == pytest.approx(0.95)
    assert list(view["stability"]) == [
        "stable",
        "unstable",
        "no CV logged",
        "stable",
        "stable",
        "no CV logged",
    ]
    assert view.loc[3, "params.boosting"] == "dart"
    assert view.columns[-1] == "run_id"
    assert "role" not in view.columns
    # when the promoted run is among them, then it alone is marked Champion
    marked = ra.table_view(runs, "metrics.train_auc", flags, champion="r4")
    assert marked.loc[marked["role"] != "", "run_id"].tolist() == ["r4"]
    assert marked.loc[marked["run_id"] == "r4", "role"].item() == ra.CHAMPION_ROLE
