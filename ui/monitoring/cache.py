"""Cached wrappers for Monitoring: recent data per source, profiles per run, the report."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.data.tables import read_table_bytes
from core.decision_log.reader import RecentData, read_decision_log
from core.monitoring import sources
from core.monitoring.periods import Period
from core.monitoring.profiles import ProfileSet, load_profiles
from core.monitoring.report import MonitoringReport
from core.monitoring.use_cases import report_with_profiles
from core.run_schema import model_uri
from core.settings import Settings
from ui.shared import cache

LOG_TTL_SECONDS = 30
_ENTRIES = 8


@st.cache_resource(show_spinner="Reading the decision log…", ttl=LOG_TTL_SECONDS)
def decision_log(folder: str) -> RecentData:
    """The decision log, re-read at most every 30 s."""
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
