"""One selection across pages: the run and the threshold being worked on, and the default run."""

from __future__ import annotations

import pandas as pd

from core.runs.default_run import default_run
from core.runs.stability import StabilityRule
from core.store.access import load_runs_table
from core.store.client import get_experiment, open_client
from tests.helpers.apptest_helpers import (
    exceptions,
    open_page,
    workbench_data,
)
from tests.helpers.store_builders import EXPERIMENT

NOTHING_IS_STABLE = StabilityRule(max_std=0.0, max_worst_fold_drop=0.0, method="absolute")


def _runs(store) -> pd.DataFrame:
    """The runs table of the test experiment."""
    client = open_client(store.uri)
    return load_runs_table(client, store.uri, get_experiment(client, EXPERIMENT).experiment_id).runs


def test_default_run_when_no_run_is_stable_is_the_best_usable_run(file_store_template) -> None:
    # given a store where no run passes the stability rule
    runs = _runs(file_store_template)
    # when the page picks the run to open on
    chosen = default_run(runs, NOTHING_IS_STABLE)
    # then it is the finished run with a model and the highest val_auc, never one lacking either
    usable = runs[
        (runs["status"] == "FINISHED")
        & runs["has_model"].astype(bool)
        & runs["metrics.val_auc"].notna()
    ]
    best = usable.loc[usable["metrics.val_auc"].astype(float).idxmax(), "run_id"]
    assert chosen.run_id == best
    assert "no run is stable enough" in chosen.reason


def test_default_run_prefers_the_champion_then_the_recommendation(file_store_template) -> None:
    # given the store's runs
    runs = _runs(file_store_template)
    seed = file_store_template.seed_pattern
    # when a run is promoted / then the pages open on it
    assert default_run(runs, StabilityRule(), champion_run_id=seed).run_id == seed
    # when nothing is promoted / then they open on the recommended (stable) run
    lenient = StabilityRule(max_std=1.0, max_worst_fold_drop=1.0)
    chosen = default_run(runs, lenient)
    assert chosen.run_id in file_store_template.governed
    assert chosen.reason.startswith("the recommended run")
    # and a run without a model or without val_auc is never a default
    no_model = runs.assign(has_model=False)
    assert default_run(no_model, lenient).run_id is None
    assert default_run(runs.drop(columns="metrics.val_auc"), lenient).run_id is None


def test_threshold_and_run_chosen_on_diagnostics_carry_to_whatif_and_promotion(
    file_store, app_env
) -> None:
    # given the diagnostics page on the second governed run
    app_env(file_store.uri)
    at = open_page("pages/diagnostics.py")
    at.selectbox(key="diag_run").set_value(file_store.governed[1]).run()
    # when the analyst applies the threshold that gives the target approval rate
    at.button(key="diag_use_target").click().run()
    chosen = workbench_data(at)["applied"]
    assert exceptions(at) == [] and chosen != 0.4542
    # then What-if opens on the same run and threshold
    at = at.switch_page("pages/whatif.py").run()
    assert exceptions(at) == []
    assert at.selectbox(key="whatif_run").value == file_store.governed[1]
    assert at.number_input(key="whatif_threshold").value == chosen
    # and so does Promotion
    at = at.switch_page("pages/promotion.py").run()
    assert exceptions(at) == []
    assert at.selectbox(key="promotion_run").value == file_store.governed[1]
    assert at.number_input(key="promotion_threshold").value == chosen
    # when the threshold is changed on What-if, Diagnostics follows it back
    at = at.switch_page("pages/whatif.py").run()
    at.number_input(key="whatif_threshold").set_value(0.3).run()
    at = at.switch_page("pages/diagnostics.py").run()
    assert workbench_data(at)["applied"] == 0.3
