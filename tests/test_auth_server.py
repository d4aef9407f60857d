"""MLflow's basic-auth tracking server: the dashboard and CLI log in from the environment, and a
401 or 403 is a clear message naming what to set (never a traceback, never the password)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from mlflow.tracking import MlflowClient

from core.cli.main import main
from core.errors import StoreAccessDeniedError
from core.store.client import (
    PASSWORD_ENV,
    USERNAME_ENV,
    ensure_experiment,
    get_experiment,
    open_client,
)
from tests.helpers.apptest_helpers import exceptions, open_page, texts
from tests.helpers.postgres_cluster import mlflow_server_command
from tests.helpers.processes import free_port, serving
from tests.helpers.store_builders import EXPERIMENT

pytestmark = pytest.mark.server
ADMIN, ADMIN_PASSWORD = "admin", "admin-pass-1234"
READER, READER_PASSWORD = "carol", "carol-pass-1234"
AUTH_CONFIG = """[mlflow]
default_permission = NO_PERMISSIONS
database_uri = sqlite:///{folder}/basic_auth.db
admin_username = {admin}
admin_password = {password}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
"""


@dataclass(frozen=True)
class AuthServer:
    """A running basic-auth server, its experiment and one run logged by the admin."""

    uri: str
    run_id: str


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    """`mlflow server --app-name basic-auth` (sqlite), an admin-owned experiment and run, and a
    user without permission on it (the server's default permission is NO_PERMISSIONS)."""
    folder = tmp_path_factory.mktemp("auth")
    config = folder / "basic_auth.ini"
    config.write_text(AUTH_CONFIG.format(folder=folder, admin=ADMIN, password=ADMIN_PASSWORD))
    env = {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "test-only-secret",
    }
    port = free_port()
    command = mlflow_server_command(
        f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts", port, "--app-name", "basic-auth"
    )
    uri = f"http://127.0.0.1:{port}"
    with serving(command, folder, env, folder / "server.log", (f"{uri}/health", "OK"), 120):
        requests.post(
            f"{uri}/api/2.0/mlflow/users/create",
            json={"username": READER, "password": READER_PASSWORD},
            auth=(ADMIN, ADMIN_PASSWORD),
            timeout=30,
        ).raise_for_status()
        yield AuthServer(uri, _admin_logs_a_run(uri))


def _admin_logs_a_run(uri: str) -> str:
    """The admin creates the experiment and logs one finished run; returns its id."""
    previous = {k: os.environ.get(k) for k in (USERNAME_ENV, PASSWORD_ENV)}
    os.environ[USERNAME_ENV], os.environ[PASSWORD_ENV] = ADMIN, ADMIN_PASSWORD
    try:
        client = MlflowClient(uri)
        # ensure_experiment: a create retried by MLflow's client under load must not fail
        run = client.create_run(ensure_experiment(client, EXPERIMENT), run_name="admin_run")
        client.log_metric(run.info.run_id, "val_auc", 0.8)
        client.set_terminated(run.info.run_id)
        return run.info.run_id
    finally:
        for key, value in previous.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


def _login(monkeypatch: pytest.MonkeyPatch, user: str | None, password: str | None) -> None:
    """Set (or clear) the credentials MLflow's client reads from the environment."""
    for key, value in ((USERNAME_ENV, user), (PASSWORD_ENV, password)):
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)


def test_without_credentials_the_client_says_what_to_set(auth_server, monkeypatch) -> None:
    _login(monkeypatch, None, None)
    with pytest.raises(StoreAccessDeniedError) as caught:
        open_client(auth_server.uri)
    assert "HTTP 401" in caught.value.message and USERNAME_ENV in caught.value.message
    assert PASSWORD_ENV in caught.value.fix


def test_a_wrong_password_names_the_user_not_the_password(auth_server, monkeypatch) -> None:
    _login(monkeypatch, ADMIN, "not-the-password")
    with pytest.raises(StoreAccessDeniedError) as caught:
        open_client(auth_server.uri)
    assert f"user '{ADMIN}'" in str(caught.value) and "not-the-password" not in str(caught.value)


def test_a_user_without_permission_gets_a_403_message(
    auth_server, monkeypatch, capsys, tmp_path
) -> None:
    # given a valid user who has no permission on the experiment
    _login(monkeypatch, READER, READER_PASSWORD)
    client = open_client(auth_server.uri)
    # when the experiment is read / then the 403 says who and what to ask for
    with pytest.raises(StoreAccessDeniedError, match="HTTP 403") as caught:
        get_experiment(client, EXPERIMENT)
    assert f"user '{READER}'" in caught.value.message and "READ" in caught.value.fix
    # and a CLI command on that run is one line and exit 2, not a traceback
    monkeypatch.setenv("MLFLOW_TRACKING_URI", auth_server.uri)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(tmp_path / "p.json"))
    code = main(["promote", "--run-id", auth_server.run_id, "--by", "a", "--reason", "r"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "HTTP 403" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("user", "password", "expected"),
    [
        (None, None, f"{USERNAME_ENV} is not set"),
        (READER, READER_PASSWORD, "HTTP 403"),
        (ADMIN, ADMIN_PASSWORD, None),
    ],
)
def test_runs_page_on_the_auth_server(
    auth_server, app_env, monkeypatch, user, password, expected
) -> None:
    # given the dashboard pointed at the auth server with these credentials
    _login(monkeypatch, user, password)
    app_env(auth_server.uri)
    # when the Runs page opens
    at = open_page("pages/runs.py")
    # then a refused login or permission is a message, and the admin sees the run
    assert exceptions(at) == []
    if expected is None:
        assert auth_server.run_id in set(at.dataframe[0].value["run_id"])
    else:
        assert expected in texts(at)
        assert password is None or password not in texts(at)
