"""The monitoring report: per period and run, volume, decisions, drift and accuracy vs the profile.

`report_from_counts` turns the counts of any engine (core.monitoring.counting) into the
report; `build_report` counts decisions held in pandas first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.decision_log.reader import RecentData
from core.monitoring import drift
from core.monitoring.accuracy import band_table, outcome_columns
from core.monitoring.alerts import Alert, find_alerts
from core.monitoring.counting import BinCounts
from core.monitoring.counting_pandas import count_frames
from core.monitoring.drift_tables import feature_rows, score_drift
from core.monitoring.periods import Period
from core.monitoring.reference import ReferenceProfile
from core.sentence import Sentence


@dataclass(frozen=True, eq=False)
class MonitoringReport:
    """Everything monitoring shows: tables by period and run, alerts, and notes on the input."""

    source: str
    period: Period
    segments: pd.DataFrame
    features: pd.DataFrame
    categories: pd.DataFrame
    score_bins: pd.DataFrame
    bands: pd.DataFrame
    alerts: tuple[Alert, ...]
    notes: tuple[str, ...]

    @property
    def has_outcomes(self) -> bool:
        """True when some decisions carry a known outcome."""
        return bool(self.segments["labelled"].sum() > 0)


def _input_notes(counted: BinCounts, profiles: Mapping[str, ReferenceProfile]) -> list[str]:
    """Sentences about empty periods, model changes, renamed columns and missing profiles."""
    notes = []
    per_period = counted.volume.reshape(len(counted.labels), counted.n_runs)
    empty = [counted.labels[p] for p in np.flatnonzero(per_period.sum(axis=1) == 0)]
    if empty:
        notes.append(f"No decisions in {', '.join(empty)}: those periods are shown with volume 0.")
    for p in np.flatnonzero((per_period > 0).sum(axis=1) > 1):
        parts = [
            f"{counted.runs[r][:8]} ({per_period[p, r]:,})" for r in np.flatnonzero(per_period[p])
        ]
        notes.append(
            f"The model changed during {counted.labels[p]}: {' and '.join(parts)} decisions; "
            "each run is compared with its own reference profile."
        )
    for run_id in counted.runs:
        if run_id not in profiles:
            notes.append(
                f"Run {run_id} has no reference profile: only volume and decisions are shown."
            )
    expected = {f for p in profiles.values() for f in p.features}
    absent = sorted(expected - set(counted.columns))
    extra = sorted(set(counted.columns) - expected)
    if absent:
        hint = " Columns not in the reference: {1} (renamed?)." if extra else ""
        notes.append(
            Sentence(
                "Model features absent from the recent data: {0}." + hint,
                ", ".join(absent),
                ", ".join(extra[:8]),
            )
        )
    return notes


def build_report(
    recent: RecentData, profiles: Mapping[str, ReferenceProfile], period: Period = "month"
) -> MonitoringReport:
    """Compare recent decisions held in pandas with each run's frozen profile."""
    counted = count_frames(recent, profiles, period)
    return report_from_counts(counted, profiles, period, recent.source, recent.notes)


def _segments(counted: BinCounts, profiles: Mapping[str, ReferenceProfile]) -> pd.DataFrame:
    """Volume, approval and outcome columns per period and run, with the profile's expectations."""
    n_periods, n_runs = len(counted.labels), counted.n_runs
    volume = counted.volume
    segments = pd.DataFrame(
        {
            "period": np.repeat(counted.labels, n_runs),
            "run_id": np.tile(counted.runs or [""], n_periods),
            "decisions": volume,
            "approval_rate": counted.approved / np.maximum(volume, 1),
        }
    )
    labelled = counted.labelled
    outcomes = outcome_columns(
        labelled,
        labelled["approved"].to_numpy(dtype=bool) if "approved" in labelled else np.zeros(0, bool),
        labelled["key"].to_numpy(dtype=np.intp),
        n_periods * n_runs,
    )
    segments = pd.concat([segments, outcomes], axis=1)
    segments["expected_approval_rate"] = [
        profiles[r].expected_approval_rate if r in profiles else np.nan for r in segments["run_id"]
    ]
    segments["expected_auc"] = [
        profiles[r].expected_auc if r in profiles else np.nan for r in segments["run_id"]
    ]
    segments["score_psi"] = np.nan
    segments["score_psi_noise"] = np.nan
    return segments


def report_from_counts(
    counted: BinCounts,
    profiles: Mapping[str, ReferenceProfile],
    period: Period,
    source: str,
    input_notes: tuple[str, ...] = (),
) -> MonitoringReport:
    """Compare counted decisions with each run's frozen profile, per period and run."""
    n_periods, n_runs = len(counted.labels), counted.n_runs
    segments = _segments(counted, profiles)
    features, categories, score_bins = [], [], []
    for code, run_id in enumerate(counted.runs):
        profile = profiles.get(run_id)
        if profile is None or run_id not in counted.score:
            continue
        psi, bins = score_drift(counted.score[run_id], counted.labels, run_id, profile)
        target = np.arange(n_periods) * n_runs + code
        segments.loc[target, "score_psi"] = psi["psi"]
        segments.loc[target, "score_psi_noise"] = psi["psi_noise"]
        score_bins.append(bins)
        found, shares = feature_rows(counted.features.get(run_id, {}), n_periods, profile)
        for frame in (*found, *shares):
            frame.insert(0, "run_id", run_id)
        features += found
        categories += shares
    feature_table = _finish(features, counted.labels)
    if not feature_table.empty:
        feature_table["missing_shift"] = (
            feature_table["missing_recent"] - feature_table["missing_reference"]
        )
        feature_table["out_of_range"] = feature_table["below_min"] + feature_table["above_max"]
        feature_table["status"] = [
            drift.drift_status(v, n)
            for v, n in zip(feature_table["psi"], feature_table["psi_noise"], strict=True)
        ]
    segments["approval_shift"] = segments["approval_rate"] - segments["expected_approval_rate"]
    notes = [*input_notes, *_input_notes(counted, profiles)]
    labelled = counted.labelled
    run_codes = labelled["run"].to_numpy() if "run" in labelled else np.zeros(0, np.intp)
    bands = band_table(labelled, run_codes, counted.runs, profiles)
    absent = sorted({f for p in profiles.values() for f in p.features} - set(counted.columns))
    return MonitoringReport(
        source=source,
        period=period,
        segments=_visible_segments(segments),
        features=feature_table,
        categories=_finish(categories, counted.labels),
        score_bins=pd.concat(score_bins, ignore_index=True) if score_bins else pd.DataFrame(),
        bands=bands,
        alerts=find_alerts(segments[segments["decisions"] > 0], feature_table, bands, absent),
        notes=tuple(notes),
    )


def _visible_segments(segments: pd.DataFrame) -> pd.DataFrame:
    """Segments with decisions, plus one row for each period that had none."""
    period_total = segments.groupby("period", sort=False)["decisions"].transform("sum")
    empty_period = (period_total == 0) & ~segments["period"].duplicated()
    return segments[(segments["decisions"] > 0) | empty_period].reset_index(drop=True)


def _finish(frames: list[pd.DataFrame], labels: list[str]) -> pd.DataFrame:
    """Concatenate per-run tables and turn period codes into period labels."""
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "period", np.asarray(labels, dtype=object)[table.pop("period_code").to_numpy()])
    return table
