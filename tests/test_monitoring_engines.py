"""Monitoring counted in DuckDB or Spark gives the pandas engine's report: same counts, PSIs,
alerts and notes on a log with corrupt lines, a bad time, a model change mid-period, unseen
categories, several folders with per-writer files and a day compacted to Parquet."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data.spark_session import check_spark_installed
from core.data.synthetic import make_recent_applications, make_synthetic_credit_data
from core.decision_log.compact import compact_log
from core.decision_log.reader import read_decision_log
from core.decision_log.writer import records_from_frames, write_records
from core.errors import DataValidationError
from core.monitoring.log_engines import (
    AUTO_DUCKDB_BYTES,
    chosen_engine,
    duckdb_report,
    spark_report,
)
from core.monitoring.profiles import ProfileSet
from core.monitoring.reference import ReferenceProfile, build_profile
from core.monitoring.report import MonitoringReport
from core.monitoring.use_cases import report_with_profiles
from tests.helpers.spark_fixtures import SPARK_MASTER

CATEGORICAL = ["home_ownership", "loan_purpose"]
THRESHOLD = 0.4542


def _scores(frame: pd.DataFrame) -> np.ndarray:
    """A stand-in score (no model needed)."""
    risk = (700 - frame["credit_score"].to_numpy()) / 150
    return 1 / (1 + np.exp(-(risk - 0.5) * 2))


def _profile(seed: int, run_id: str) -> ReferenceProfile:
    """A reference profile of a 3,000-row development sample."""
    frame = make_synthetic_credit_data(3_000, seed=seed)
    features = [c for c in frame.columns if c not in ("applicant_id", "default")]
    return build_profile(
        frame, features, CATEGORICAL, _scores(frame), THRESHOLD,
        run_id=run_id, source="test sample", labels=frame["default"].to_numpy(),
    )  # fmt: skip


@pytest.fixture(scope="module")
def profiles() -> dict[str, ReferenceProfile]:
    """Two runs with their own bins: run-a before the change, run-b after."""
    return {"run-a": _profile(1, "run-a"), "run-b": _profile(2, "run-b")}


@pytest.fixture()
def log(tmp_path: Path, profiles: dict[str, ReferenceProfile]) -> list[Path]:
    """Two workers' folders over three months: model change on 15 February, unseen categories,
    corrupt lines, a bad time, a per-writer file and compacted Parquet days."""
    recent = make_recent_applications(n_rows=1_800, seed=5, months=3, max_drift=0.8)
    purpose = recent["loan_purpose"].astype(str)
    recent["loan_purpose"] = purpose.where(recent.index % 17 != 0, "crypto")
    times = pd.to_datetime(recent["application_date"]).sort_values().reset_index(drop=True)
    recent = recent.loc[pd.to_datetime(recent["application_date"]).argsort()].reset_index(drop=True)
    runs = np.where(times < pd.Timestamp(times.iloc[0].year, 2, 15), "run-a", "run-b")
    records = records_from_frames(
        recent[list(profiles["run-a"].features)], _scores(recent), times, list(runs), THRESHOLD
    )
    first, second = tmp_path / "w1", tmp_path / "w2"
    write_records(first, records[0::2])
    paths = write_records(second, records[1::2])
    day, path = sorted(paths.items())[3]
    with path.open("a") as handle:
        handle.write("not json at all\n")
        handle.write(json.dumps({**records[1], "time": "yesterday"}) + "\n")
    path.rename(path.with_name(f"decisions-{day}.w2.jsonl"))
    compact_log(first, dt.date.fromisoformat(day))
    return [first, second]


def _pandas(folders: list[Path], profiles: dict, period: str) -> MonitoringReport:
    """The pandas engine: the log read into frames, then the report."""
    return report_with_profiles(read_decision_log(folders), ProfileSet(profiles, ()), period)


def _same(left: MonitoringReport, right: MonitoringReport) -> None:
    """Every table, alert and note equal."""
    for name in ("segments", "features", "categories", "score_bins", "bands"):
        pd.testing.assert_frame_equal(getattr(left, name), getattr(right, name), check_exact=True)
    assert left.alerts == right.alerts
    assert left.notes == right.notes
    assert left.source == right.source


@pytest.mark.parametrize("period", ["month", "week"])
def test_duckdb_counts_give_the_pandas_report(log: list[Path], profiles: dict, period) -> None:
    # given a log with two runs, unseen categories, corrupt lines and Parquet days
    assert any(p.suffix == ".parquet" for p in log[0].iterdir())
    # when it is counted by DuckDB and by pandas
    counted = duckdb_report(log, lambda ids: ProfileSet({r: profiles[r] for r in ids}, ()), period)
    expected = _pandas(log, profiles, period)
    # then the report is the same, down to the last bit of every PSI
    _same(counted, expected)
    notes = " ".join(counted.notes)
    assert "Skipped 1 corrupt" in notes and "Skipped 1 line(s) whose time" in notes
    assert "The model changed during" in notes
    assert (counted.features["unseen_rate"] > 0).any() and counted.alerts
    assert set(counted.segments["run_id"]) == {"run-a", "run-b"}


def test_auto_picks_duckdb_above_the_size_threshold(log: list[Path], tmp_path: Path) -> None:
    # given a small log / then auto counts it in pandas, and with outcomes always in pandas
    assert chosen_engine("auto", log) == "pandas"
    big = tmp_path / "big"
    big.mkdir()
    with (big / "decisions-2026-01-01.jsonl").open("wb") as handle:
        handle.truncate(AUTO_DUCKDB_BYTES + 1)
    assert chosen_engine("auto", big) == "duckdb"
    assert chosen_engine("auto", big, with_outcomes=True) == "pandas"
    with pytest.raises(DataValidationError, match="cannot join outcomes"):
        chosen_engine("duckdb", log, with_outcomes=True)
    assert chosen_engine("spark", log) == "spark"
    with pytest.raises(DataValidationError, match=r"Spark engine .* cannot join outcomes"):
        chosen_engine("spark", log, with_outcomes=True)


@pytest.mark.spark
def test_spark_counts_give_the_pandas_report(spark, log: list[Path], profiles: dict) -> None:
    # given the same log (Parquet days read by Spark, JSONL with a corrupt line parsed here)
    # and a session whose time zone is 14 hours ahead of UTC
    def profiles_for(ids: tuple[str, ...]) -> ProfileSet:
        return ProfileSet({r: profiles[r] for r in ids}, ())

    zone = "spark.sql.session.timeZone"
    spark.conf.set(zone, "Pacific/Kiritimati")
    # when Spark SQL counts it on the test session's local[2] session, by week and by month
    for period in ("week", "month"):
        counted = spark_report(log, profiles_for, period, master=SPARK_MASTER)
        # then the report is the pandas engine's (UTC periods), bit for bit, notes and alerts
        _same(counted, _pandas(log, profiles, period))
    assert "Skipped 1 corrupt" in " ".join(counted.notes)
    assert (counted.features["unseen_rate"] > 0).any() and counted.alerts
    assert spark.conf.get(zone) == "Pacific/Kiritimati"  # the user's setting is restored
    spark.conf.unset(zone)


def test_spark_without_java_names_what_to_install(monkeypatch, tmp_path: Path) -> None:
    # given a machine whose PATH and JAVA_HOME hold no java
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    # when the Spark engine is asked for / then the message names Java and the requirements file
    with pytest.raises(DataValidationError, match="Java 17") as error:
        check_spark_installed()
    assert "requirements-spark.txt" in str(error.value.fix)
