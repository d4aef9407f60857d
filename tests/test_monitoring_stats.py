"""Monitoring statistics that know both sample sizes: two-sample band tests with Holm, the
training range for out-of-range, and alert sentences that claim only what the test shows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from core.decision_log.contract import SCORE
from core.monitoring.accuracy import band_table, holm_adjusted
from core.monitoring.alerts import find_alerts
from core.monitoring.drift import drift_status
from core.monitoring.reference import ReferenceProfile, build_profile
from core.monitoring.report import build_report
from core.monitoring.run_profile import profile_from_run
from core.monitoring.sources import OUTCOME, from_table
from core.store.training_rows import load_training_rows

THRESHOLD = 0.5
REFERENCE_BADS = [0, 0, 3, 5, 8, 10, 12, 15, 18, 20]  # of 25 rows per band


def _small_profile(scale: str = "risk_score") -> ReferenceProfile:
    """A 250-row reference: ten score bands of 25 rows with known bad counts."""
    scores = np.linspace(0.01, 0.99, 250)
    labels = np.concatenate([[1] * b + [0] * (25 - b) for b in REFERENCE_BADS])
    frame = pd.DataFrame({"x": scores})
    return build_profile(
        frame, ["x"], [], scores, THRESHOLD, run_id="run-a", source="test", labels=labels,
        score_scale=scale,
    )  # fmt: skip


def _band_decisions(profile: ReferenceProfile, rows: dict[int, tuple[int, int]]) -> pd.DataFrame:
    """Recent outcomes: per band index, (rows, bads), scored in the middle of the band."""
    scores, outcomes = [], []
    for i, (n, bads) in rows.items():
        band = profile.bands[i]
        scores += [(band.lower + band.upper) / 2] * n
        outcomes += [1.0] * bads + [0.0] * (n - bads)
    return pd.DataFrame({SCORE: scores, OUTCOME: outcomes})


def _band_alerts(profile: ReferenceProfile, rows: dict[int, tuple[int, int]]) -> list:
    decisions = _band_decisions(profile, rows)
    bands = band_table(
        decisions, np.zeros(len(decisions), dtype=int), ["run-a"], {"run-a": profile}
    )
    return list(find_alerts(pd.DataFrame(), pd.DataFrame(), bands, [])), bands


def test_25_row_bands_give_no_alert_at_1_percent() -> None:
    # given 25-row reference bands (two expect 0% bad) and small recent bands at 20% and 60%
    profile = _small_profile()
    alerts, bands = _band_alerts(profile, {0: (5, 1), 1: (5, 1), 2: (10, 6), 5: (25, 10)})
    # then a one-sample test would call the 0% bands impossible, but the two-sample test knows
    # the reference is a sample too: nothing is below 1% after Holm's correction
    assert alerts == []
    first = bands.iloc[0]
    assert first["test"] == "Fisher exact" and 0.1 < first["p_value"] < 0.3
    assert (bands["p_holm"].dropna() >= bands["p_value"].dropna()).all()


def test_a_real_band_shift_alerts_and_names_a_risk_score_as_such() -> None:
    # given 200 recent rows in a band whose reference bad rate is 12%, now 60% bad
    alerts, _ = _band_alerts(_small_profile(), {2: (200, 120)})
    # then one alert, stating both sample sizes, and no claim of "calibration" on a risk score
    assert len(alerts) == 1
    message = alerts[0].message
    assert "over 200 recent outcomes" in message and "over 25 reference rows" in message
    assert "calibrated" not in message and "risk score, not a probability" in message
    # and on a calibrated PD the same shift is a calibration finding
    calibrated, _ = _band_alerts(_small_profile("calibrated_pd"), {2: (200, 120)})
    assert "no longer calibrated" in calibrated[0].message


def test_holm_adjusts_step_down_and_keeps_order() -> None:
    adjusted = holm_adjusted(np.array([0.01, 0.04, np.nan, 0.03]))
    assert np.allclose(adjusted[[0, 3, 1]], [0.03, 0.06, 0.06]) and np.isnan(adjusted[2])


def _age_profile(training_range: tuple[float, float] | None) -> ReferenceProfile:
    """Validation ages 21-74; the training range when recorded."""
    ages = np.linspace(21, 74, 250)
    frame = pd.DataFrame({"age_in_years": ages})
    ranges = {"age_in_years": training_range} if training_range else None
    return build_profile(
        frame, ["age_in_years"], [], np.linspace(0.1, 0.9, 250), THRESHOLD, run_id="run-a",
        source="test", training_ranges=ranges,
    )  # fmt: skip


def _age_report(profile: ReferenceProfile):
    ages = np.r_[[20.0] * 10, np.linspace(22, 70, 190)]
    frame = pd.DataFrame(
        {"age_in_years": ages, SCORE: np.linspace(0.1, 0.9, 200),
         "date": pd.Timestamp("2026-01-15")}
    )  # fmt: skip
    recent = from_table(
        frame, features=["age_in_years"], run_id="run-a", threshold=THRESHOLD, date_column="date"
    )
    return build_report(recent, {"run-a": profile})


def test_age_20_is_not_out_of_range_for_a_model_trained_on_19_to_75() -> None:
    # given a model trained on ages 19-75 and validated on 21-74, and 5% of recent ages at 20
    report = _age_report(_age_profile((19.0, 75.0)))
    # then age 20 lies inside what the model saw: no out-of-range share, no alert
    assert report.features["out_of_range"].iloc[0] == 0
    assert not [a for a in report.alerts if a.kind == "out of range"]
    # and without a training range the validation range judges, and the alert says only that
    alerts = [a for a in _age_report(_age_profile(None)).alerts if a.kind == "out of range"]
    assert len(alerts) == 1 and "validation range 21–74" in alerts[0].message
    assert "never saw" not in alerts[0].message


def test_training_logs_ranges_and_the_profile_records_them(file_store_template) -> None:
    # given a governed run trained by this code
    client = MlflowClient(file_store_template.uri)
    run_id = file_store_template.governed[0]
    # when its training-rows record and its profile are read
    training = load_training_rows(client, run_id)
    profile = profile_from_run(file_store_template.uri, client, run_id, THRESHOLD)
    # then the profile holds the training range beside the validation range
    assert training is not None and training.ranges
    name, (low, high) = next(iter(training.ranges.items()))
    part = profile.features[name]
    assert (part.training_minimum, part.training_maximum) == (low, high)
    assert part.range_low <= part.minimum and part.range_high >= part.maximum
    assert "the training range" in part.range_text()
    # and a run logged by other code has no record: None, not an error
    assert (
        load_training_rows(
            client, file_store_template.foreign[next(iter(file_store_template.foreign))]
        )
        is None
    )


def test_a_psi_below_its_noise_level_is_not_called_a_shift() -> None:
    # given a PSI of 0.15 where sampling noise alone reaches 0.20, and one where it reaches 0.05
    # then the first is stable, the second a moderate shift
    assert drift_status(0.15, 0.20) == "stable"
    assert drift_status(0.15, 0.05) == "moderate shift"


def test_a_score_psi_alert_says_the_score_moved_not_the_population() -> None:
    # given one period whose score PSI is far above noise
    segments = pd.DataFrame(
        [{"period": "2026-01", "run_id": "run-a", "decisions": 500, "approval_rate": 0.8,
          "expected_approval_rate": np.nan, "score_psi": 0.4, "score_psi_noise": 0.05,
          "auc": np.nan, "auc_high": np.nan, "expected_auc": np.nan}]
    )  # fmt: skip
    # when alerts are found
    (alert,) = find_alerts(segments, pd.DataFrame(), pd.DataFrame(), [])
    # then it claims a moved score, and leaves the population to the feature tests
    assert "the score distribution moved" in alert.message
    assert "population" not in alert.message
