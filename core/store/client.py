"""Open an explicit MlflowClient for a tracking URI, failing fast with a clear message."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import requests
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.errors import ExperimentNotFoundError, StoreAccessDeniedError, StoreUnavailableError
from core.settings import file_store_path, prepare_mlflow_environment, sqlite_path, store_kind

# The explicit client pages and actions hold per tracking URI.
StoreClient: TypeAlias = MlflowClient

logger = logging.getLogger(__name__)
_HEALTH_TIMEOUT_SECONDS = 3.0
_SQLITE_HEADER = b"SQLite format 3\x00"
USERNAME_ENV, PASSWORD_ENV = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"
_SET_CREDENTIALS = (
    f"Set {USERNAME_ENV} and {PASSWORD_ENV} to your account on that server (its admin creates "
    "accounts) in the environment of the dashboard, service or command, then restart it."
)


@dataclass(frozen=True)
class ExperimentInfo:
    """An experiment's id and name."""

    experiment_id: str
    name: str


def check_store(tracking_uri: str, *, must_exist: bool = True) -> None:
    """Raise StoreUnavailableError if the store cannot be reached (path missing, server down)."""
    kind = store_kind(tracking_uri)
    if kind == "file":
        path = file_store_path(tracking_uri)
        if must_exist and (path is None or not path.is_dir()):
            raise StoreUnavailableError(
                f"No MLflow file store at '{path}' (from MLFLOW_TRACKING_URI={tracking_uri}).",
                fix="Check the path, or create demo runs with `python -m core train --demo`.",
            )
        if path is not None and path.is_dir() and not _looks_like_file_store(path):
            inner = path / "mlruns"
            hint = f" Did you mean file:{inner}?" if _looks_like_file_store(inner) else ""
            raise StoreUnavailableError(
                f"'{path}' (from MLFLOW_TRACKING_URI={tracking_uri}) holds other files and no "
                "MLflow experiments, so it is not a file store; it was left as it is.",
                fix="Point MLFLOW_TRACKING_URI at the store's folder (the one holding the "
                f"experiment folders and .trash), or at an empty or new folder.{hint}",
            )
    elif kind == "sqlite":
        db = sqlite_path(tracking_uri)
        if must_exist and not db.is_file():
            raise StoreUnavailableError(
                f"No SQLite MLflow database at '{db}'.",
                fix="Check MLFLOW_TRACKING_URI, or create runs with `python -m core train --demo`.",
            )
        if db.is_file() and not _is_sqlite_file(db):
            raise StoreUnavailableError(
                f"'{db}' (from MLFLOW_TRACKING_URI={tracking_uri}) is not a SQLite database.",
                fix="Point MLFLOW_TRACKING_URI at the MLflow database file, for example "
                "sqlite:///mlflow.db; the file named was left as it is.",
            )
    elif kind == "server":
        url = tracking_uri.rstrip("/") + "/health"
        try:
            response = requests.get(url, timeout=_HEALTH_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise StoreUnavailableError(
                f"The MLflow tracking server at {tracking_uri} is unreachable "
                f"({type(exc).__name__}).",
                fix="Start the server or fix MLFLOW_TRACKING_URI, then press 'Reload runs' "
                "in the sidebar.",
            ) from exc
        if response.status_code != 200:
            raise StoreUnavailableError(
                f"The MLflow tracking server at {tracking_uri} answered "
                f"HTTP {response.status_code} on /health.",
                fix="Check that the URI points at an MLflow server.",
            )


def _looks_like_file_store(path: Path) -> bool:
    """True for an empty folder or one MLflow's file store wrote (.trash, experiment folders)."""
    if not path.is_dir():
        return False
    entries = list(path.iterdir())
    return not entries or any(
        entry.name in (".trash", "models") or (entry / "meta.yaml").is_file()
        for entry in entries
        if entry.is_dir()
    )


def _is_sqlite_file(path: Path) -> bool:
    """True for a SQLite database file (or an empty file, which SQLite makes one of)."""
    with path.open("rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    return header in (b"", _SQLITE_HEADER)


def access_denied(exc: MlflowException, tracking_uri: str) -> StoreAccessDeniedError | None:
    """A clear error for a server's HTTP 401/403 (what to set, never the password), else None."""
    status = exc.get_http_status_code()
    if status not in (401, 403):
        return None
    user = os.environ.get(USERNAME_ENV)
    where = f"The MLflow tracking server at {tracking_uri}"
    if status == 401 and not user:
        return StoreAccessDeniedError(
            f"{where} asks for a login (HTTP 401) and {USERNAME_ENV} is not set.",
            fix=_SET_CREDENTIALS,
        )
    if status == 401:
        return StoreAccessDeniedError(
            f"{where} rejected the login of user '{user}' (HTTP 401: unknown user or wrong "
            "password).",
            fix=f"Check {USERNAME_ENV} and {PASSWORD_ENV}. " + _SET_CREDENTIALS,
        )
    return StoreAccessDeniedError(
        f"{where} denied user '{user or 'anonymous'}' this request (HTTP 403: no permission "
        "on this experiment, run or model).",
        fix="Ask the server's admin to grant you READ on the experiment (EDIT to train, "
        "MANAGE to promote) through MLflow's permissions API, or use an account that has it.",
    )


def _check_access(client: MlflowClient, tracking_uri: str) -> None:
    """One cheap authenticated request, so a refused login is reported before any page reads."""
    try:
        client.search_experiments(max_results=1)
    except MlflowException as exc:
        denied = access_denied(exc, tracking_uri)
        if denied is not None:
            raise denied from exc


def open_client(tracking_uri: str, *, must_exist: bool = False) -> MlflowClient:
    """An explicit client for one tracking URI, after checking the store is reachable (and, on
    a server, that it accepts the credentials in MLFLOW_TRACKING_USERNAME/PASSWORD)."""
    prepare_mlflow_environment(tracking_uri)
    check_store(tracking_uri, must_exist=must_exist)
    client = MlflowClient(tracking_uri=tracking_uri)
    if store_kind(tracking_uri) == "server":
        _check_access(client, tracking_uri)
    return client


def list_experiments(client: MlflowClient) -> list[ExperimentInfo]:
    """Active experiments of the store, sorted by name."""
    try:
        experiments = client.search_experiments(view_type=ViewType.ACTIVE_ONLY)
    except MlflowException as exc:
        raise access_denied(exc, client.tracking_uri) or StoreUnavailableError(
            f"Could not list experiments: {exc.message}",
            fix="Check that MLFLOW_TRACKING_URI points at a readable MLflow store.",
        ) from exc
    return sorted(
        (ExperimentInfo(e.experiment_id, e.name) for e in experiments), key=lambda e: e.name
    )


def check_experiment_access(client: MlflowClient, name: str) -> None:
    """Raise StoreAccessDeniedError when the server hides the named experiment from this user
    (a server lists only permitted experiments, so a forbidden one looks merely absent)."""
    try:
        client.get_experiment_by_name(name)
    except MlflowException as exc:
        denied = access_denied(exc, client.tracking_uri)
        if denied is not None:
            raise denied from exc


def get_experiment(client: MlflowClient, name: str) -> ExperimentInfo:
    """The active experiment with this name, or ExperimentNotFoundError."""
    try:
        experiment = client.get_experiment_by_name(name)
    except MlflowException as exc:
        raise access_denied(exc, client.tracking_uri) or StoreUnavailableError(
            f"Could not read experiment '{name}': {exc.message}"
        ) from exc
    if experiment is None or experiment.lifecycle_stage != "active":
        raise ExperimentNotFoundError(
            f"Experiment '{name}' does not exist in this store.",
            fix="Pick another experiment in the sidebar, set MLFLOW_EXPERIMENT_NAME, "
            "or train runs into it with `python -m core train --demo`.",
        )
    return ExperimentInfo(experiment.experiment_id, experiment.name)


def ensure_experiment(client: MlflowClient, name: str) -> str:
    """The id of the named experiment, creating it when absent (restoring it when deleted)."""
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        return client.create_experiment(name)
    if experiment.lifecycle_stage != "active":
        client.restore_experiment(experiment.experiment_id)
    return experiment.experiment_id
