"""`python -m core runs` and `promote --recommended` on a real file store, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli.main import main
from core.runs.recommendation import recommend_run
from core.runs.stability import StabilityRule, stability_flags
from core.settings import load_settings
from core.store.access import load_runs_table
from core.store.client import get_experiment, open_client


def _cli(monkeypatch, capsys, uri: str, manifest: Path, *args: str) -> tuple[int, str, str]:
    """Run `python -m core ARGS` in-process against a store and a manifest path."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(manifest))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _page_recommendation(uri: str) -> str | None:
    """The run the Runs page recommends with its default metric and rule, on the whole store."""
    client = open_client(uri)
    experiment = get_experiment(client, load_settings().experiment_name)
    runs = load_runs_table(client, uri, experiment.experiment_id).runs
    rule = StabilityRule()
    return recommend_run(runs, rule, flags=stability_flags(runs, rule)).run_id


def test_runs_json_lists_every_run_with_its_verdict_inventory_and_the_recommendation(
    file_store, tmp_path, monkeypatch, capsys
) -> None:
    # given a store with governed runs, a seed-pattern run without CV and foreign runs
    code, out, err = _cli(
        monkeypatch, capsys, file_store.uri, tmp_path / "p.json", "runs", "--format", "json"
    )
    # then every top-level run is listed once, best first by val_auc
    assert code == 0, err
    listing = json.loads(out)
    by_id = {run["run_id"]: run for run in listing["runs"]}
    assert set(file_store.governed) | {file_store.seed_pattern} <= set(by_id)
    assert len(by_id) == len(listing["runs"])
    scores = [r["primary"] for r in listing["runs"] if r["primary"] is not None]
    assert scores == sorted(scores, reverse=True)
    # and each carries its verdict and what it lacks
    assert {r["stability"] for r in listing["runs"]} <= {
        "stable",
        "unstable",
        "inconclusive",
        "no CV logged",
    }
    seed = by_id[file_store.seed_pattern]
    assert seed["stability"] == "no CV logged" and "CV folds" in seed["lacks"]
    assert any("cross-validation" in sentence for sentence in seed["missing"])
    governed = by_id[file_store.governed[0]]
    assert governed["governed"] and governed["carries"]["model"]
    # and the recommendation is the Runs page's, marked on its row; nothing is promoted yet
    recommended = _page_recommendation(file_store.uri)
    assert recommended is not None
    assert listing["recommended"]["run_id"] == recommended
    assert [r["run_id"] for r in listing["runs"] if r["recommended"]] == [recommended]
    assert listing["champion"] is None and not any(r["champion"] for r in listing["runs"])


def test_runs_table_is_readable_and_other_metrics_and_rules_apply(
    file_store, tmp_path, monkeypatch, capsys
) -> None:
    # given the store / when listed as a table
    code, out, err = _cli(monkeypatch, capsys, file_store.uri, tmp_path / "p.json", "runs")
    assert code == 0, err
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("role"))
    # then one row per run under named columns, the recommendation and the champion line
    for column in ("run_name", "val_auc", "cv_auc_std", "stability", "lacks", "run_id"):
        assert column in header
    assert sum(run_id in out for run_id in file_store.governed) == len(file_store.governed)
    assert any(line.startswith("Recommended: ") for line in lines)
    assert "Champion: nothing promoted yet." in lines
    # and ranking by another metric with the absolute rule says so
    code, out, _ = _cli(
        monkeypatch, capsys, file_store.uri, tmp_path / "p.json",
        "runs", "--metric", "cv_auc_mean", "--stability", "absolute", "--explain",
    )  # fmt: skip
    assert code == 0
    assert "best first by cv_auc_mean" in out and "absolute rule chosen" in out


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ({"MLFLOW_EXPERIMENT_NAME": "no_such_experiment"}, (), "does not exist"),
        ({"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}, (), "unreachable"),
        ({}, ("--metric", "no_such_metric"), "No run logged the metric 'no_such_metric'"),
    ],
)
def test_runs_bad_input_is_one_line_and_exit_2(
    file_store, tmp_path, monkeypatch, capsys, env, args, expected
) -> None:
    # given an unknown experiment, an unreachable store or an unknown metric
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(tmp_path / "p.json"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", env.get("MLFLOW_TRACKING_URI", file_store.uri))
    # when listed / then one line on stderr and exit 2
    code = main(["runs", *args])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err


def test_promote_recommended_marks_the_champion_and_if_none_promotes_once(
    file_store, tmp_path, monkeypatch, capsys
) -> None:
    # given nothing promoted / when the recommended run is promoted
    manifest = tmp_path / "deploy" / "promotion.json"
    who = ("--by", "demo", "--reason", "the recommended run")
    code, out, err = _cli(
        monkeypatch, capsys, file_store.uri, manifest, "promote", "--recommended", "--if-none", *who
    )
    # then the run the Runs page recommends is the champion
    assert code == 0, err
    recommended = _page_recommendation(file_store.uri)
    assert out.startswith("recommended run ") and f"promote: run {recommended}" in out
    code, out, _ = _cli(monkeypatch, capsys, file_store.uri, manifest, "runs", "--format", "json")
    listing = json.loads(out)
    assert listing["champion"]["run_id"] == recommended
    assert "already the promoted champion" in listing["champion"]["note"]
    assert [r["run_id"] for r in listing["runs"] if r["champion"]] == [recommended]
    # and --if-none then leaves the promotion alone
    code, out, err = _cli(
        monkeypatch, capsys, file_store.uri, manifest, "promote", "--recommended", "--if-none", *who
    )
    assert code == 0, err
    assert "already promoted" in out and "nothing to promote" in out
    code, out, _ = _cli(monkeypatch, capsys, file_store.uri, manifest, "promote", "--history")
    assert out.count(recommended) == 1
    # and --if-none goes only with a promotion
    code, _, err = _cli(
        monkeypatch, capsys, file_store.uri, manifest, "promote", "--show", "--if-none"
    )
    assert code == 2 and "--if-none goes with" in err


def test_runs_says_which_runs_tie_within_noise_and_which_rule_chose(
    german_store, tmp_path, monkeypatch, capsys
) -> None:
    # given three runs of nearly one model on a German-credit-like book / when listed
    code, out, err = _cli(monkeypatch, capsys, german_store.uri, tmp_path / "p.json", "runs")
    assert code == 0, err
    recommended = next(line for line in out.splitlines() if line.startswith("Recommended: "))
    # then the recommendation says they are equivalent within noise and names the rule
    assert "3 CV-inconclusive runs are equivalent within noise on val_auc" in recommended
    assert "No run's CV stability could be established" in recommended
    assert "Rule that decided: better CV stability (lower CV AUC std)" in recommended
    # and the JSON marks every tied row and the rule; the winner has the lowest CV AUC std
    code, out, _ = _cli(
        monkeypatch, capsys, german_store.uri, tmp_path / "p.json", "runs", "--format", "json"
    )
    listing = json.loads(out)
    assert set(listing["recommended"]["equivalent_within_noise"]) == set(german_store.runs)
    assert listing["recommended"]["tie_break_rule"].startswith("better CV stability")
    stds = {r["run_id"]: r["metrics"]["cv_auc_std"] for r in listing["runs"]}
    assert listing["recommended"]["run_id"] == min(stds, key=stds.get)
    assert all(r["tied"] for r in listing["runs"])
