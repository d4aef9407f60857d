"""Cached wrappers for Monitoring: recent data per source, profiles per run, the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.tables import read_table_bytes
from core.decision_log.reader import RecentData, read_decision_log
from core.monitoring import log_summary, sources
from core.monitoring.drift import distribution_comparison
from core.monitoring.log_engines import duckdb_report
from core.monitoring.log_summary import LogFiles, feature_distribution
from core.monitoring.periods import Period
from core.monitoring.profiles import ProfileSet, load_profiles
from core.monitoring.reference import CategoricalProfile, NumericProfile
from core.monitoring.report import MonitoringReport
from core.monitoring.use_cases import report_with_profiles, run_ids
from core.run_schema import model_uri
from core.settings import Settings
from ui.monitoring.picked import Picked
from ui.shared import cache

LOG_TTL_SECONDS = 30
_ENTRIES = 8
# A log held in pandas takes about 1 GB per million decisions: keep the latest two reads only.
_LOG_READS = 2


@st.cache_resource(show_spinner=False, ttl=LOG_TTL_SECONDS)
def log_files(folder: str) -> LogFiles:
    """The decision log's day files and their sizes, looked at again at most every 30 s (their
    key changes when the log grows, and with it every cached read and report of the log)."""
    return log_summary.log_files(Path(folder))


@st.cache_resource(show_spinner="Reading the decision log…", max_entries=_LOG_READS)
def decision_log(folder: str, log_key: str) -> RecentData:
    """The decision log in pandas, read again when its files' key changes."""
    return read_decision_log(Path(folder))


@st.cache_resource(show_spinner="Simulating recent applications…", max_entries=_ENTRIES)
def simulated(tracking_uri: str, run_id: str, threshold: float, drift: float) -> RecentData:
    """The simulated demo months scored by the run's model."""
    model = cache.model(tracking_uri, model_uri(run_id))
    return sources.simulated(model, run_id, threshold, drift)


@st.cache_resource(show_spinner="Scoring the file with the run's model…", max_entries=_ENTRIES)
def uploaded(
    tracking_uri: str,
    run_id: str,
    threshold: float,
    name: str,
    fingerprint: str,
    date_column: str | None,
    outcome_column: str | None,
    _content: bytes,
) -> RecentData:
    """A user's file (keyed by its content hash) as recent data, scored when it has no scores."""
    frame = read_table_bytes(name, _content)
    model = cache.model(tracking_uri, model_uri(run_id))
    return sources.from_table(
        frame,
        features=model.feature_names,
        run_id=run_id,
        threshold=threshold,
        model=None if sources.SCORE in frame.columns else model,
        date_column=date_column,
        outcome_column=outcome_column,
        source=f"file {name}",
    )


@st.cache_resource(show_spinner="Loading reference profiles…", ttl=LOG_TTL_SECONDS)
def profiles(_settings: Settings, tracking_uri: str, run_ids: tuple[str, ...]) -> ProfileSet:
    """Each run's reference profile (frozen at promotion, else built from the run)."""
    return load_profiles(_settings, cache.client_for(tracking_uri), run_ids)


@st.cache_resource(show_spinner="Comparing recent data with the reference…", max_entries=_ENTRIES)
def report(
    source_key: str, period: Period, _recent: RecentData, _profiles: ProfileSet
) -> MonitoringReport:
    """The report for one source content and period (source_key identifies the content)."""
    return report_with_profiles(_recent, _profiles, period)


@dataclass(frozen=True, eq=False)
class Built:
    """A report and the profiles it compared with."""

    report: MonitoringReport
    found: ProfileSet


@st.cache_resource(show_spinner="Counting the decision log with DuckDB…", max_entries=_ENTRIES)
def counted_log(
    _settings: Settings, tracking_uri: str, log_key: str, period: Period, _files: LogFiles
) -> Built:
    """The report of the log counted by DuckDB (its rows never held in pandas), per log key."""
    found: list[ProfileSet] = []

    def profiles_for(runs: tuple[str, ...]) -> ProfileSet:
        found.append(profiles(_settings, tracking_uri, runs))
        return found[-1]

    report = duckdb_report([Path(f) for f in _files.folders], profiles_for, period)
    return Built(report, found[-1])


def built(settings: Settings, tracking_uri: str, picked: Picked, period: Period) -> Built:
    """The report of the rows held in pandas, or of the log counted by DuckDB."""
    if picked.recent is None and picked.log is not None:
        return counted_log(settings, tracking_uri, picked.key, period, picked.log)
    recent = picked.recent
    found = profiles(settings, tracking_uri, run_ids(recent))
    return Built(report(picked.key, period, recent, found), found)


@st.cache_resource(show_spinner="Reading the feature from the decision log…", max_entries=32)
def log_distribution(
    log_key: str, run_id: str, feature: str, _files: LogFiles,
    _profile: NumericProfile | CategoricalProfile,
) -> pd.DataFrame:  # fmt: skip
    """One feature's distribution over one run's logged decisions, scanned by DuckDB."""
    return feature_distribution(_files, run_id, feature, _profile)


def distribution(picked: Picked, found: ProfileSet, run_id: str, feature: str) -> pd.DataFrame:
    """Reference vs recent shares of one feature for one run, from the rows or from the log."""
    profile = found.profiles[run_id].features[feature]
    if picked.recent is None and picked.log is not None:
        return log_distribution(picked.key, run_id, feature, picked.log, profile)
    recent = picked.recent
    rows = (recent.decisions["run_id"] == run_id).to_numpy()
    return distribution_comparison(profile, recent.features.loc[rows, feature])
