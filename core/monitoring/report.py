"""Monitoring use case: score recent applications with a model and compare them to its reference."""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from core.data.synthetic import coerce_binary_target
from core.errors import DataValidationError
from core.evaluation.eval_data import score_frame
from core.monitoring import drift
from core.scoring.prepare import model_categories
from core.training.trainer import LABEL_COLUMN, SCORE_COLUMN

MAX_MONITORED_ROWS = 200_000


@dataclass(frozen=True)
class MonitoringReport:
    """Drift and performance of a model on recent data against its reference data."""

    reference: drift.DecisionSummary
    recent: drift.DecisionSummary
    score_psi: float
    score_status: drift.DriftStatus
    score_distribution: pd.DataFrame
    features: pd.DataFrame
    alert: drift.PerformanceAlert
    unseen_categories: dict[str, list[str]]
    sampled_from: int | None
    by_period: pd.DataFrame | None


def _labels(recent: pd.DataFrame, label_column: str | None) -> np.ndarray | None:
    """The recent labels as 0/1, or None when no label column was given."""
    if not label_column:
        return None
    if label_column not in recent.columns:
        raise DataValidationError(f"Label column '{label_column}' is not in the recent data.")
    return coerce_binary_target(recent[label_column], label_column).to_numpy()


def build_report(
    model: lgb.LGBMClassifier,
    reference: pd.DataFrame,
    recent: pd.DataFrame,
    threshold: float,
    label_column: str | None = None,
    date_column: str | None = None,
    seed: int = 0,
) -> MonitoringReport:
    """Score recent data and compare its features, scores and outcomes with the reference."""
    if recent.empty:
        raise DataValidationError("The recent data has no rows.", fix="Give a file with rows.")
    sampled_from = None
    if len(recent) > MAX_MONITORED_ROWS:
        sampled_from = len(recent)
        recent = recent.sample(MAX_MONITORED_ROWS, random_state=seed)
    features = list(model.feature_name_)
    scores, unseen, _missing = score_frame(model, recent)
    labels = _labels(recent, label_column)
    ref_scores = reference[SCORE_COLUMN].to_numpy()
    reference_summary = drift.decision_summary(
        ref_scores, threshold, reference[LABEL_COLUMN].to_numpy()
    )
    recent_summary = drift.decision_summary(scores, threshold, labels)
    score_table = drift.distribution_comparison(
        pd.Series(ref_scores), pd.Series(scores), categorical=False
    )
    score_psi = drift.population_stability_index(
        score_table["reference_share"], score_table["recent_share"]
    )
    by_period = None
    if date_column:
        if date_column not in recent.columns:
            raise DataValidationError(f"Date column '{date_column}' is not in the recent data.")
        by_period = drift.summary_by_period(recent[date_column], scores, threshold, labels)
    return MonitoringReport(
        reference=reference_summary,
        recent=recent_summary,
        score_psi=score_psi,
        score_status=drift.drift_status(score_psi),
        score_distribution=score_table,
        features=drift.feature_drift(
            reference[features], recent[features], list(model_categories(model))
        ),
        alert=drift.performance_alert(reference_summary, recent_summary),
        unseen_categories=unseen,
        sampled_from=sampled_from,
        by_period=by_period,
    )
