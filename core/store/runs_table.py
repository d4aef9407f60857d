"""The runs table: one row per top-level run with typed columns, their CV folds and child runs.

Built from store-neutral RawRun records, whichever reader produced them (file store, SQLite,
or the MLflow client for servers).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.run_schema import GOVERNED_TAG, VALIDATION_ARTIFACT
from core.store import folds as fold_lib
from core.store.filestore_reader import RawRun

PARENT_TAG = "mlflow.parentRunId"
LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"
SYSTEM_TAG_PREFIX = "mlflow."

BASE_COLUMNS = [
    "run_id",
    "run_name",
    "status",
    "start_time",
    "end_time",
    "duration_s",
    "user",
    "n_child_runs",
    "has_model",
    "has_validation_set",
    "is_governed",
    "data_version",
]


@dataclass(frozen=True)
class RunsTable:
    """One row per top-level run, their CV folds, child runs, and warnings about skipped runs."""

    runs: pd.DataFrame
    folds: pd.DataFrame
    children: pd.DataFrame
    warnings: tuple[str, ...] = ()

    @property
    def param_columns(self) -> list[str]:
        """The 'params.*' columns present."""
        return [c for c in self.runs.columns if c.startswith("params.")]

    @property
    def metric_columns(self) -> list[str]:
        """The 'metrics.*' columns present."""
        return [c for c in self.runs.columns if c.startswith("metrics.")]

    @property
    def tag_columns(self) -> list[str]:
        """The 'tags.*' columns present (user tags; MLflow's own 'mlflow.*' tags are left out)."""
        return [c for c in self.runs.columns if c.startswith("tags.")]


def has_model(raw: RawRun) -> bool:
    """True when the run logged a model (MLflow 3 output or MLflow 2 history tag)."""
    return raw.has_model_output or LOG_MODEL_HISTORY_TAG in raw.tags


def _base_row(raw: RawRun, n_children: int) -> dict[str, object]:
    """The fixed columns of a run's row (times in epoch ms; see _convert_times)."""
    return {
        "run_id": raw.run_id,
        "run_name": raw.run_name or raw.run_id[:8],
        "status": raw.status,
        "start_time": raw.start_time or None,
        "end_time": raw.end_time or None,
        "duration_s": None,
        "user": raw.user,
        "n_child_runs": n_children,
        "has_model": has_model(raw),
        "has_validation_set": raw.tags.get("governance.validation_artifact") == VALIDATION_ARTIFACT,
        "is_governed": GOVERNED_TAG in raw.tags,
        "data_version": raw.tags.get("data_version") or raw.params.get("data_version"),
    }


def _convert_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn epoch-ms start/end columns into UTC datetimes and fill duration_s, all at once."""
    if frame.empty:
        return frame
    start, end = (
        pd.to_datetime(pd.to_numeric(frame[c], errors="coerce"), unit="ms", utc=True)
        for c in ("start_time", "end_time")
    )
    return frame.assign(start_time=start, end_time=end, duration_s=(end - start).dt.total_seconds())


def build_runs_table(raws: list[RawRun], warnings: list[str] | None = None) -> RunsTable:
    """Assemble the runs table, child runs and folds from RawRuns."""
    parents = [r for r in raws if PARENT_TAG not in r.tags]
    children = [r for r in raws if PARENT_TAG in r.tags]
    children_by_parent: dict[str, list[RawRun]] = {}
    for child in children:
        children_by_parent.setdefault(child.tags[PARENT_TAG], []).append(child)
    fold_rows: list[tuple] = []
    for raw in parents:
        latest_only = {name: [(0, value)] for name, value in raw.metrics.items()}
        fold_rows += fold_lib.folds_from_history(raw.run_id, latest_only | raw.history)
        kids = children_by_parent.get(raw.run_id, [])
        if kids:
            fold_rows += fold_lib.folds_from_children(
                raw.run_id,
                [
                    fold_lib.ChildRun(
                        run_id=k.run_id,
                        start_time=k.start_time or 0,
                        metrics=k.metrics,
                        fold_hint=fold_lib.child_fold_hint(k.tags, k.params),
                    )
                    for k in kids
                ],
            )
    folds = fold_lib.folds_frame(fold_rows)
    rows = []
    for raw in parents:
        row = _base_row(raw, len(children_by_parent.get(raw.run_id, [])))
        row.update({f"params.{k}": v for k, v in raw.params.items()})
        row.update({f"metrics.{k}": v for k, v in raw.metrics.items()})
        row.update(
            {f"tags.{k}": v for k, v in raw.tags.items() if not k.startswith(SYSTEM_TAG_PREFIX)}
        )
        rows.append(row)
    runs = _convert_times(pd.DataFrame(rows, columns=None if rows else BASE_COLUMNS))
    runs = _attach_cv_stats(runs, folds)
    if not runs.empty:
        runs = runs.sort_values("start_time", ascending=False, na_position="last")
    child_rows = [
        {**_base_row(c, 0), "parent_run_id": c.tags[PARENT_TAG]}
        | {f"metrics.{k}": v for k, v in c.metrics.items()}
        for c in children
    ]
    return RunsTable(
        runs=runs.reset_index(drop=True),
        folds=folds,
        children=_convert_times(pd.DataFrame(child_rows)),
        warnings=tuple(warnings or ()),
    )


def _attach_cv_stats(runs: pd.DataFrame, folds: pd.DataFrame) -> pd.DataFrame:
    """Add cv_{auc,ks}_{mean,std,min,max,n} from folds, else from logged summary metrics."""
    stat_names = [
        f"cv_{m}_{s}" for m in fold_lib.CV_METRICS for s in ("mean", "std", "min", "max", "n")
    ]
    if runs.empty:
        return runs.reindex(columns=[*runs.columns, *stat_names, "cv_source"])
    summary = fold_lib.fold_summary(folds)
    runs = runs.merge(summary, how="left", left_on="run_id", right_index=True)
    for name in stat_names:
        logged = f"metrics.{name}"
        if name not in runs.columns:
            runs[name] = runs[logged] if logged in runs.columns else float("nan")
        elif logged in runs.columns:
            runs[name] = runs[name].fillna(runs[logged])
    if "cv_source" not in runs.columns:
        runs["cv_source"] = None
    has_summary = runs["cv_source"].isna() & runs["cv_auc_mean"].notna()
    runs.loc[has_summary, "cv_source"] = "summary"
    if "params.cv_folds" in runs.columns:
        declared = pd.to_numeric(runs["params.cv_folds"], errors="coerce")
        for metric in fold_lib.CV_METRICS:
            count = f"cv_{metric}_n"
            known = runs[f"cv_{metric}_mean"].notna()
            runs.loc[known, count] = runs.loc[known, count].fillna(declared[known])
    return runs
