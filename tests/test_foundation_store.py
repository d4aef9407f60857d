"""Store access layer on file, sqlite and server stores, with runs logged by other code."""

from __future__ import annotations

import shutil
import socket

import pandas as pd
import pytest

from core.errors import (
    ExperimentNotFoundError,
    ModelLoadError,
    RunNotFoundError,
    StoreUnavailableError,
)
from core.store.access import load_model, load_run_folds, load_runs_table, run_inventory
from core.store.client import get_experiment, list_experiments, open_client

POSTGRES = pytest.param("postgres_store", marks=pytest.mark.postgres)
STORES = ["file_store", "sqlite_store", "server_store", POSTGRES]


def _table(store):
    client = open_client(store.uri)
    experiment = get_experiment(client, "credit_risk_experiment")
    return load_runs_table(client, store.uri, experiment.experiment_id)


@pytest.mark.parametrize("store_fixture", STORES)
def test_runs_table_lists_our_runs_and_foreign_runs(store_fixture: str, request) -> None:
    # given a store with governed, seed-pattern and foreign runs
    store = request.getfixturevalue(store_fixture)
    # when the runs table is read
    table = _table(store)
    runs = table.runs.set_index("run_id")
    # then every top-level live run is one row; deleted runs and fold children are not
    expected = {*store.governed, store.seed_pattern} | {
        store.foreign[k] for k in ("named_folds", "parent", "failed", "running", "no_metrics")
    }
    assert set(runs.index) == expected
    assert store.foreign["deleted"] not in runs.index
    assert len(table.children) == 3
    assert runs.loc[store.foreign["parent"], "n_child_runs"] == 3
    # and statuses, models and validation sets are reported as they are
    assert runs.loc[store.foreign["failed"], "status"] == "FAILED"
    assert runs.loc[store.foreign["running"], "status"] == "RUNNING"
    assert runs.loc[store.seed_pattern, "has_model"]
    assert not runs.loc[store.seed_pattern, "has_validation_set"]
    assert runs.loc[list(store.governed), "has_validation_set"].all()
    assert not runs.loc[store.foreign["named_folds"], "has_model"]
    # and an HTML run name is kept as plain text
    assert runs.loc[store.foreign["no_metrics"], "run_name"] == "<b>bold</b><script>x</script>"


@pytest.mark.parametrize("store_fixture", STORES)
def test_cv_folds_come_out_of_all_three_conventions(store_fixture: str, request) -> None:
    store = request.getfixturevalue(store_fixture)
    runs = _table(store).runs.set_index("run_id")
    # governed runs: step metrics (or their logged summaries)
    governed = runs.loc[store.governed[0]]
    assert governed["cv_auc_n"] == 3 and governed["cv_source"] in ("step", "summary")
    # separate per-fold metrics
    named = runs.loc[store.foreign["named_folds"]]
    assert named["cv_auc_n"] == 4 and named["cv_source"] == "named"
    assert named["cv_auc_min"] == pytest.approx(0.80)
    assert named["cv_auc_mean"] == pytest.approx(0.815)
    # nested child runs
    parent = runs.loc[store.foreign["parent"]]
    assert parent["cv_source"] == "child" and parent["cv_auc_n"] == 3
    assert parent["cv_auc_max"] == pytest.approx(0.79)
    # the seed pattern has none
    assert pd.isna(runs.loc[store.seed_pattern, "cv_source"])


@pytest.mark.parametrize("store_fixture", ["sqlite_store", POSTGRES])
def test_folds_of_one_run_include_every_fold(store_fixture: str, request) -> None:
    store = request.getfixturevalue(store_fixture)
    client = open_client(store.uri)
    folds = load_run_folds(client, store.governed[0])
    assert sorted(folds.loc[folds["metric"] == "auc", "fold"]) == [0, 1, 2]
    child_folds = load_run_folds(client, store.foreign["parent"])
    assert sorted(child_folds.loc[child_folds["metric"] == "auc", "fold"]) == [0, 1, 2]


def test_inventory_says_what_a_run_lacks(file_store) -> None:
    table = _table(file_store)
    seed = run_inventory(table, file_store.seed_pattern)
    assert seed.has_model and not seed.has_validation_set and not seed.has_cv
    assert any("upload a labelled file" in note for note in seed.missing)
    governed = run_inventory(table, file_store.governed[0])
    assert governed.missing == []


def test_corrupt_meta_yaml_skips_that_run_and_keeps_the_rest(file_store) -> None:
    # given a file store where one run's meta.yaml is not valid YAML
    client = open_client(file_store.uri)
    experiment = get_experiment(client, "credit_risk_experiment")
    victim = file_store.path / experiment.experiment_id / file_store.governed[1] / "meta.yaml"
    victim.write_text("run_id: [unclosed\n  : : :", encoding="utf-8")
    # when the runs table is read
    table = load_runs_table(client, file_store.uri, experiment.experiment_id)
    # then that run is skipped with a warning naming it, and the others are listed
    assert file_store.governed[1] not in set(table.runs["run_id"])
    assert file_store.governed[0] in set(table.runs["run_id"])
    assert len(table.warnings) == 1 and file_store.governed[1] in table.warnings[0]


@pytest.mark.parametrize("store_fixture", STORES)
def test_models_load_from_every_store(store_fixture: str, request) -> None:
    store = request.getfixturevalue(store_fixture)
    model = load_model(store.uri, store.governed[0])
    assert model.feature_names[0] == "credit_score"
    assert load_model(store.uri, store.seed_pattern).classifier.n_estimators == 20


def test_bad_runs_and_experiments_get_clear_errors(file_store) -> None:
    client = open_client(file_store.uri)
    with pytest.raises(RunNotFoundError, match="was not found"):
        load_model(file_store.uri, "0123456789abcdef0123456789abcdef")
    with pytest.raises(RunNotFoundError, match="is deleted"):
        load_model(file_store.uri, file_store.foreign["deleted"])
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        load_model(file_store.uri, file_store.foreign["named_folds"])
    with pytest.raises(ExperimentNotFoundError, match="'nope' does not exist"):
        get_experiment(client, "nope")
    assert "credit_risk_experiment" in {e.name for e in list_experiments(client)}


def test_unreachable_server_and_missing_paths_fail_fast(tmp_path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreUnavailableError, match="unreachable"):
        open_client(f"http://127.0.0.1:{port}")
    with pytest.raises(StoreUnavailableError, match="No MLflow file store"):
        open_client(f"file:{tmp_path / 'missing'}", must_exist=True)
    with pytest.raises(StoreUnavailableError, match="No SQLite MLflow database"):
        open_client(f"sqlite:///{tmp_path / 'missing.db'}", must_exist=True)
    not_a_database = tmp_path / "holdout.csv"
    not_a_database.write_text("credit_score,default\n700,0\n")
    with pytest.raises(StoreUnavailableError, match="is not a SQLite database"):
        open_client(f"sqlite:///{not_a_database}")
    assert not_a_database.read_text() == "credit_score,default\n700,0\n"


def test_a_project_folder_is_not_taken_for_a_file_store(file_store, tmp_path) -> None:
    # given a project folder holding a README and the store in its mlruns/ folder
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text("credit team\n")
    shutil.copytree(file_store.path, project / "mlruns")
    # when the project folder itself is given as the file store
    with pytest.raises(StoreUnavailableError, match="not a file store") as error:
        open_client(f"file:{project}")
    # then the message points at the store inside it, and nothing was written to the folder
    assert f"Did you mean file:{project / 'mlruns'}?" in (error.value.fix or "")
    assert sorted(p.name for p in project.iterdir()) == ["README.md", "mlruns"]
    # and the store itself, and an empty new folder, open as before
    open_client(f"file:{project / 'mlruns'}")
    open_client(f"file:{tmp_path / 'new'}")
    assert not (tmp_path / "missing").exists()
