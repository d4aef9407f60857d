"""Paired DeLong intervals for runs tied within noise that logged the same validation rows.

The recommendation first finds a tie with each run's Hanley–McNeil error (core.runs.ties);
where the tied runs' logged validation sets hold the same rows and labels, the difference of
each run to the best is tested on those rows with the paired DeLong test, which knows how the
two models' errors move together, and the tie is judged again with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from core.errors import GovernanceError
from core.evaluation.run_comparison import delong_test
from core.run_schema import ID_COLUMN, LABEL_COLUMN, SCORE_COLUMN
from core.runs.recommendation import Recommendation, recommend_run
from core.runs.stability import StabilityRule
from core.store.access import load_validation_set


def _scored_rows(client: MlflowClient, run_id: str) -> pd.DataFrame | None:
    """A run's validation labels and scores indexed by row id (None when unusable)."""
    try:
        frame = load_validation_set(client, run_id)
    except GovernanceError:
        return None
    if ID_COLUMN not in frame or frame[ID_COLUMN].duplicated().any():
        return None
    return frame.set_index(frame[ID_COLUMN].astype("str"))[[LABEL_COLUMN, SCORE_COLUMN]]


def paired_intervals(
    client: MlflowClient, best_run_id: str, run_ids: Iterable[str]
) -> dict[str, tuple[float, float]]:
    """Per run sharing the best run's validation rows: the 95% interval of its AUC − the best's.

    Runs whose validation sets differ from the best's (other rows or labels) are left out, so
    the caller keeps their unpaired judgement.
    """
    best = _scored_rows(client, best_run_id)
    if best is None:
        return {}
    intervals: dict[str, tuple[float, float]] = {}
    for run_id in run_ids:
        if run_id == best_run_id:
            continue
        other = _scored_rows(client, run_id)
        if other is None or set(other.index) != set(best.index):
            continue
        other = other.loc[best.index]
        if not np.array_equal(other[LABEL_COLUMN].to_numpy(), best[LABEL_COLUMN].to_numpy()):
            continue
        try:
            comparison = delong_test(best[LABEL_COLUMN], best[SCORE_COLUMN], other[SCORE_COLUMN])
        except GovernanceError:
            continue
        intervals[run_id] = (comparison.ci_low, comparison.ci_high)
    return intervals


PairedIntervals = Callable[[str, tuple[str, ...]], dict[str, tuple[float, float]]]


def recommend_with_pairs(
    runs: pd.DataFrame,
    rule: StabilityRule,
    metric: str,
    flags: pd.Series,
    intervals: PairedIntervals,
) -> Recommendation:
    """The recommendation, its tie judged again with paired DeLong where the tied runs share
    validation rows (`intervals(best_run_id, tied_run_ids)`, e.g. paired_intervals)."""
    recommendation = recommend_run(runs, rule, metric, flags=flags)
    if not recommendation.tied_run_ids:
        return recommendation
    paired = intervals(recommendation.tie_best_run_id, recommendation.tied_run_ids)
    return recommend_run(runs, rule, metric, flags=flags, paired=paired)
