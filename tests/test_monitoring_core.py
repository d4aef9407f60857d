"""Monitoring core without MLflow: profile, counting, noise-aware PSI, log reader, report."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data.synthetic import make_recent_applications, make_synthetic_credit_data
from core.decision_log.reader import RecentData, read_decision_log
from core.decision_log.writer import records_from_frames, write_records
from core.errors import DataValidationError
from core.evaluation.metrics import auc_score, ks_statistic
from core.monitoring import drift
from core.monitoring.accuracy import auc_and_ks, discrimination
from core.monitoring.output import report_dict, report_html, write_report
from core.monitoring.reference import (
    ProfileError,
    ReferenceProfile,
    build_profile,
    numeric_profile,
    parse_profile,
    read_profile,
)
from core.monitoring.report import build_report
from core.monitoring.sources import OUTCOME, from_table, join_outcomes
from tests.helpers.html_asserts import BREAKOUT, SCRIPT, assert_shown_as_text

CATEGORICAL = ["home_ownership", "loan_purpose"]
THRESHOLD = 0.4542


def _scores(frame: pd.DataFrame) -> np.ndarray:
    """A stand-in score that ranks the synthetic defaults (no model needed here)."""
    risk = (700 - frame["credit_score"].to_numpy()) / 150 + frame["revolving_utilization"].fillna(
        0.5
    ).to_numpy()
    return 1 / (1 + np.exp(-(risk - 1.6) * 2))


@pytest.fixture(scope="module")
def reference() -> tuple[pd.DataFrame, ReferenceProfile]:
    """A 6,000-row development sample and its profile."""
    frame = make_synthetic_credit_data(6_000, seed=1)
    features = [c for c in frame.columns if c not in ("applicant_id", "default")]
    profile = build_profile(
        frame, features, CATEGORICAL, _scores(frame), THRESHOLD,
        run_id="run-a", source="test sample", labels=frame["default"].to_numpy(),
    )  # fmt: skip
    return frame, profile


def _recent(n: int, drift_level: float, seed: int = 7, months: int = 3) -> pd.DataFrame:
    """Recent applications with stand-in scores."""
    frame = make_recent_applications(n_rows=n, seed=seed, months=months, max_drift=drift_level)
    frame["probability_of_default"] = _scores(frame)
    return frame


def _from(frame: pd.DataFrame, profile: ReferenceProfile, **options: str) -> object:
    return from_table(
        frame, features=list(profile.features), run_id=profile.run_id, threshold=THRESHOLD,
        date_column="application_date", **options,
    )  # fmt: skip


def test_psi_matches_a_hand_computation() -> None:
    ref, cur = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert drift.population_stability_index(ref, cur) == pytest.approx(expected, abs=1e-12)
    assert drift.population_stability_index(ref, ref) == 0.0
    assert drift.drift_status(0.1) == "moderate shift" and drift.drift_status(0.3).startswith("sig")


def test_bin_indices_count_like_labelled_bins_and_catch_out_of_range() -> None:
    # given a profile of 0..99 and recent values with missing and out-of-range ones
    profile = numeric_profile(np.r_[np.arange(100.0), [np.nan] * 10])
    recent = np.r_[np.arange(50.0), [-5.0, 150.0, 151.0], [np.nan] * 7]
    groups = np.zeros(recent.size, dtype=np.intp)
    # when counted by bin index
    counts = drift.numeric_counts(recent, groups, 1, profile)
    # then the counts equal pandas' labelled bins, the missing bin is last, the range is checked
    bounds = np.r_[-np.inf, profile.edges, np.inf]
    labelled = pd.cut(pd.Series(recent), bounds, right=False).value_counts(sort=False)
    assert counts.counts[0, :-1].tolist() == labelled.tolist()
    assert counts.counts[0, -1] == 7
    assert counts.below_min.tolist() == [1] and counts.above_max.tolist() == [2]
    assert profile.counts == [10] * 10 and profile.missing_rate == pytest.approx(10 / 110)
    values = np.random.default_rng(1).normal(50, 40, 1_000)
    edges = np.asarray(profile.edges)
    assert (drift.bin_index(values, edges) == np.searchsorted(edges, values, side="right")).all()


def test_categories_count_unseen_and_missing_for_text_and_category_dtypes() -> None:
    profile = build_profile(
        pd.DataFrame({"c": ["a", "b", "a", None]}), ["c"], ["c"], np.array([0.1, 0.2, 0.3, 0.9]),
        0.5, run_id="r", source="s",
    ).features["c"]  # fmt: skip
    values = pd.Series(["a", "zzz", None, "b"])
    for series in (values, values.astype("category")):
        counts = drift.categorical_counts(series, np.zeros(4, dtype=np.intp), 1, profile)
        assert dict(zip([*profile.categories, "unseen", "missing"], counts[0], strict=True)) == {
            "a": 1, "b": 1, "unseen": 1, "missing": 1,
        }  # fmt: skip


def test_noise_level_keeps_a_small_same_population_month_quiet(reference) -> None:
    # given 400 months of 100 rows each drawn from the reference population itself
    frame, profile = reference
    rng = np.random.default_rng(3)
    values = frame["credit_score"].to_numpy()
    months = rng.choice(values, size=(400, 100))
    groups = np.repeat(np.arange(400), 100)
    counts = drift.numeric_counts(months.ravel(), groups, 400, profile.features["credit_score"])
    psi = drift.psi_by_group(profile.features["credit_score"].shares(), counts.counts)
    noise = drift.psi_noise_level(profile.n_rows, np.full(400, 100), 10)
    # then the 0.10 rule alone fires on a large share of them, the noise-aware rule almost never
    assert np.mean(psi >= 0.10) > 0.3
    assert np.mean((psi >= 0.10) & (psi > noise)) <= 0.04
    assert noise[0] == pytest.approx(21.666 / (6000 * 100 / 6100), rel=1e-3)


def test_profile_round_trips_as_json_and_refuses_edits_and_other_versions(
    reference, tmp_path: Path
) -> None:
    _frame, profile = reference
    path = tmp_path / "p.json"
    path.write_bytes(profile.to_json_bytes())
    assert read_profile(path, profile.sha256) == profile
    assert 0.5 < profile.expected_approval_rate < 1 and len(profile.bands) == 10
    path.write_bytes(profile.to_json_bytes().replace(b'"run-a"', b'"run-b"'))
    with pytest.raises(ProfileError, match="does not match the sha256"):
        read_profile(path, profile.sha256)
    raw = json.loads(profile.to_json_bytes())
    raw["schema_version"] = 99
    with pytest.raises(ProfileError, match="schema version 99"):
        parse_profile(json.dumps(raw).encode(), "x.json")


def test_log_reader_skips_corrupt_lines_and_names_missing_days(reference, tmp_path: Path) -> None:
    # given a log over four days with day 3 missing, a corrupt line and a truncated last line
    _frame, profile = reference
    recent = _recent(400, 0.0, months=1)
    days = pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-04"])
    times = pd.Series(np.repeat(days, [134, 133, 133]))
    features = recent[list(profile.features)]
    records = records_from_frames(
        features, recent["probability_of_default"], times, "run-a", 0.4542
    )
    paths = write_records(tmp_path, records)
    with paths["2026-01-02"].open("a") as handle:
        handle.write("not json at all\n")
    with paths["2026-01-04"].open("a") as handle:
        handle.write(json.dumps(records[0])[:40])
    # when the log is read
    read = read_decision_log(tmp_path)
    # then every good line is kept, the bad ones are counted and the missing day is named
    assert len(read.decisions) == 400
    notes = " ".join(read.notes)
    assert "Skipped 2 corrupt or truncated line(s)" in notes and "2026-01-03" in notes
    clean = read_decision_log(tmp_path.parent / tmp_path.name)  # same folder, read again
    assert clean.features["credit_score"].tolist() == recent["credit_score"].tolist()
    assert read.features["loan_purpose"].tolist() == recent["loan_purpose"].astype(str).tolist()


def test_log_reader_refuses_a_missing_or_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="does not exist"):
        read_decision_log(tmp_path / "nowhere")
    with pytest.raises(DataValidationError, match="holds no"):
        read_decision_log(tmp_path)
    (tmp_path / "decisions-2026-01-01.jsonl").write_text("{broken\n")
    with pytest.raises(DataValidationError, match="No readable decision"):
        read_decision_log(tmp_path)


def test_report_flags_drift_beyond_noise_and_keeps_calm_months_quiet(reference) -> None:
    _frame, profile = reference
    calm = build_report(_from(_recent(3_000, 0.0), profile), {"run-a": profile})
    assert not [a for a in calm.alerts if "PSI" in a.kind]
    drifted = build_report(_from(_recent(3_000, 1.5), profile), {"run-a": profile})
    flagged = {(a.kind, a.subject) for a in drifted.alerts}
    assert ("feature PSI", "credit_score") in flagged
    assert drifted.segments["period"].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert drifted.features.groupby("period")["feature"].count().eq(11).all()


def test_model_change_mid_period_splits_the_period_by_run(reference) -> None:
    # given one month whose second half was scored by another run
    _frame, profile = reference
    other = profile.model_copy(update={"run_id": "run-b", "expected_approval_rate": 0.5})
    frame = _recent(1_000, 0.0, months=1)
    frame["run_id"] = np.where(frame["application_date"].dt.day > 14, "run-b", "run-a")
    # when the report is built
    report = build_report(_from(frame, profile), {"run-a": profile, "run-b": other})
    # then the month has one row per run, each against its own profile, and a note says so
    month = report.segments[report.segments["period"] == "2026-01"]
    assert month["run_id"].tolist() == ["run-a", "run-b"]
    assert month["expected_approval_rate"].tolist() == [profile.expected_approval_rate, 0.5]
    assert month["decisions"].sum() == 1_000
    assert any("model changed during 2026-01" in n for n in report.notes)


def test_period_without_decisions_and_weekly_periods(reference) -> None:
    _frame, profile = reference
    frame = _recent(900, 0.0, months=3)
    frame = frame[frame["application_date"].dt.month != 2]
    report = build_report(_from(frame, profile), {"run-a": profile})
    empty = report.segments[report.segments["period"] == "2026-02"]
    assert empty["decisions"].tolist() == [0]
    assert any("No decisions in 2026-02" in n for n in report.notes)
    weekly = build_report(_from(frame, profile), {"run-a": profile}, period="week")
    assert weekly.segments["decisions"].sum() == len(frame) and len(weekly.segments) > 8


def test_renamed_column_raises_a_critical_alert_and_names_the_candidate(reference) -> None:
    _frame, profile = reference
    frame = _recent(600, 0.0).rename(columns={"credit_score": "fico"})
    recent = from_table(
        frame, features=[*profile.features, "fico"], run_id="run-a", threshold=THRESHOLD,
        date_column="application_date",
    )  # fmt: skip
    report = build_report(recent, {"run-a": profile})
    assert report.alerts[0].kind == "missing feature" and report.alerts[0].level == "critical"
    assert any("credit_score" in n and "fico (renamed?)" in n for n in report.notes)
    assert "credit_score" not in set(report.features["feature"])


def test_outcomes_give_accuracy_with_intervals_and_band_tests(reference) -> None:
    _frame, profile = reference
    frame = _recent(3_000, 0.0)
    report = build_report(_from(frame, profile, outcome_column="default"), {"run-a": profile})
    first = report.segments.iloc[0]
    month = frame[frame["application_date"].dt.month == 1]
    approved = month["probability_of_default"] < THRESHOLD
    assert first["bad_rate_approved"] == pytest.approx(month.loc[approved, "default"].mean())
    assert first["auc_low"] < first["auc"] < first["auc_high"]
    assert first["gini"] == pytest.approx(2 * first["auc"] - 1)
    assert len(report.bands) == 10 and report.bands["n"].sum() == 3_000
    # a miscalibrated model: every outcome a default
    frame["default"] = 1
    bad = build_report(_from(frame, profile, outcome_column="default"), {"run-a": profile})
    assert any(a.kind == "band accuracy" for a in bad.alerts)


def test_outcomes_file_with_unknown_and_duplicate_ids(reference) -> None:
    _frame, profile = reference
    frame = _recent(300, 0.0)
    recent = _from(frame, profile)
    ids = frame["applicant_id"].tolist()
    outcomes = pd.DataFrame(
        {
            "applicant_id": [*ids[:100], ids[0], ids[1], "nobody-1", "nobody-2"],
            "default": [*frame["default"].iloc[:100], frame["default"].iloc[0],
                        1 - frame["default"].iloc[1], 0, 1],
        }
    )  # fmt: skip
    joined = join_outcomes(recent, outcomes)
    notes = " ".join(joined.notes)
    assert "1 outcome id(s) appear more than once with the same outcome" in notes
    assert f"different outcomes ({ids[1]})" in notes
    assert "2 outcome id(s) match no decision (nobody-1, nobody-2)" in notes
    assert joined.decisions[OUTCOME].notna().sum() == 99
    with pytest.raises(DataValidationError, match="None of the 2 outcome ids"):
        join_outcomes(recent, pd.DataFrame({"applicant_id": ["x", "y"], "bad": [0, 1]}))
    with pytest.raises(DataValidationError, match="no id column"):
        join_outcomes(recent, pd.DataFrame({"who": ["x"], "bad": [0]}))


def test_report_writes_json_and_html_and_refuses_other_suffixes(reference, tmp_path: Path) -> None:
    _frame, profile = reference
    report = build_report(_from(_recent(600, 1.5), profile), {"run-a": profile})
    write_report(report, tmp_path / "r.json")
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved == json.loads(json.dumps(report_dict(report), default=str))
    assert len(saved["alerts"]) == len(report.alerts) and saved["segments"][0]["period"]
    write_report(report, tmp_path / "r.html")
    assert "Monitoring report" in (tmp_path / "r.html").read_text()
    with pytest.raises(DataValidationError, match=r"report\.json or report\.html"):
        write_report(report, tmp_path / "r.txt")


def test_report_html_shows_names_from_the_data_as_text() -> None:
    # given features, a source and a note whose names hold markup, and drift that raises alerts
    names = {"credit_score": f"credit_score {SCRIPT}", "loan_purpose": f"purpose {BREAKOUT}"}
    frame = make_synthetic_credit_data(3_000, seed=1)
    features = [names.get(c, c) for c in frame.columns if c not in ("applicant_id", "default")]
    profile = build_profile(
        frame.rename(columns=names), features, [names.get(c, c) for c in CATEGORICAL],
        _scores(frame), THRESHOLD, run_id="run-a", source="test sample",
    )  # fmt: skip
    recent = _from(_recent(600, 1.5).rename(columns=names), profile)
    recent = replace(recent, source=f"upload {BREAKOUT}", notes=(f"note {SCRIPT}",))
    report = build_report(recent, {"run-a": profile})
    assert any(names["credit_score"] in alert.line() for alert in report.alerts)
    # when it is written as HTML
    page = report_html(report)
    # then every such name shows as text: no element or attribute comes from it
    assert "<script>alert" not in page and "<img" not in page
    assert_shown_as_text(page, names["credit_score"], names["loan_purpose"], BREAKOUT, scripts=0)


def test_one_sort_auc_and_ks_equal_the_evaluation_metrics() -> None:
    rng = np.random.default_rng(4)
    labels = (rng.random(2_000) < 0.2).astype(float)
    scores = np.round(rng.random(2_000) * 0.6 + labels * 0.2, 2)  # many ties
    auc, ks = auc_and_ks(labels, scores)
    assert auc == pytest.approx(auc_score(labels, scores), abs=1e-12)
    assert ks == pytest.approx(ks_statistic(labels, scores), abs=1e-12)
    found = discrimination(labels, scores)
    assert found.auc_low < auc < found.auc_high and found.ks_low < ks < found.ks_high


def test_outcomes_join_by_request_id_notes_batches() -> None:
    # given decisions from a batch request (one request id, two applicants without ids)
    decisions = pd.DataFrame(
        {
            "time": pd.to_datetime(["2026-01-01"] * 3, utc=True),
            "run_id": "r",
            "request_id": ["req-1", "req-1", "req-2"],
            "applicant_id": [None, None, None],
            "probability_of_default": [0.1, 0.2, 0.3],
        }
    )
    recent = RecentData(decisions, pd.DataFrame(index=range(3)), "test")
    # when outcomes arrive by request id
    joined = join_outcomes(recent, pd.DataFrame({"request_id": ["req-1"], "bad": [1]}))
    # then both decisions of the batch get it, and a note says so
    assert joined.decisions[OUTCOME].tolist()[:2] == [1.0, 1.0]
    assert any("name more than one decision" in n for n in joined.notes)
