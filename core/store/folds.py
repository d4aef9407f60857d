"""Extract cross-validation folds however a run logged them, and summarise their spread.

Three conventions are recognised:
- step: one metric (``cv_auc``/``cv_ks``) logged once per fold with step = fold index;
- named: one metric per fold (``cv_auc_fold_0``, ``fold_1_auc``, ``cv_auc_2``, ``auc_fold3``);
- child: nested runs tagged ``mlflow.parentRunId``, one per fold, each with its own AUC/KS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

FOLD_COLUMNS = ["run_id", "metric", "fold", "value", "source"]
CV_METRICS = ("auc", "ks")
_STEP_NAMES = {"cv_auc": "auc", "cv_ks": "ks"}
_NAMED_PATTERNS = (
    re.compile(r"^(?:cv_)?(?P<metric>auc|ks)_fold_?(?P<fold>\d+)$"),
    re.compile(r"^fold_?(?P<fold>\d+)_(?:cv_|val_)?(?P<metric>auc|ks)$"),
    re.compile(r"^cv_(?P<metric>auc|ks)_(?P<fold>\d+)$"),
)
_CHILD_METRIC_KEYS = {
    "auc": ("cv_auc", "fold_auc", "auc", "val_auc", "test_auc", "roc_auc"),
    "ks": ("cv_ks", "fold_ks", "ks", "val_ks", "test_ks"),
}
_CHILD_FOLD_KEYS = ("fold", "fold_index", "cv_fold", "fold_id")

History = Mapping[str, Sequence[tuple[int, float]]]


@dataclass(frozen=True)
class ChildRun:
    """A nested run's latest metrics, fold tag or param, and start time."""

    run_id: str
    start_time: int
    metrics: Mapping[str, float]
    fold_hint: str | None = None


def empty_folds() -> pd.DataFrame:
    """An empty folds table with the standard columns."""
    return pd.DataFrame(
        {
            "run_id": pd.Series(dtype="str"),
            "metric": pd.Series(dtype="str"),
            "fold": pd.Series(dtype="int64"),
            "value": pd.Series(dtype="float64"),
            "source": pd.Series(dtype="str"),
        }
    )


def folds_from_history(run_id: str, history: History) -> list[tuple[str, str, int, float, str]]:
    """Fold rows from one run's metric history (step and named conventions)."""
    rows: list[tuple[str, str, int, float, str]] = []
    for name, points in history.items():
        if name in _STEP_NAMES:
            latest: dict[int, float] = {}
            for step, value in points:
                latest[int(step)] = float(value)
            if len(latest) >= 2:
                rows += [
                    (run_id, _STEP_NAMES[name], s, v, "step") for s, v in sorted(latest.items())
                ]
            continue
        for pattern in _NAMED_PATTERNS:
            match = pattern.match(name)
            if match and points:
                value = float(points[-1][1])
                rows.append((run_id, match["metric"], int(match["fold"]), value, "named"))
                break
    return rows


def _child_fold_index(child: ChildRun, rank: int) -> int:
    """The fold index a child declares, else its rank by start time."""
    try:
        return int(float(child.fold_hint)) if child.fold_hint is not None else rank
    except ValueError:
        return rank


def folds_from_children(parent_id: str, children: Sequence[ChildRun]) -> list[tuple]:
    """Fold rows from a parent's nested runs, one fold per child."""
    rows: list[tuple] = []
    ordered = sorted(children, key=lambda c: (c.start_time, c.run_id))
    for rank, child in enumerate(ordered):
        fold = _child_fold_index(child, rank)
        for metric, keys in _CHILD_METRIC_KEYS.items():
            value = next((child.metrics[k] for k in keys if k in child.metrics), None)
            if value is not None and np.isfinite(value):
                rows.append((parent_id, metric, fold, float(value), "child"))
    return rows


def child_fold_hint(tags: Mapping[str, str], params: Mapping[str, str]) -> str | None:
    """The fold index a nested run declares in a tag or param, if any."""
    for key in _CHILD_FOLD_KEYS:
        if key in tags:
            return tags[key]
        if key in params:
            return params[key]
    return None


def folds_frame(rows: Sequence[tuple]) -> pd.DataFrame:
    """Build the folds table, keeping for each run the first convention that yielded folds."""
    if not rows:
        return empty_folds()
    frame = pd.DataFrame(rows, columns=FOLD_COLUMNS)
    priority = {"step": 0, "named": 1, "child": 2}
    frame["_rank"] = frame["source"].map(priority)
    best = frame.groupby("run_id")["_rank"].transform("min")
    frame = frame[frame["_rank"] == best].drop(columns="_rank")
    frame = frame.drop_duplicates(["run_id", "metric", "fold"], keep="last")
    return frame.sort_values(["run_id", "metric", "fold"]).reset_index(drop=True)


def fold_summary(folds: pd.DataFrame) -> pd.DataFrame:
    """Per run: mean, std (ddof=1), min, max and count of fold AUC and KS, wide by run_id."""
    if folds.empty:
        return pd.DataFrame(index=pd.Index([], name="run_id"))
    stats = folds.groupby(["run_id", "metric"])["value"].agg(
        mean="mean", std="std", min="min", max="max", n="count"
    )
    wide = stats.unstack("metric")
    wide.columns = [f"cv_{metric}_{stat}" for stat, metric in wide.columns]
    sources = folds.groupby("run_id")["source"].first().rename("cv_source")
    return wide.join(sources)
