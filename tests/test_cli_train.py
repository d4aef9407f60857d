"""`python -m core train` as a user runs it: progress lines, exit codes, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mlflow.tracking import MlflowClient

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Run the CLI in a subprocess with the given environment additions."""
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=cwd,
        env={**environment, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0 and "train" in result.stdout
    result = run_cli("train", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for flag in ("--data", "--target", "--grid", "--runs", "--demo", "--cv-folds", "--monotone"):
        assert flag in result.stdout


def test_grid_trains_one_run_per_combination_with_a_line_each(tmp_path: Path) -> None:
    # given an empty store folder
    uri = f"file:{tmp_path / 'mlruns'}"
    # when a 2x1 grid is trained on small synthetic data
    result = run_cli(
        "train", "--rows", "1500", "--n-estimators", "15", "--cv-folds", "2",
        "--grid", "num_leaves=3,7", cwd=tmp_path, MLFLOW_TRACKING_URI=uri,
    )  # fmt: skip
    # then two runs are logged and reported, one line each
    assert result.returncode == 0, result.stderr
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("[")]
    assert len(lines) == 2 and lines[0].startswith("[1/2]") and "val_auc" in lines[0]
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    experiment = MlflowClient(uri).get_experiment_by_name("credit_risk_experiment")
    assert len(MlflowClient(uri).search_runs([experiment.experiment_id])) == 2
    # and --if-empty then trains nothing
    again = run_cli("train", "--demo", "--if-empty", cwd=tmp_path, MLFLOW_TRACKING_URI=uri)
    assert again.returncode == 0 and "nothing to train" in again.stdout


def test_user_csv_with_bad_target_is_one_line_and_non_zero(tmp_path: Path) -> None:
    data = tmp_path / "loans.csv"
    data.write_text("income,bad\n1,0\n2,3\n3,1\n", encoding="utf-8")
    result = run_cli(
        "train", "--data", str(data), "--target", "bad", cwd=tmp_path,
        MLFLOW_TRACKING_URI=f"file:{tmp_path / 'mlruns'}",
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "not binary" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "mlruns").exists() or not any((tmp_path / "mlruns").rglob("params"))


def test_bad_settings_and_unreachable_server_are_one_line(tmp_path: Path) -> None:
    bad_threshold = run_cli("train", "--rows", "500", cwd=tmp_path, DECISION_THRESHOLD="abc")
    assert bad_threshold.returncode == 2 and "DECISION_THRESHOLD" in bad_threshold.stderr
    unreachable = run_cli(
        "train", "--rows", "500", cwd=tmp_path, MLFLOW_TRACKING_URI="http://127.0.0.1:9"
    )
    assert unreachable.returncode == 2 and "unreachable" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr


def test_user_csv_trains(tmp_path: Path) -> None:
    from core.data.synthetic import make_synthetic_credit_data

    frame = make_synthetic_credit_data(1_200, seed=4)
    frame["loan_purpose"] = frame["loan_purpose"].astype(str)
    frame.to_csv(tmp_path / "loans.csv", index=False)
    result = run_cli(
        "train", "--data", "loans.csv", "--target", "default", "--id-column", "applicant_id",
        "--monotone", "credit_score:-1", "--n-estimators", "10", "--cv-folds", "2",
        cwd=tmp_path, MLFLOW_TRACKING_URI="file:./mlruns",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "loans.csv (1,200 rows" in result.stdout
