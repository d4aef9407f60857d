"""Read an experiment's runs straight from an MLflow SQLite database, read-only, in a few queries.

MLflow's client needs one `get_metric_history` call per run for step-logged CV folds; these
queries read every run, param, latest metric, tag, fold history and model output of an
experiment at once. Any schema surprise raises SqliteSchemaError so the caller can fall back to
the MLflow client.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from core.store.filestore_reader import RawRun

HISTORY_METRICS = ("cv_auc", "cv_ks")
REQUIRED_COLUMNS = {
    "runs": {
        "run_uuid",
        "name",
        "status",
        "start_time",
        "end_time",
        "lifecycle_stage",
        "user_id",
        "experiment_id",
    },
    "params": {"key", "value", "run_uuid"},
    "latest_metrics": {"key", "value", "is_nan", "run_uuid"},
    "metrics": {"key", "value", "timestamp", "step", "is_nan", "run_uuid"},
    "tags": {"key", "value", "run_uuid"},
    "inputs": {"source_type", "source_id", "destination_type"},
}
ACTIVE_RUNS = "SELECT run_uuid FROM runs WHERE experiment_id = :exp AND lifecycle_stage = 'active'"


class SqliteSchemaError(Exception):
    """The database does not have the MLflow tables and columns this reader expects."""


def _check_schema(connection: sqlite3.Connection) -> None:
    """Raise SqliteSchemaError unless every table and column the queries use exists."""
    for table, columns in REQUIRED_COLUMNS.items():
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        missing = columns - present
        if missing:
            raise SqliteSchemaError(f"table {table} lacks {', '.join(sorted(missing))}")


def _value(value: float | None, is_nan: int) -> float:
    """A metric value as MLflow returns it (NaN is stored as 0 with a flag)."""
    return float("nan") if is_nan or value is None else float(value)


def _query(connection: sqlite3.Connection, sql: str, experiment_id: int) -> list[tuple]:
    """Rows of one query restricted to the experiment's active runs."""
    return connection.execute(sql.format(active=ACTIVE_RUNS), {"exp": experiment_id}).fetchall()


Query = Callable[[object, str, int], list[tuple]]


def read_sqlite_runs(db_path: Path, experiment_id: str) -> list[RawRun]:
    """All active runs of one experiment as RawRuns (fold metrics with their full history)."""
    if not db_path.is_file():
        raise SqliteSchemaError(f"no database file at {db_path}")
    try:
        exp = int(experiment_id)
    except ValueError as exc:
        raise SqliteSchemaError(f"experiment id {experiment_id!r} is not an integer") from exc
    try:
        with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as connection:
            _check_schema(connection)
            return read_runs(connection, exp)
    except sqlite3.Error as exc:
        raise SqliteSchemaError(f"{type(exc).__name__}: {exc}") from exc


def read_runs(connection: object, exp: int, _query: Query = _query) -> list[RawRun]:
    """Run the queries (standard SQL; `_query` binds the experiment id in the driver's
    parameter style) and assemble RawRuns."""
    params: dict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in _query(
        connection, "SELECT run_uuid, key, value FROM params WHERE run_uuid IN ({active})", exp
    ):
        params[run_id][key] = value
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in _query(
        connection, "SELECT run_uuid, key, value FROM tags WHERE run_uuid IN ({active})", exp
    ):
        tags[run_id][key] = value if value is not None else ""
    latest: dict[str, dict[str, float]] = defaultdict(dict)
    for run_id, key, value, is_nan in _query(
        connection,
        "SELECT run_uuid, key, value, is_nan FROM latest_metrics WHERE run_uuid IN ({active})",
        exp,
    ):
        latest[run_id][key] = _value(value, is_nan)
    history: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    names = ", ".join(f"'{name}'" for name in HISTORY_METRICS)
    for run_id, key, step, value, is_nan in _query(
        connection,
        "SELECT run_uuid, key, step, value, is_nan FROM metrics "
        f"WHERE key IN ({names}) AND run_uuid IN ({{active}}) "
        "ORDER BY run_uuid, key, step, timestamp",
        exp,
    ):
        history[run_id][key].append((int(step), _value(value, is_nan)))
    with_model = {
        row[0]
        for row in _query(
            connection,
            "SELECT DISTINCT source_id FROM inputs WHERE source_type = 'RUN_OUTPUT' "
            "AND destination_type = 'MODEL_OUTPUT' AND source_id IN ({active})",
            exp,
        )
    }
    runs = []
    for run_id, name, status, start, end, stage, user in _query(
        connection,
        "SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage, user_id "
        "FROM runs WHERE run_uuid IN ({active}) ORDER BY start_time DESC",
        exp,
    ):
        metrics = latest.get(run_id, {})
        run_history = {key: [(0, value)] for key, value in metrics.items()}
        run_history.update(history.get(run_id, {}))
        run_tags = tags.get(run_id, {})
        runs.append(
            RawRun(
                run_id=run_id,
                experiment_id=str(exp),
                run_name=name or run_tags.get("mlflow.runName", ""),
                status=status or "",
                start_time=start,
                end_time=end,
                lifecycle_stage=stage,
                user=user or "",
                params=params.get(run_id, {}),
                metrics=metrics,
                history=run_history,
                tags=run_tags,
                has_model_output=run_id in with_model,
            )
        )
    return runs
