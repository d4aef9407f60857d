"""Every page renders without exception on a populated, an empty and a missing store."""

from __future__ import annotations

import pytest

from tests.helpers.apptest_helpers import PAGES, exceptions, open_page, texts


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_populated_file_store(page: str, file_store, app_env) -> None:
    # given a populated file store
    app_env(file_store.uri)
    # when the page opens
    at = open_page(page)
    # then it shows no exception and no error
    assert exceptions(at) == []
    assert [e.value for e in at.error] == []


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_empty_store(page: str, tmp_path, app_env) -> None:
    # given an existing but empty store folder
    (tmp_path / "empty").mkdir()
    app_env(f"file:{tmp_path / 'empty'}")
    # when the page opens
    at = open_page(page)
    # then it says there is nothing yet, without exception
    assert exceptions(at) == []
    assert "python -m core train --demo" in texts(at)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_missing_store_path(page: str, tmp_path, app_env) -> None:
    # given a store path that does not exist
    app_env(f"file:{tmp_path / 'does-not-exist'}")
    # when the page opens
    at = open_page(page)
    # then it says which store is missing and how to fix it
    assert exceptions(at) == []
    assert "No MLflow file store at" in texts(at)
    assert not (tmp_path / "does-not-exist").exists()


def test_a_sqlite_uri_naming_another_file_says_so(tmp_path, app_env) -> None:
    # given MLFLOW_TRACKING_URI naming a CSV file as if it were the SQLite database
    csv = tmp_path / "holdout.csv"
    csv.write_text("credit_score,default\n700,0\n")
    app_env(f"sqlite:///{csv}")
    # when the dashboard opens
    at = open_page("pages/runs.py")
    # then it says the file is not a database and what to set, and leaves the file alone
    assert exceptions(at) == []
    assert "is not a SQLite database" in texts(at)
    assert csv.read_text() == "credit_score,default\n700,0\n"


def test_unknown_experiment_says_so_and_opens_another(file_store, app_env) -> None:
    # given settings naming an experiment the store does not have
    app_env(file_store.uri, MLFLOW_EXPERIMENT_NAME="no_such_experiment")
    # when the dashboard opens
    at = open_page("pages/runs.py")
    # then the page opens the team's experiment that does exist (AppTest does not keep
    # app.py's sidebar elements, so the sidebar warning itself is checked in the browser)
    assert exceptions(at) == []
    assert "in **credit_risk_experiment**" in texts(at)


def test_experiment_from_a_shared_link(file_store, app_env) -> None:
    # given a store with a second, empty experiment
    from mlflow.tracking import MlflowClient

    MlflowClient(file_store.uri).create_experiment("challenger_experiments")
    app_env(file_store.uri)
    # when the user opens a link naming it (the sidebar picker starts from ?experiment=)
    at = open_page("pages/runs.py", {"experiment": "challenger_experiments"})
    # then the page says it has no runs yet, without exception
    assert exceptions(at) == []
    assert "has no runs yet" in texts(at)


def test_bad_threshold_setting_is_a_clear_message(file_store, app_env) -> None:
    app_env(file_store.uri, DECISION_THRESHOLD="1.5")
    at = open_page("pages/runs.py")
    assert exceptions(at) == []
    assert "DECISION_THRESHOLD 1.5 is outside (0, 1)" in " ".join(e.value for e in at.error)
