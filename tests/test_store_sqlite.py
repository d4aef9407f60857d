"""The read-only SQLite fast path returns what the MLflow client returns, folds included."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from core.store import access as store
from core.store import server_reader
from core.store.sqlite_reader import SqliteSchemaError, read_sqlite_runs
from tests.helpers.runs_asserts import assert_same_run
from tests.helpers.store_builders import EXPERIMENT


def _experiment_id(uri: str) -> str:
    """The test experiment's id in a store."""
    return MlflowClient(uri).get_experiment_by_name(EXPERIMENT).experiment_id


def test_fast_path_matches_the_mlflow_client(sqlite_store) -> None:
    # given a sqlite store with governed, seed-pattern, nested, failed and deleted runs
    client = MlflowClient(sqlite_store.uri)
    experiment_id = _experiment_id(sqlite_store.uri)
    # when it is read through SQL and through the client
    db = store.sqlite_path(sqlite_store.uri)
    fast = {r.run_id: r for r in read_sqlite_runs(db, experiment_id)}
    slow = {
        r.info.run_id: server_reader.raw_from_entity(r)
        for r in server_reader.search_all_runs(client, experiment_id)
    }
    # then both see the same active runs with the same fields
    assert fast.keys() == slow.keys()
    assert sqlite_store.foreign["deleted"] not in fast
    for run_id, expected in slow.items():
        assert_same_run(fast[run_id], expected)
    # and the fold history equals get_metric_history
    governed = sqlite_store.governed[0]
    history = [(m.step, m.value) for m in client.get_metric_history(governed, "cv_auc")]
    assert fast[governed].history["cv_auc"] == sorted(history)


def test_runs_table_on_sqlite_has_per_fold_values(sqlite_store) -> None:
    # given a sqlite store with governed runs logging 3 folds
    client = MlflowClient(sqlite_store.uri)
    # when the runs table is loaded
    table = store.load_runs_table(client, sqlite_store.uri, _experiment_id(sqlite_store.uri))
    runs = table.runs.set_index("run_id")
    # then governed runs have their folds, nested CV is grouped, the seed run has no CV
    for run_id in sqlite_store.governed:
        assert len(table.folds[(table.folds.run_id == run_id) & (table.folds.metric == "auc")]) == 3
        assert runs.loc[run_id, "cv_auc_mean"] == pytest.approx(
            runs.loc[run_id, "metrics.cv_auc_mean"]
        )
        assert bool(runs.loc[run_id, "has_model"])
    assert runs.loc[sqlite_store.foreign["parent"], "n_child_runs"] == 3
    assert runs.loc[sqlite_store.foreign["parent"], "cv_source"] == "child"
    assert runs.loc[sqlite_store.foreign["named_folds"], "cv_source"] == "named"
    assert math.isnan(runs.loc[sqlite_store.seed_pattern, "cv_auc_mean"])


def test_a_database_that_is_not_mlflow_is_refused(tmp_path: Path) -> None:
    # given a sqlite file with other tables
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE runs (id INTEGER)")
    # when the fast path reads it
    # then it raises the error that makes the store fall back to the MLflow client
    with pytest.raises(SqliteSchemaError, match="runs lacks"):
        read_sqlite_runs(db, "1")
    with pytest.raises(SqliteSchemaError, match="no database"):
        read_sqlite_runs(tmp_path / "missing.db", "1")
