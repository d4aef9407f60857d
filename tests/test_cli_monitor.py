"""`python -m core monitor` on a real store and a decision log: alerts, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core.cli.main import main
from core.store.access import load_validation_set
from core.store.client import open_client
from tests.helpers.decision_log_writer import write_scored_log


@pytest.fixture()
def monitor_env(file_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings pointing at a private store copy, an empty deploy folder and a log folder."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", file_store.uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "credit_risk_experiment")
    monkeypatch.setenv("PROMOTION_MANIFEST", str(tmp_path / "deploy" / "promotion.json"))
    monkeypatch.setenv("DECISION_LOG", str(tmp_path / "log"))
    return file_store, tmp_path


def test_calm_log_exits_0_and_says_the_profile_was_built_on_the_fly(monitor_env, capsys) -> None:
    # given a log of the run's own validation rows, spread over three months
    store, folder = monitor_env
    reference = load_validation_set(open_client(store.uri), store.governed[0])
    days = pd.date_range("2026-01-01", periods=len(reference), freq="150min")
    frame = reference.assign(application_date=days, applicant_id=[f"V{i}" for i in days.day])
    write_scored_log(folder / "log", store.uri, store.governed[0], frame=frame)
    # when the job runs, then nothing crosses an alert level and the on-the-fly profile is noted
    assert main(["monitor"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "built now from the run's logged validation set" in captured.err
    assert f"0 alert(s) over {len(reference):,} decisions" in captured.err


def test_drifted_log_exits_3_with_one_line_per_alert_and_writes_the_report(
    monitor_env, capsys
) -> None:
    # given a drifting log with a corrupt line and outcomes that arrive later
    store, folder = monitor_env
    frame = write_scored_log(folder / "log", store.uri, store.governed[0], drift=1.5)
    last = sorted((folder / "log").iterdir())[-1]
    last.write_text(last.read_text() + '{"time": "2026-03-2')
    outcomes = folder / "outcomes.csv"
    frame[["applicant_id", "default"]].to_csv(outcomes, index=False)
    # when the job runs
    code = main(["monitor", "--outcomes", str(outcomes), "--out", str(folder / "r.json")])
    # then it exits 3, prints one line per alert, and notes the skipped line
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    report = json.loads((folder / "r.json").read_text())
    assert code == 3 and len(lines) == len(report["alerts"]) > 0
    assert any("feature PSI: credit_score" in line for line in lines)
    assert "Skipped 1 corrupt or truncated line(s)" in captured.err
    assert report["segments"][-1]["auc"] is not None and report["bands"]
    # and a scheduled job can read only the recent day files
    assert main(["monitor", "--since", "2026-03-01", "--out", str(folder / "r.json")]) == 3
    since = json.loads((folder / "r.json").read_text())
    assert [s["period"] for s in since["segments"]] == ["2026-03"]


def test_bad_input_exits_2_with_one_line(monitor_env, capsys) -> None:
    store, folder = monitor_env
    assert main(["monitor"]) == 2
    assert "does not exist" in capsys.readouterr().err
    write_scored_log(folder / "log", store.uri, store.governed[0], n_rows=300)
    unknown = folder / "outcomes.csv"
    unknown.write_text("applicant_id,default\nnobody,1\n")
    assert main(["monitor", "--outcomes", str(unknown)]) == 2
    assert "None of the 1 outcome ids" in capsys.readouterr().err
    assert main(["monitor", "--source", str(folder / "missing.csv")]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_file_source_is_scored_by_the_promoted_or_named_run(monitor_env, capsys) -> None:
    store, folder = monitor_env
    frame = write_scored_log(folder / "log", store.uri, store.governed[0], n_rows=300)
    path = folder / "recent.csv"
    frame.drop(columns=["default"]).to_csv(path, index=False)
    assert main(["monitor", "--source", str(path)]) == 2
    assert "Nothing is promoted" in capsys.readouterr().err
    code = main(["monitor", "--source", str(path), "--run-id", store.governed[0],
                 "--period", "week"])  # fmt: skip
    assert code in (0, 3)
    assert "decisions in" in capsys.readouterr().err


def test_duckdb_engine_prints_the_pandas_engines_alerts_and_report(monitor_env, capsys) -> None:
    # given a drifting log with a corrupt line, in the store's real profile
    store, folder = monitor_env
    write_scored_log(folder / "log", store.uri, store.governed[0], drift=1.5)
    last = sorted((folder / "log").iterdir())[-1]
    last.write_text(last.read_text() + '{"time": "2026-03-2')
    # when the job runs with each engine
    outputs = []
    for engine in ("pandas", "duckdb"):
        code = main(["monitor", "--engine", engine, "--out", str(folder / f"{engine}.json")])
        outputs.append((code, capsys.readouterr()))
    # then exit code, alert lines, notes and the written report are the same
    (code_p, pandas), (code_d, duck) = outputs
    assert code_p == code_d == 3
    assert duck.out == pandas.out and duck.err == pandas.err
    assert (folder / "duckdb.json").read_text() == (folder / "pandas.json").read_text()
    # and DuckDB refuses to join outcomes it never holds row by row
    assert main(["monitor", "--engine", "duckdb", "--outcomes", str(last)]) == 2
    assert "cannot join outcomes" in capsys.readouterr().err


def test_spark_engine_without_java_names_what_to_install(
    monitor_env, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given MONITORING_ENGINE=spark on a machine whose PATH and JAVA_HOME hold no java
    _, folder = monitor_env
    monkeypatch.setenv("MONITORING_ENGINE", "spark")
    monkeypatch.setenv("PATH", str(folder / "no-java"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    # when the job runs / then it exits 2 naming Java and requirements-spark.txt
    assert main(["monitor", "--spark-master", "local[2]"]) == 2
    err = capsys.readouterr().err
    assert "needs Java 17+" in err and "requirements-spark.txt" in err
