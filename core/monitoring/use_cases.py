"""Monitoring use cases shared by the CLI and the page: load recent data, profiles, report."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd
from mlflow.tracking import MlflowClient

from core.data.tables import read_table
from core.decision_log.contract import SCORE
from core.decision_log.reader import RecentData, read_decision_log
from core.errors import DataValidationError
from core.monitoring import sources
from core.monitoring.periods import Period
from core.monitoring.profiles import ProfileSet, load_profiles
from core.monitoring.report import MonitoringReport, build_report
from core.monitoring.training_overlap import outcome_overlap_findings
from core.record.manifest import read_manifest
from core.settings import Settings
from core.store.access import load_model

LOG_SOURCE = "log"


def promoted_run(settings: Settings, run_id: str | None = None) -> tuple[str, float]:
    """The run to monitor a file against (given, else the promoted one) and its threshold."""
    manifest = read_manifest(settings.promotion_manifest)
    if run_id:
        same = manifest is not None and manifest.run_id == run_id
        return run_id, manifest.threshold if same else settings.decision_threshold
    if manifest is None:
        raise DataValidationError(
            "Nothing is promoted, so there is no model to monitor the file against.",
            fix="Promote a run (python -m core promote) or name one with --run-id.",
        )
    return manifest.run_id, manifest.threshold


def recent_from_file(
    settings: Settings,
    path: Path,
    *,
    run_id: str | None = None,
    date_column: str | None = None,
    outcome_column: str | None = None,
) -> RecentData:
    """A CSV/Parquet of recent applications or decisions, scored by the run's model if needed."""
    frame = read_table(path)
    run, threshold = promoted_run(settings, run_id)
    model = load_model(settings.tracking_uri, run)
    return sources.from_table(
        frame,
        features=model.feature_names,
        run_id=run,
        threshold=threshold,
        model=None if SCORE in frame.columns else model,
        date_column=date_column or sources.guess_column(frame.columns, sources.DATE_CANDIDATES),
        outcome_column=outcome_column,
        source=f"file {path.name}",
    )


def load_recent(
    settings: Settings, source: str, since: dt.date | None = None, **file_options: str | None
) -> RecentData:
    """The decision log (source 'log', from `since` on) or a file path."""
    if source == LOG_SOURCE:
        return read_decision_log(settings.decision_log_dir, since)
    return recent_from_file(settings, Path(source), **file_options)


def with_outcomes(recent: RecentData, outcomes: pd.DataFrame | None) -> RecentData:
    """Recent data with outcomes joined by id, or as it is without an outcomes table."""
    return recent if outcomes is None else sources.join_outcomes(recent, outcomes)


def monitor(
    settings: Settings, client: MlflowClient, recent: RecentData, period: Period = "month"
) -> MonitoringReport:
    """The report of recent data against each of its runs' reference profiles."""
    return report_with_profiles(recent, load_profiles(settings, client, run_ids(recent)), period)


def run_ids(recent: RecentData) -> tuple[str, ...]:
    """The runs that made the recent decisions, in order of first appearance."""
    return tuple(recent.decisions["run_id"].astype(str).unique().tolist())


def report_with_profiles(
    recent: RecentData, found: ProfileSet, period: Period = "month"
) -> MonitoringReport:
    """The report, with the notes on where each profile came from and on labelled outcomes
    found among the training rows of their run."""
    notes, alerts = outcome_overlap_findings(recent, found.training)
    noted = replace(recent, notes=(*recent.notes, *found.notes, *notes))
    report = build_report(noted, found.profiles, period)
    return replace(report, alerts=(*report.alerts, *alerts)) if alerts else report
