"""Store access: read an experiment's runs, one run, its CV folds, model and validation set."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow
import mlflow.artifacts
import pandas as pd
from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.errors import (
    ArtifactMissingError,
    ModelLoadError,
    RunNotFoundError,
    StoreAccessDeniedError,
    StoreUnavailableError,
)
from core.run_schema import LABEL_COLUMN, SCORE_COLUMN, VALIDATION_ARTIFACT, model_uri
from core.settings import (
    DEFAULT_RUNS_SEARCH_PARTITION,
    file_store_path,
    prepare_mlflow_environment,
    sqlite_path,
    store_kind,
)
from core.store.client import access_denied
from core.store.filestore_reader import RawRun, read_experiment_runs
from core.store.postgres_reader import PostgresReadError, read_postgres_runs
from core.store.runs_table import (
    PARENT_TAG,
    RunsTable,
    build_runs_table,
)
from core.store.server_reader import fetch_histories, raw_from_entity, search_all_runs
from core.store.sqlite_reader import SqliteSchemaError, read_sqlite_runs

if TYPE_CHECKING:  # LightGBM costs ~1 s to import: only the model loaders below pay it
    from core.scoring.loaded_model import LoadedModel

logger = logging.getLogger(__name__)
_tracking_uri_lock = threading.Lock()
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"


@dataclass(frozen=True)
class RunInventory:
    """What a run carries, and a plain sentence for each thing it lacks."""

    run_id: str
    has_model: bool
    has_validation_set: bool
    has_cv: bool
    has_ks: bool
    is_governed: bool

    @property
    def carries(self) -> dict[str, bool]:
        """Whether the run has each thing a governed run carries, by its short name."""
        return {
            "model": self.has_model,
            "validation set": self.has_validation_set,
            "CV folds": self.has_cv,
            "KS": self.has_ks,
        }

    @property
    def missing(self) -> list[str]:
        """Sentences naming what is missing and how to supply it."""
        notes = []
        if not self.has_model:
            notes.append(
                "No model logged: log one with mlflow.lightgbm.log_model(model, name='model')."
            )
        if not self.has_validation_set:
            notes.append(
                "No validation set logged: upload a labelled file on Model diagnostics "
                "to get ROC/KS, and attach it to the run there (or with `python -m core "
                "attach-validation`) for What-if, Monitoring and Promotion."
            )
        if not self.has_cv:
            notes.append("No cross-validation folds logged: retrain with `python -m core train`.")
        if not self.has_ks:
            notes.append("No KS logged: it is computed on Model diagnostics from labelled data.")
        return notes


def read_raw_runs(
    client: MlflowClient,
    tracking_uri: str,
    experiment_id: str,
    partition_size: int = DEFAULT_RUNS_SEARCH_PARTITION,
) -> tuple[list[RawRun], list[str]]:
    """All active runs of an experiment as RawRuns, with warnings about skipped ones.

    partition_size is the RUNS_SEARCH_PARTITION setting, for a search through MLflow."""
    kind = store_kind(tracking_uri)
    if kind == "file":
        root = file_store_path(tracking_uri)
        assert root is not None
        return read_experiment_runs(root, experiment_id)
    if kind == "sqlite":
        try:
            return read_sqlite_runs(sqlite_path(tracking_uri), experiment_id), []
        except SqliteSchemaError as exc:
            logger.info("SQLite fast path unavailable (%s); reading through MLflow.", exc)
    if kind == "postgresql":
        try:
            return read_postgres_runs(tracking_uri, experiment_id), []
        except PostgresReadError as exc:
            logger.info("PostgreSQL fast path unavailable (%s); reading through MLflow.", exc)
    try:
        runs = search_all_runs(client, experiment_id, partition_size)
        raws = [raw_from_entity(r) for r in runs]
        return fetch_histories(client, raws), []
    except MlflowException as exc:
        raise runs_read_error(exc, tracking_uri, experiment_id) from exc


def runs_read_error(
    exc: MlflowException, tracking_uri: str, experiment_id: str
) -> StoreAccessDeniedError | StoreUnavailableError:
    """Why an experiment's runs could not be read: a 401/403 as an access error, else the store."""
    return access_denied(exc, tracking_uri) or StoreUnavailableError(
        f"Could not read the runs of experiment {experiment_id}: {exc.message}",
        fix="Check that the store is reachable and press 'Reload runs' in the sidebar.",
    )


def load_runs_table(
    client: MlflowClient,
    tracking_uri: str,
    experiment_id: str,
    partition_size: int = DEFAULT_RUNS_SEARCH_PARTITION,
) -> RunsTable:
    """The runs table of one experiment on any store kind."""
    raws, warnings = read_raw_runs(client, tracking_uri, experiment_id, partition_size)
    return build_runs_table(raws, warnings)


def run_folds(client: MlflowClient, run: Run) -> pd.DataFrame:
    """All CV folds of a fetched run, reading metric histories and child runs as needed."""
    raw = raw_from_entity(run)
    run_id = run.info.run_id
    for name in ("cv_auc", "cv_ks"):
        if name in raw.metrics:
            raw.history[name] = [(m.step, m.value) for m in client.get_metric_history(run_id, name)]
    kids = client.search_runs(
        [run.info.experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{run_id}'"
    )
    table = build_runs_table([raw, *(raw_from_entity(k) for k in kids)])
    return table.folds


def load_run_folds(client: MlflowClient, run_id: str) -> pd.DataFrame:
    """All CV folds of one run by id."""
    return run_folds(client, get_run(client, run_id))


def get_run(client: MlflowClient, run_id: str) -> Run:
    """A live run by id, or RunNotFoundError saying why it is not usable."""
    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        raise access_denied(exc, client.tracking_uri) or RunNotFoundError(
            f"Run '{run_id}' was not found in this store.",
            fix="Check the run id, or pick a run from the Runs page.",
        ) from exc
    if run.info.lifecycle_stage != "active":
        raise RunNotFoundError(
            f"Run '{run_id}' is deleted.", fix="Restore it in MLflow or pick another run."
        )
    return run


@contextlib.contextmanager
def _tracking_uri(tracking_uri: str) -> Iterator[None]:
    """Temporarily point MLflow's global URI at tracking_uri (runs:/ URIs resolve through it)."""
    with _tracking_uri_lock:
        previous = mlflow.get_tracking_uri()
        previous_env = os.environ.get(TRACKING_URI_ENV)
        mlflow.set_tracking_uri(tracking_uri)
        try:
            yield
        finally:
            # set_tracking_uri also writes the environment variable the settings are read
            # from: put it back exactly, or the next script run would open another store.
            mlflow.set_tracking_uri(previous)
            if previous_env is None:
                os.environ.pop(TRACKING_URI_ENV, None)
            else:
                os.environ[TRACKING_URI_ENV] = previous_env


def load_model(tracking_uri: str, run_id: str) -> LoadedModel:
    """Load a live run's LightGBM classifier (RunNotFoundError for an unknown or deleted run)."""
    prepare_mlflow_environment(tracking_uri)
    get_run(MlflowClient(tracking_uri=tracking_uri), run_id)
    return load_model_unchecked(tracking_uri, run_id)


def download_model_folder(tracking_uri: str, run_id: str, destination: Path) -> Path:
    """A run's model folder downloaded under destination (MLflow's errors pass through)."""
    prepare_mlflow_environment(tracking_uri)
    with _tracking_uri(tracking_uri):
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=model_uri(run_id), dst_path=str(destination)
        )
    return Path(local)


def load_model_unchecked(tracking_uri: str, run_id: str) -> LoadedModel:
    """Load a run's LightGBM classifier with the lightgbm flavour (pyfunc cannot do categories)."""
    from core.scoring.loaded_model import load_model_folder  # deferred: imports LightGBM

    try:
        with tempfile.TemporaryDirectory(prefix="model-") as tmp:
            model = load_model_folder(download_model_folder(tracking_uri, run_id, Path(tmp)))
    except ModelLoadError as exc:
        raise ModelLoadError(f"Run '{run_id}': {exc.message}", fix=exc.fix) from exc
    except (MlflowException, OSError, ValueError, ImportError) as exc:
        raise ModelLoadError(
            f"The model of run '{run_id}' could not be loaded ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]}).",
            fix="Check that the run logged a LightGBM model under the name 'model' "
            "(mlflow.lightgbm.log_model or mlflow.sklearn.log_model).",
        ) from exc
    return model


def load_validation_set(client: MlflowClient, run_id: str) -> pd.DataFrame:
    """The labelled validation set with scores a governed run logged."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = client.download_artifacts(run_id, VALIDATION_ARTIFACT, tmp)
            frame = pd.read_parquet(local)
        except (MlflowException, OSError, ValueError) as exc:
            raise ArtifactMissingError(
                f"Run '{run_id}' has no readable validation set ({VALIDATION_ARTIFACT}).",
                fix="Upload a labelled CSV or Parquet file to evaluate this run.",
            ) from exc
    for column in (LABEL_COLUMN, SCORE_COLUMN):
        if column not in frame.columns:
            raise ArtifactMissingError(f"Run '{run_id}' validation set lacks '{column}'.")
    return frame


def run_inventory(table: RunsTable, run_id: str) -> RunInventory:
    """What a run in the table carries and lacks."""
    row = table.runs.loc[table.runs["run_id"] == run_id]
    if row.empty:
        raise RunNotFoundError(f"Run '{run_id}' is not in this experiment.")
    return row_inventory(row.iloc[0])


def row_inventory(record: pd.Series) -> RunInventory:
    """What the run of one runs-table row carries and lacks."""
    has_ks = bool(pd.notna(record.get("metrics.val_ks")))
    return RunInventory(
        run_id=str(record["run_id"]),
        has_model=bool(record["has_model"]),
        has_validation_set=bool(record["has_validation_set"]),
        has_cv=bool(pd.notna(record.get("cv_auc_mean"))),
        has_ks=has_ks,
        is_governed=bool(record["is_governed"]),
    )
