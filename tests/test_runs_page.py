"""AppTest of the Runs page: selection, diff-only, the stability rule, filters, shared links."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from mlflow.entities import Metric, Param, RunStatus
from mlflow.tracking import MlflowClient
from streamlit.testing.v1 import AppTest

from core.store.client import ensure_experiment
from tests.helpers.apptest_helpers import (
    exceptions,
    open_app,
    open_page,
    texts,
)
from tests.helpers.store_builders import EXPERIMENT

PAGE = "pages/runs.py"
TABLE_STATE = "_runs_table_previous"
COMPARE_TAB, EFFECTS_TAB = "Compare selected runs", "Which hyper-parameters matter"


def _runs_shown(at: AppTest) -> list[str]:
    """Run ids in the runs table, top to bottom."""
    return list(at.dataframe[0].value["run_id"])


def _tick_rows(at: AppTest, rows: list[int]) -> AppTest:
    """Tick rows of the runs table, as a click on their checkboxes does."""
    table_key = at.session_state[TABLE_STATE][0]
    at.session_state[table_key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def _open_tab(at: AppTest, label: str) -> AppTest:
    """Switch the analysis tabs, as a click on the tab does."""
    at.session_state["tab"] = label
    return at.run()


def _recommendation(at: AppTest) -> str:
    """The recommendation banner's text (success or warning)."""
    return " ".join(str(e.value) for e in [*at.success, *at.warning])


def test_page_lists_parents_and_ranks_by_val_auc(file_store, app_env) -> None:
    # given a file store with governed, seed-pattern and foreign runs
    app_env(file_store.uri)
    # when the Runs page opens
    at = open_page(PAGE)
    # then there is no exception, child runs are not rivals, and a stable run is recommended
    assert exceptions(at) == []
    view = at.dataframe[0].value
    shown = list(view["run_id"])
    assert set(file_store.governed) <= set(shown)
    assert file_store.foreign["deleted"] not in shown
    assert len(shown) == 8
    assert view["primary"].dropna().is_monotonic_decreasing
    assert view.loc[0, "diagnostics"] == f"/diagnostics?run_id={shown[0]}"
    assert view.loc[0, "whatif"] == f"/whatif?run_id={shown[0]}"
    assert "Recommended: governed_a" in _recommendation(at)
    assert "nested child run(s)" in texts(at)
    assert "No promotion manifest yet" in texts(at)


def test_absolute_rule_flags_the_small_books_noisy_folds(file_store, app_env) -> None:
    # given a link choosing the absolute rule (the small test runs have 3 noisy folds)
    app_env(file_store.uri)
    # when it is opened
    at = open_app({"rule": "absolute limits"})
    # then no run is stable by the fixed limits, which the noise-aware default passes
    assert exceptions(at) == []
    assert at.radio(key="rule").value == "absolute limits"
    assert "None of the 3 finished run(s) with a model and val_auc is stable" in _recommendation(at)


def test_ticking_rows_selects_runs_and_compares_them(file_store, app_env) -> None:
    # given the Runs page
    app_env(file_store.uri)
    at = open_page(PAGE)
    shown = _runs_shown(at)
    # when two governed runs are ticked in the table
    rows = [shown.index(r) for r in file_store.governed]
    at = _tick_rows(at, rows)
    at = _open_tab(at, COMPARE_TAB)
    # then they are the selection, in the URL as run ids, with links to their pages
    assert exceptions(at) == []
    assert at.multiselect(key="run").value == [shown[i] for i in sorted(rows)]
    assert at.query_params["run"] == [shown[i] for i in sorted(rows)]
    links = {(e.proto.page, e.proto.query_string) for e in at.get("page_link")}
    assert {
        (page, f"run_id={run_id}")
        for run_id in file_store.governed
        for page in ("diagnostics", "whatif")
    } <= {(page.rsplit("/", 1)[-1], query) for page, query in links}, links
    params = next(d.value for d in at.dataframe if "differs" in d.value.columns)
    assert {"num_leaves", "n_estimators", "cv_folds"} <= set(params.index)
    # when differences only is switched on
    at.toggle(key="diff").set_value(True).run()
    # then identical params (cv_folds=3 in both) are hidden and differing ones stay
    params = next(d.value for d in at.dataframe if "differs" in d.value.columns)
    assert "cv_folds" not in params.index
    assert "num_leaves" in params.index
    assert params["differs"].all()
    metrics = next(d.value for d in at.dataframe if any("Δ" in c for c in d.value.columns))
    assert "val_auc" in metrics.index


def test_unticking_a_row_removes_it_from_the_selection(file_store, app_env) -> None:
    # given two runs ticked
    app_env(file_store.uri)
    at = open_page(PAGE)
    shown = _runs_shown(at)
    at = _tick_rows(at, [0, 1])
    # when one is unticked
    at = _tick_rows(at, [1])
    # then only the other stays selected
    assert at.multiselect(key="run").value == [shown[1]]


def test_tightening_the_stability_rule_changes_flags_and_recommendation(
    file_store, app_env
) -> None:
    # given the page with a loose absolute rule (the small test runs have 3 noisy folds)
    app_env(file_store.uri)
    at = open_app({"rule": "absolute limits", "max_std": "0.05", "max_drop": "0.05"})
    assert "Recommended: governed_a" in _recommendation(at)
    # when std(CV AUC) must be 0
    at.number_input(key="max_std").set_value(0.0).run()
    # then no run with CV is stable and nothing is recommended, with the reason
    assert exceptions(at) == []
    flags = set(at.dataframe[0].value["stability"])
    assert "✔ stable" not in flags
    assert "⚠ unstable" in flags
    assert "No recommendation" in _recommendation(at)
    assert "std(CV AUC) ≤ 0" in _recommendation(at)


@pytest.mark.parametrize(
    ("key", "value", "expected_names"),
    [
        ("q", "governed", {"governed_a", "governed_b"}),
        ("status", ["FAILED"], {"crashed_run"}),
        ("tag", "note=html name", {"<b>bold</b><script>x</script>"}),
    ],
)
def test_filters_narrow_the_table(file_store, app_env, key, value, expected_names) -> None:
    # given the page
    app_env(file_store.uri)
    at = open_page(PAGE)
    # when a filter is set
    widget = at.text_input(key=key) if key in ("q", "tag") else at.multiselect(key=key)
    at = widget.set_value(value).run()
    # then only the matching runs are shown, and the page says how many are hidden
    assert exceptions(at) == []
    assert set(at.dataframe[0].value["run_name"]) == expected_names
    assert f"Showing {len(expected_names)} of 8 runs" in texts(at)


def test_a_search_that_matches_nothing_says_so(file_store, app_env) -> None:
    # given the page, when a search matches no run
    app_env(file_store.uri)
    at = open_page(PAGE).text_input(key="q").set_value("no such run").run()
    # then it says no run matches and that there is nothing to recommend, not a wrong reason
    assert exceptions(at) == []
    assert "No run matches these filters" in texts(at)
    assert "There is no run to rank by val_auc." in _recommendation(at)
    assert "No run logged" not in texts(at)


def test_param_and_metric_range_filters(file_store, app_env) -> None:
    # given the page
    app_env(file_store.uri)
    at = open_page(PAGE)
    # when runs are narrowed to num_leaves 15 or 31, then to val_auc >= 0.8
    at.selectbox(key="param").set_value("params.num_leaves").run()
    at.multiselect(key="pval").set_value(["15", "31"]).run()
    names = set(at.dataframe[0].value["run_name"])
    at.selectbox(key="range").set_value("metrics.val_auc").run()
    at.number_input(key="min").set_value(0.8).run()
    # then each filter keeps only the runs that satisfy it
    assert exceptions(at) == []
    assert {"governed_a", "named_folds", "lgb_credit_risk"} <= names
    assert "crashed_run" not in names
    kept = at.dataframe[0].value
    assert (kept["val_auc"] >= 0.8).all()
    assert "val_auc in [0.8, ∞]" in texts(at)


def test_an_inverted_metric_range_is_named_and_keeps_the_other_filters(file_store, app_env) -> None:
    # given the page narrowed to the governed runs by a search
    app_env(file_store.uri)
    at = open_page(PAGE)
    at.text_input(key="q").set_value("governed").run()
    # when a val_auc range is set with its minimum above its maximum
    at.selectbox(key="range").set_value("metrics.val_auc").run()
    at.number_input(key="max").set_value(0.7).run()
    at.number_input(key="min").set_value(0.9).run()
    # then the page names the cause and the fix, and still shows the searched runs
    assert exceptions(at) == []
    warnings = " ".join(str(w.value) for w in at.warning)
    assert "The minimum 0.9 is above the maximum 0.7 for val_auc: swap them." in warnings
    assert set(at.dataframe[0].value["run_name"]) == {"governed_a", "governed_b"}
    assert "Showing 2 of" in texts(at)
    assert "No run matches these filters" not in texts(at)
    # and the inputs keep what the user typed
    assert (at.number_input(key="min").value, at.number_input(key="max").value) == (0.9, 0.7)


def test_shared_link_restores_selection_filters_and_rule(file_store, app_env) -> None:
    # given a link carrying two selected runs, a search, a primary metric and a rule
    app_env(file_store.uri)
    first, second = file_store.governed
    # when it is opened
    at = open_app(
        {
            "run": [first, second],
            "q": "governed",
            "metric": "cv_auc_mean",
            "max_std": "0.5",
            "max_drop": "0.5",
            "tab": COMPARE_TAB,
        }
    )
    # then the page shows exactly that view
    assert exceptions(at) == []
    assert at.multiselect(key="run").value == [first, second]
    assert set(at.dataframe[0].value["run_name"]) == {"governed_a", "governed_b"}
    assert at.selectbox(key="metric").value == "cv_auc_mean"
    assert at.number_input(key="max_std").value == 0.5
    assert "highest cv_auc_mean" in _recommendation(at)
    assert "among the 2 runs shown" in _recommendation(at)
    assert any("differs" in d.value.columns for d in at.dataframe)
    # and the table opens with those rows ticked
    _, ticked = at.session_state[TABLE_STATE]
    assert ticked == {first, second}


def test_stability_tab_plots_folds_and_gaps(file_store, app_env) -> None:
    # given the page with the two governed runs selected
    app_env(file_store.uri)
    at = open_app({"run": list(file_store.governed)})
    # when the charts are read
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    # then fold AUC and KS and the train/CV/validation gap are drawn
    assert any("Fold AUC by run" in spec for spec in charts)
    assert any("Fold KS by run" in spec for spec in charts)
    assert any("Train vs CV vs validation AUC" in spec for spec in charts)
    # and each verdict is explained with the observed and expected std and the p-value
    assert texts(at).count("expected from sampling noise alone") >= 2
    assert "χ² p" in texts(at) and ", level 0.05)" in texts(at)
    # and the other tabs' figures are not built until their tab is opened
    assert not any("Hyper-parameters against" in spec for spec in charts)
    at = _open_tab(at, COMPARE_TAB)
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Hyper-parameters against val_auc" in spec for spec in charts)
    assert any("val_auc against " in spec for spec in charts)
    at = _open_tab(at, EFFECTS_TAB)
    assert exceptions(at) == []


def _store_with_only_failed_runs(root: Path) -> str:
    """A sqlite store whose experiment holds two failed runs, one with a mixed-type param."""
    uri = f"sqlite:///{root / 'failed.db'}"
    client = MlflowClient(uri)
    experiment_id = ensure_experiment(client, EXPERIMENT)
    for name, leaves in (("boom", "31"), ("bang", "many")):
        run_id = client.create_run(experiment_id, run_name=name).info.run_id
        client.log_batch(
            run_id,
            params=[Param("num_leaves", leaves)],
            metrics=[Metric("cv_auc", 0.7, 0, 0), Metric("cv_auc", 0.71, 0, 1)],
        )
        client.set_terminated(run_id, status=RunStatus.to_string(RunStatus.FAILED))
    return uri


def test_experiment_with_only_failed_runs_stays_readable(tmp_path, app_env) -> None:
    # given an experiment whose runs all failed
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    app_env(_store_with_only_failed_runs(tmp_path))
    # when the page opens and both runs are selected
    at = open_page(PAGE)
    at = _tick_rows(at, [0, 1])
    # then it says what it cannot show, without exception or error
    assert exceptions(at) == []
    assert [e.value for e in at.error] == []
    assert "No recommendation" in _recommendation(at)
    assert "No run finished" in texts(at)
    at = _open_tab(at, EFFECTS_TAB)
    assert "Not enough finished runs" in texts(at)
    at = _open_tab(at, COMPARE_TAB)
    assert exceptions(at) == []
    assert "These runs logged identical params." not in texts(at)
    assert len(at.dataframe[0].value) == 2


def test_experiment_with_a_single_run_and_a_metric_few_runs_have(tmp_path, app_env) -> None:
    # given an experiment holding one finished run with a loss metric and no CV, no model
    uri = f"sqlite:///{tmp_path / 'one.db'}"
    client = MlflowClient(uri)
    run_id = client.create_run(ensure_experiment(client, EXPERIMENT), run_name="only").info.run_id
    client.log_batch(
        run_id,
        params=[Param("num_leaves", "31")],
        metrics=[Metric("val_auc", 0.8, 0, 0), Metric("val_logloss", 0.4, 0, 0)],
    )
    client.set_terminated(run_id)
    app_env(uri)
    # when the page opens ranked by the loss, with the run selected, on every tab
    at = open_app({"metric": "val_logloss", "run": run_id})
    # then each part says what it cannot show, without exception or error
    assert exceptions(at) == []
    assert [e.value for e in at.error] == []
    assert "No finished run with a model logged val_logloss" in _recommendation(at)
    assert "None of these runs logged per-fold CV metrics" in texts(at)
    for tab in (COMPARE_TAB, EFFECTS_TAB, "Child runs"):
        at = _open_tab(at, tab)
        assert exceptions(at) == []
    assert "No nested child runs" in texts(at)


def test_a_selected_run_says_what_it_lacks(file_store, app_env) -> None:
    # given a link selecting the seed-pattern run (params, val_auc and a model only)
    app_env(file_store.uri)
    # when it is opened
    at = open_app({"run": [file_store.seed_pattern]})
    # then the page says, for that run, what is missing and how to supply it
    assert exceptions(at) == []
    assert "No validation set logged: upload a labelled file" in texts(at)
    assert "No cross-validation folds logged" in texts(at)


def test_compare_overlays_roc_and_ks_and_names_runs_without_a_validation_set(
    file_store, app_env
) -> None:
    # given the governed runs and the seed-pattern run (no validation set) ticked
    app_env(file_store.uri)
    at = open_page(PAGE)
    shown = _runs_shown(at)
    picked = [*file_store.governed, file_store.seed_pattern]
    at = _open_tab(_tick_rows(at, [shown.index(r) for r in picked]), COMPARE_TAB)
    # then ROC and KS overlays draw one curve per governed run, and the seed run is named
    assert exceptions(at) == []
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = {s["layout"]["title"]["text"]: s for s in specs}
    roc = titles["ROC: each run on its own validation set"]
    assert len([t for t in roc["data"] if t["name"] != "random"]) == len(file_store.governed)
    ks = next(s for t, s in titles.items() if t.startswith("KS"))
    assert sum(t.get("showlegend", True) for t in ks["data"]) == len(file_store.governed)
    warning = " ".join(str(w.value) for w in at.warning)
    assert "Not drawn: lgb_credit_risk (logged no validation set)" in warning


def test_table_shows_one_page_of_the_ranked_runs_and_keeps_ticks_across_pages(
    file_store, app_env, monkeypatch
) -> None:
    # given pages of two rows
    from ui.runs import table as runs_table

    monkeypatch.setattr(runs_table, "PAGE_ROWS", 2)
    app_env(file_store.uri)
    at = open_page(PAGE)
    ranked = _runs_shown(at)
    assert len(ranked) == 2 and "Rows 1–2 of" in texts(at)
    # when a row of page 1 is ticked and page 2 is opened
    at = _tick_rows(at, [0])
    at.selectbox(key=runs_table.PAGE_KEY).set_value(2).run()
    # then page 2 holds the next runs of the same ranking, and the tick stays selected
    assert exceptions(at) == []
    assert "Rows 3–4 of" in texts(at)
    assert set(_runs_shown(at)).isdisjoint(ranked)
    assert at.multiselect(key="run").value == [ranked[0]]
    # and the 'Selected runs' box offers the selection and this page's runs, not every run
    page_two = _runs_shown(at)
    offered = at.multiselect(key="run").options
    assert len(offered) == 3, offered
    assert [o.rsplit(" · ", 1)[1] for o in offered] == [r[:8] for r in [ranked[0], *page_two]]


def test_runs_equivalent_within_noise_are_shown_as_a_tie_with_the_rule(
    german_store, app_env
) -> None:
    # given three runs of nearly one model on a German-credit-like book (250 validation rows)
    app_env(german_store.uri)
    # when the Runs page opens
    at = open_page(PAGE)
    banner = _recommendation(at)
    # then they are shown as equivalent within noise, judged on their shared validation rows,
    # and the banner names the tie-break rule that chose
    assert exceptions(at) == []
    assert "3 CV-inconclusive runs are equivalent within noise on val_auc" in banner, banner
    assert "paired DeLong on the same validation rows" in banner
    assert "Rule that decided: better CV stability (lower CV AUC std)" in banner
    # and the page flags the runs that use protected attributes as inputs (default policy)
    warning = texts(at)
    assert "3 run(s) use protected attributes as model inputs" in warning
    assert "(personal_status_and_sex, foreign_worker, age)" in warning


def test_promotion_opens_on_the_run_the_runs_page_recommends_for_the_same_reason(
    german_store, app_env
) -> None:
    # given three runs tied within noise, judged paired on their shared validation rows
    app_env(german_store.uri)
    runs_banner = _recommendation(open_page(PAGE))
    # when the Promotion page opens on no chosen run
    at = open_page("pages/promotion.py")
    # then it opens on the recommended run with the Runs page's reason (the same paired tie)
    assert exceptions(at) == []
    (opened,) = [c.value for c in at.caption if "Opened on the recommended run" in c.value]
    assert "paired DeLong on the same validation rows" in opened
    assert "paired DeLong on the same validation rows" in runs_banner
