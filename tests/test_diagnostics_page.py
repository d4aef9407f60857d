"""Model diagnostics page: real AppTest interactions on a real temporary MLflow file store."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from streamlit.testing.v1 import AppTest

from core.data.synthetic import make_synthetic_credit_data
from core.settings import DEFAULT_DECISION_THRESHOLD
from core.store import access as store
from core.store.client import open_client
from tests.helpers.apptest_helpers import (
    exceptions,
    open_page,
    texts,
    workbench_data,
)
from ui.diagnostics.data import PATH, UPLOAD

PAGE = "pages/diagnostics.py"


def open_diagnostics(run_id: str | None = None) -> AppTest:
    """Open the app with ?run_id= (as the Runs page links) and switch to Model diagnostics."""
    return open_page(PAGE, None if run_id is None else {"run_id": run_id})


def open_tab(at: AppTest, label: str) -> AppTest:
    """Open a Diagnostics tab, as a click on it does (only the open tab runs)."""
    at.session_state["diag_tab"] = label
    return at.run()


def metric(at: AppTest, label: str) -> str:
    """The shown value of the metric with this label."""
    return next(m.value for m in at.metric if m.label == label)


def applied(at: AppTest) -> float:
    """The applied (shared) threshold the workbench shows."""
    return workbench_data(at)["applied"]


def approval_shown(at: AppTest) -> str:
    """The approval rate the workbench shows at the applied threshold, from the data it got."""
    data = workbench_data(at)
    grid = data["grid"]
    j = int(np.searchsorted(grid["starts"], round(data["applied"] * grid["steps"]), "right")) - 1
    approved = grid["bads_approved"][j] + grid["goods_approved"][j]
    return f"{approved / (grid['n_bads'] + grid['n_goods']):.2%}"


def at_threshold(at: AppTest, value: float) -> AppTest:
    """Open the threshold from a link (?threshold=), as What-if's and shared links do."""
    at.query_params["threshold"] = f"{value:.4f}"
    return at.run()


def chart_specs(at: AppTest) -> list[dict]:
    """Every plotly chart's figure as JSON."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def trace_names(at: AppTest) -> list[str]:
    """Names of every trace of every chart."""
    return [t.get("name", "") for spec in chart_specs(at) for t in spec["data"]]


def validation(store_uri: str, run_id: str) -> tuple[np.ndarray, np.ndarray]:
    """The labels and logged scores of a run's validation set, read straight from MLflow."""
    frame = store.load_validation_set(open_client(store_uri), run_id)
    return frame["label"].to_numpy(), frame["score"].to_numpy()


def governed_page(file_store, app_env, index: int = 0) -> tuple[AppTest, np.ndarray, np.ndarray]:
    """Diagnostics opened on a governed run, with that run's logged labels and scores."""
    app_env(file_store.uri)
    run_id = file_store.governed[index]
    labels, scores = validation(file_store.uri, run_id)
    return open_diagnostics(run_id), labels, scores


def profit_at(labels: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    """Brute-force profit: 1,000 per approved good minus 5,000 per approved bad."""
    approved = scores < threshold
    return 1000 * (1 - labels[approved]).sum() - 5000 * labels[approved].sum()


def labelled_csv(tmp_path, name: str, n: int = 600, **changes) -> str:
    """Write fresh labelled applicants in the demo schema to a CSV and return its path."""
    frame = make_synthetic_credit_data(n_rows=n, seed=31)
    for column, value in changes.items():
        if value is None:
            frame = frame.drop(columns=[column])
        else:
            frame[column] = value
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def test_governed_run_shows_its_validation_metrics(file_store, app_env) -> None:
    # given a governed run linked from the Runs page
    # when Model diagnostics opens on it
    at, labels, scores = governed_page(file_store, app_env)
    run_id = file_store.governed[0]
    # then there is no error, and it says which data is shown, its size and bad rate
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    assert f"validation set logged by run {run_id[:8]}" in texts(at)
    assert f"{len(labels):,} rows" in texts(at) and f"{labels.mean():.2%}" in texts(at)
    # and the AUC is sklearn's on the logged scores
    assert metric(at, "AUC") == f"{roc_auc_score(labels, scores):.4f}"
    # and the business threshold drives the policy numbers and the plot markers
    approved = scores < DEFAULT_DECISION_THRESHOLD
    assert applied(at) == DEFAULT_DECISION_THRESHOLD
    assert approval_shown(at) == f"{approved.mean():.2%}"
    charts = workbench_data(at)["charts"]
    assert [c["mark"] for c in charts] == [
        "roc", "line", "line", "precision_recall", "line", "strategy"
    ]  # fmt: skip
    assert charts[0]["title"] == "ROC curve" and charts[-1]["title"] == "Strategy curve"
    # and the declared monotone features pass the check
    open_tab(at, "Monotonicity")
    assert "monotone as declared over their whole observed range" in texts(at)
    open_tab(at, "Explainability")
    assert any("SHAP computed on" in c.value for c in at.caption)


def test_threshold_change_and_reverse_questions(file_store, app_env) -> None:
    # given the diagnostics of a governed run
    at, labels, scores = governed_page(file_store, app_env)
    # when the analyst opens the threshold 0.3 from a link
    at = at_threshold(at, 0.3)
    # then the workbench gets it as the applied threshold, with the policy data behind it
    assert applied(at) == 0.3 and approval_shown(at) == f"{(scores < 0.3).mean():.2%}"
    version = workbench_data(at)["version"]
    # when they ask for the threshold giving 85% approval and apply it
    at.button(key="diag_use_target").click().run()
    # then the threshold moves, the workbench's control is told to move, about 85% are approved
    threshold = applied(at)
    assert threshold != 0.3 and workbench_data(at)["version"] == version + 1
    assert abs((scores < threshold).mean() - 0.85) < 0.01
    # when they give a loss per bad and a profit per good
    at.number_input(key="diag_loss_per_bad").set_value(5000.0).run()
    at.number_input(key="diag_profit_per_good").set_value(1000.0).run()
    # then the workbench gets them for its expected profit
    assert (workbench_data(at)["loss"], workbench_data(at)["profit"]) == (5000.0, 1000.0)
    profit = profit_at(labels, scores, threshold)
    # and the profit-maximising threshold earns at least as much once applied
    at.button(key="diag_use_profit").click().run()
    best = applied(at)
    assert profit_at(labels, scores, best) >= profit
    assert exceptions(at) == []


def test_score_bands_follow_the_users_choice(file_store, app_env) -> None:
    # given the diagnostics of a governed run
    at, labels, _ = governed_page(file_store, app_env, index=1)
    # when the analyst opens the score bands and asks for 5
    open_tab(at, "Score bands")
    at.slider(key="diag_n_bands").set_value(5).run()
    bands = next(d.value for d in at.dataframe if "cum_bad_capture" in d.value.columns)
    # then there are 5 (or fewer, with ties) bands adding up to the totals
    assert 1 < len(bands) <= 5
    assert bands["count"].sum() == len(labels) and bands["bads"].sum() == labels.sum()
    # when they type edges that are not probabilities
    at.radio(key="diag_band_mode").set_value("My own score edges").run()
    at.text_input(key="diag_edges").input("0.2, 1.5").run()
    # then the page says how to write them and the rest still works
    assert any("strictly between 0 and 1" in e.value for e in at.error)
    assert exceptions(at) == [] and metric(open_tab(at, "Threshold & performance"), "AUC")


def test_seed_pattern_run_is_evaluated_on_a_labelled_file(file_store, app_env, tmp_path) -> None:
    # given a run logged the seed's way (params, val_auc and a model, no validation set)
    app_env(file_store.uri, DATA_ROOT=str(tmp_path))
    at = open_diagnostics(file_store.seed_pattern)
    # then the page says a labelled file is needed, and offers no logged set
    assert "logged no validation set" in texts(at)
    assert "Logged validation set" not in at.radio(key="diag_source").options
    # when the analyst gives the path of a labelled CSV
    path = labelled_csv(tmp_path, "holdout.csv")
    at.radio(key="diag_source").set_value(PATH).run()
    at.text_input(key="diag_path").input(path).run()
    # then the run is evaluated on it, with the label column guessed
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    assert "holdout.csv" in texts(at) and "600 rows" in texts(at)
    assert at.selectbox(key="diag_label").value == "default"
    assert 0.5 < float(metric(at, "AUC")) < 1.0
    # and the notice that the run lacks a validation set is gone: the file supplies it
    assert "logged no validation set" not in texts(at)


def test_bad_files_get_clear_messages_and_the_page_keeps_working(
    file_store, app_env, tmp_path
) -> None:
    # given the seed-pattern run and the file-path source
    app_env(file_store.uri, DATA_ROOT=str(tmp_path))
    at = open_diagnostics(file_store.seed_pattern)
    at.radio(key="diag_source").set_value(PATH).run()
    # when the file lacks two model features
    missing = labelled_csv(tmp_path, "missing.csv", credit_score=None, loan_purpose=None)
    at.text_input(key="diag_path").input(missing).run()
    # then they are named
    assert any("credit_score, loan_purpose" in e.value for e in at.error)
    # when the file holds categories the model never saw
    unseen = labelled_csv(tmp_path, "unseen.csv", home_ownership="CARAVAN")
    at.text_input(key="diag_path").input(unseen).run()
    # then they are counted and listed, and the evaluation still runs
    assert any("CARAVAN in 600 rows: row 1 (applicant_id" in w.value for w in at.warning)
    assert any("CARAVAN" in w.value and "missing" in w.value for w in at.warning)
    assert metric(at, "AUC")
    # when the label is not binary
    at.text_input(key="diag_path").input(labelled_csv(tmp_path, "bad.csv", default=2)).run()
    # then it says so
    assert any("not binary" in e.value for e in at.error)
    # when the file holds goods only
    at.text_input(key="diag_path").input(labelled_csv(tmp_path, "goods.csv", default=0)).run()
    # then AUC is said to be undefined while the threshold policy still shows
    assert any("only goods" in e.value and "undefined" in e.value for e in at.error)
    assert [c["mark"] for c in workbench_data(at)["charts"]] == ["line", "strategy"]
    # and no traceback was ever shown
    assert exceptions(at) == []


def test_a_model_that_cannot_load_leaves_the_rest_working(file_store, app_env) -> None:
    # given a governed run whose model files are gone (its validation set remains)
    for models in file_store.path.glob("*/models"):
        shutil.rmtree(models)
    app_env(file_store.uri)
    # when Model diagnostics opens on it
    at = open_diagnostics(file_store.governed[0])
    # then the model error is shown with its fix, not a traceback
    assert exceptions(at) == []
    assert any("could not be loaded" in e.value for e in at.error)
    # and ROC, KS and the threshold policy still work from the logged scores
    assert metric(at, "AUC") and approval_shown(at)
    assert "Needs the run's model" in texts(open_tab(at, "Explainability"))


def test_this_run_and_a_challenger_are_compared(file_store, app_env) -> None:
    # given two governed runs
    at, labels, _ = governed_page(file_store, app_env)
    # when the analyst opens the comparison and picks the other one as challenger
    open_tab(at, "Compare with another run")
    at.selectbox(key="diag_challenger").set_value(file_store.governed[1]).run()
    # then ROC and KS are overlaid, with the AUC difference and its interval
    names = trace_names(at)
    assert any(n.startswith("this run (AUC") for n in names)
    assert any(n.startswith("challenger (AUC") for n in names)
    assert any("AUC difference (challenger − this run)" in m.value for m in at.markdown)
    # and the swap set partitions the applicants
    swaps = next(d.value for d in at.dataframe if "group" in d.value.columns)
    assert swaps["count"].sum() == len(labels) and swaps["bads"].sum() == labels.sum()
    assert exceptions(at) == []
    # when the decisions are compared at an equal approval rate
    at.radio(key="diag_swap_alignment").set_value("Equal approval rate").run()
    # then both runs approve the same number of applicants (up to ties in scores)
    swaps = next(d.value for d in at.dataframe if "group" in d.value.columns)
    counts = dict(zip(swaps["group"], swaps["count"], strict=True))
    swap_in = counts["swap-in: challenger approves, this run declines"]
    swap_out = counts["swap-out: this run approves, challenger declines"]
    assert abs(swap_in - swap_out) <= 0.01 * len(labels)
    assert exceptions(at) == []


@pytest.mark.parametrize("link", ["no-such-run", "foreign"])
def test_a_link_to_an_unusable_run_is_explained(file_store, app_env, link: str) -> None:
    # given a link to an unknown run, or to a run with neither model nor validation set
    app_env(file_store.uri)
    run_id = file_store.foreign["named_folds"] if link == "foreign" else link
    # when the page opens
    at = open_diagnostics(run_id)
    # then it says why and falls back to a usable run
    expected = "logged neither a model" if link == "foreign" else "is not in this store"
    assert any(expected in w.value for w in at.warning)
    assert exceptions(at) == [] and approval_shown(at)


def test_the_chosen_threshold_survives_a_change_of_data_source(file_store, app_env) -> None:
    # given the analyst moved the threshold to 0.3
    at, _, scores = governed_page(file_store, app_env)
    at = at_threshold(at, 0.3)
    # when they switch to a file source (no data yet) and back to the logged validation set
    at.radio(key="diag_source").set_value(UPLOAD).run()
    at.radio(key="diag_source").set_value("Logged validation set").run()
    # then the threshold and its policy numbers are still those of 0.3
    assert applied(at) == 0.3
    assert approval_shown(at) == f"{(scores < 0.3).mean():.2%}"


def test_an_uploaded_parquet_file_is_scored(file_store, app_env, tmp_path) -> None:
    # given the seed-pattern run and a labelled Parquet file
    app_env(file_store.uri)
    path = tmp_path / "holdout.parquet"
    make_synthetic_credit_data(n_rows=500, seed=32).to_parquet(path, index=False)
    at = open_diagnostics(file_store.seed_pattern)
    # when the analyst uploads it
    at.radio(key="diag_source").set_value(UPLOAD).run()
    at.file_uploader(key="diag_upload").upload("holdout.parquet", path.read_bytes()).run()
    # then the run is evaluated on the uploaded rows
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    assert "holdout.parquet" in texts(at) and "500 rows" in texts(at)
    assert 0.5 < float(metric(at, "AUC")) < 1.0


def test_an_empty_or_semicolon_upload_is_explained_or_read(file_store, app_env) -> None:
    # given the seed-pattern run evaluated at threshold 0.3 on an uploaded semicolon CSV
    app_env(file_store.uri)
    data = make_synthetic_credit_data(n_rows=500, seed=32).to_csv(index=False, sep=";").encode()
    at = at_threshold(open_diagnostics(file_store.seed_pattern), 0.3)
    at.radio(key="diag_source").set_value(UPLOAD).run()
    at.file_uploader(key="diag_upload").upload("holdout.csv", data).run()
    # then its columns are read as columns (the label is found) and the run is evaluated
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    assert at.selectbox(key="diag_label").value == "default"
    auc = metric(at, "AUC")
    # when an empty file is uploaded instead
    at.file_uploader(key="diag_upload").upload("empty.csv", b"").run()
    # then the page says it is empty and what to give, with no label picker
    errors = " ".join(e.value for e in at.error)
    assert "'empty.csv' is empty" in errors and "header row" in errors
    assert exceptions(at) == []
    # and the run and the threshold chosen before are kept for the next file
    at.file_uploader(key="diag_upload").upload("holdout.csv", data).run()
    assert metric(at, "AUC") == auc and applied(at) == 0.3


def test_file_path_source_is_off_without_data_root(file_store, app_env) -> None:
    # given no DATA_ROOT configured
    app_env(file_store.uri)
    # when a run without a validation set is opened
    at = open_diagnostics(file_store.seed_pattern)
    # then only upload is offered, and the page says how to turn the path source on
    assert PATH not in at.radio(key="diag_source").options
    assert "set DATA_ROOT" in texts(at)


def test_fair_lending_table_and_segments(file_store, app_env) -> None:
    # given the diagnostics of a governed run
    at, labels, scores = governed_page(file_store, app_env)
    # when the validator opens the check, marks home_ownership as protected and segments by purpose
    open_tab(at, "Fair lending & segments")
    at.multiselect(key="diag_protected").set_value(["home_ownership"]).run()
    at.selectbox(key="diag_segment").set_value("loan_purpose").run()
    # then a table per attribute gives approval rates that add up to the whole book
    tables = [d.value for d in at.dataframe if "approval_rate" in d.value.columns]
    protected, segments = tables[0], tables[1]
    assert protected["applicants"].sum() == len(labels) == segments["applicants"].sum()
    overall = (protected["approval_rate"] * protected["applicants"]).sum() / len(labels)
    assert overall == pytest.approx((scores < DEFAULT_DECISION_THRESHOLD).mean())
    # and the ratio is 1 for the most favoured group large enough to judge, with a Katz interval
    favoured = protected[protected["verdict"] == "most favoured group"]
    assert favoured["adverse_impact_ratio"].tolist() == [pytest.approx(1.0)]
    assert (protected["air_low"] <= protected["adverse_impact_ratio"]).all()
    assert "adverse_impact_ratio" not in segments.columns
    assert "four-fifths rule" in texts(at) and "too few to judge" in texts(at)
    assert exceptions(at) == []


def test_a_run_with_protected_inputs_is_flagged_with_the_policys_justification(
    german_store, app_env, tmp_path
) -> None:
    # given a policy that justifies age but not personal_status_and_sex as an input
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[features]\nage = "protected"\npersonal_status_and_sex = "protected"\n'
        '[input_justifications]\nage = "empirically derived, statistically sound system"\n'
    )
    app_env(german_store.uri, FEATURE_POLICY_FILE=str(policy))
    # when a German-like run is diagnosed
    at = open_diagnostics(german_store.runs[0])
    # then the page says which protected inputs it uses, and the justification
    assert exceptions(at) == []
    warning = " ".join(str(w.value) for w in at.warning)
    assert "Protected attribute(s) used as model input" in warning
    assert "empirically derived, statistically sound system" in warning
    assert "not justified in the policy" in warning
