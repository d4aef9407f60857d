"""The one default-run rule every page opens on when the user has not picked a run."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.runs.recommendation import Recommendation, recommend_run
from core.runs.stability import DEFAULT_PRIMARY_METRIC, StabilityRule, higher_is_better
from core.sentence import prefixed


@dataclass(frozen=True)
class DefaultRun:
    """The run a page opens on, and why, in words; run_id is None when no run qualifies."""

    run_id: str | None
    reason: str


def _usable(runs: pd.DataFrame, metric: str) -> pd.Series:
    """Finished runs with a model and a value of the primary metric."""
    if runs.empty or metric not in runs.columns:
        return pd.Series(False, index=runs.index)
    values = pd.to_numeric(runs[metric], errors="coerce")
    return (runs["status"] == "FINISHED") & runs["has_model"].astype(bool) & values.notna()


def default_run(
    runs: pd.DataFrame,
    rule: StabilityRule,
    champion_run_id: str | None = None,
    metric: str = DEFAULT_PRIMARY_METRIC,
    recommendation: Recommendation | None = None,
) -> DefaultRun:
    """The champion when promoted, else the recommended run, else the best usable run.

    A usable run is finished, has a model and has the primary metric; a run lacking any of
    these is never a default (it can still be picked by hand). `recommendation`: the one the
    caller computed (with paired ties), else recommend_run's.
    """
    label = metric.removeprefix("metrics.")
    ids = set(runs["run_id"]) if not runs.empty else set()
    if champion_run_id and champion_run_id in ids:
        row = runs.loc[runs["run_id"] == champion_run_id].iloc[0]
        if bool(row["has_model"]):
            return DefaultRun(champion_run_id, "the champion (the promoted run)")
    recommendation = recommendation or recommend_run(runs, rule, metric)
    if recommendation.run_id is not None:
        return DefaultRun(
            recommendation.run_id, prefixed("the recommended run: ", recommendation.reason)
        )
    usable = _usable(runs, metric)
    if not usable.any():
        return DefaultRun(None, f"No finished run with a model logged {label}.")
    values = pd.to_numeric(runs.loc[usable, metric], errors="coerce")
    best = values.idxmax() if higher_is_better(metric) else values.idxmin()
    direction = "highest" if higher_is_better(metric) else "lowest"
    return DefaultRun(
        str(runs.at[best, "run_id"]),
        f"the finished run with the {direction} {label} ({values[best]:.4f}); "
        "no run is stable enough to recommend",
    )
