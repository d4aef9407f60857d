"""Monitoring's outcome checks against training rows: labelled decisions the model trained on."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from core.data.training_rows import LEAKAGE_ALERT_SHARE, TrainingRows, training_overlap
from core.decision_log.reader import RecentData
from core.monitoring.alerts import Alert
from core.monitoring.sources import OUTCOME


def outcome_overlap_findings(
    recent: RecentData, training: Mapping[str, TrainingRows | None]
) -> tuple[list[str], list[Alert]]:
    """Per run with labelled decisions: a note on how many were training rows (or that this
    cannot be checked), and a warning alert above 1% (accuracy there is optimistic)."""
    if OUTCOME not in recent.decisions.columns:
        return [], []
    outcome = recent.decisions[OUTCOME].to_numpy(dtype=float)
    runs = recent.decisions["run_id"].astype(str).to_numpy()
    notes, alerts = [], []
    for run_id, record in training.items():
        rows = np.flatnonzero((runs == run_id) & ~np.isnan(outcome))
        if rows.size == 0:
            continue
        features = recent.features.iloc[rows].reset_index(drop=True)
        overlap = training_overlap(f"run {run_id[:8]}", record, features, outcome[rows])
        notes.append(f"Labelled outcomes: {overlap.sentence}")
        if overlap.material:
            alerts.append(
                Alert(
                    "warning", "training rows", "all periods", run_id, "outcomes",
                    overlap.share, LEAKAGE_ALERT_SHARE,
                    f"{overlap.sentence} Judge accuracy on the unseen rows.",
                )
            )  # fmt: skip
    return notes, alerts
