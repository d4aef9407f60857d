"""Store access: read an experiment's runs, one run, its CV folds, model and validation set."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import pandas as pd
from mlflow.entities import Run, ViewType
from mlflow.exceptions import MlflowException
from mlflow.models import Model
from mlflow.tracking import MlflowClient

from core.errors import (
    ArtifactMissingError,
    ModelLoadError,
    RunNotFoundError,
    StoreAccessDeniedError,
    StoreUnavailableError,
)
from core.scoring.calibrator import attach_calibrator, read_calibrator
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
from core.store.server_reader import bulk_metric_histories
from core.store.sqlite_reader import SqliteSchemaError, read_sqlite_runs
from core.training.trainer import LABEL_COLUMN, SCORE_COLUMN, VALIDATION_ARTIFACT

logger = logging.getLogger(__name__)
_SEARCH_PAGE = 1000
_HISTORY_THREADS = 8
# Parallel start-time windows, each read in pages of _WINDOW_PAGE runs: small pages keep every
# request well inside MLFLOW_HTTP_REQUEST_TIMEOUT when the server's workers share few cores
# (8 windows x 1,000-run pages timed out at 15 s on a loaded 2-core machine).
_SEARCH_THREADS = 4
_WINDOW_PAGE = 250
_MAX_WINDOWS = 64
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


def _raw_from_entity(run: Run) -> RawRun:
    """Convert an MLflow Run entity to the store-neutral RawRun."""
    info, data = run.info, run.data
    outputs = getattr(run, "outputs", None)
    model_outputs = getattr(outputs, "model_outputs", None) if outputs is not None else None
    return RawRun(
        run_id=info.run_id,
        experiment_id=info.experiment_id,
        run_name=info.run_name or data.tags.get("mlflow.runName", ""),
        status=info.status,
        start_time=info.start_time,
        end_time=info.end_time,
        lifecycle_stage=info.lifecycle_stage,
        user=info.user_id or "",
        params=dict(data.params),
        metrics=dict(data.metrics),
        history={},
        tags=dict(data.tags),
        has_model_output=bool(model_outputs),
    )


def _search_pages(
    client: MlflowClient,
    experiment_id: str,
    filter_string: str,
    page_size: int,
    on_page: Callable[[int], None] | None = None,
) -> list[Run]:
    """Every active run of an experiment matching a filter, following page tokens."""
    runs: list[Run] = []
    token: str | None = None
    while True:
        page = client.search_runs(
            [experiment_id],
            filter_string=filter_string,
            run_view_type=ViewType.ACTIVE_ONLY,
            max_results=page_size,
            page_token=token,
        )
        runs.extend(page)
        if on_page is not None:
            on_page(len(page))
        token = page.token
        if not token:
            return runs


def start_time_windows(oldest: int, last: int, count: int) -> list[str]:
    """Filter strings splitting start times up to `last` (inclusive) into `count` half-open
    windows of equal length from `oldest`; the first has no lower bound, so together they
    hold every start time <= last exactly once, equal start times included."""
    count = max(1, min(count, last - oldest + 1))
    edges = [oldest + (last + 1 - oldest) * i // count for i in range(count + 1)]
    windows = []
    for i in range(count):
        lower = f"attributes.start_time >= {edges[i]} AND " if i else ""
        windows.append(f"{lower}attributes.start_time < {edges[i + 1]}")
    return windows


def newest_runs(client: MlflowClient, experiment_id: str, count: int) -> tuple[list[Run], bool]:
    """The `count` newest active runs, and whether older ones remain."""
    page = client.search_runs(
        [experiment_id],
        run_view_type=ViewType.ACTIVE_ONLY,
        max_results=count,
        order_by=["attributes.start_time DESC"],
    )
    return list(page), bool(page.token)


def older_runs(
    client: MlflowClient,
    experiment_id: str,
    newest: list[Run],
    partition_size: int = DEFAULT_RUNS_SEARCH_PARTITION,
    on_page: Callable[[int], None] | None = None,
) -> list[Run]:
    """Every active run not in `newest` (the newest page), read in start-time windows of about
    `partition_size` runs each (estimated from the newest page's density), searched in
    parallel; on_page(n) is called as each page of n runs arrives."""
    page_size = min(_SEARCH_PAGE, partition_size, _WINDOW_PAGE)
    latest, last = newest[0].info.start_time, newest[-1].info.start_time
    oldest_page = client.search_runs(
        [experiment_id],
        run_view_type=ViewType.ACTIVE_ONLY,
        max_results=1,
        order_by=["attributes.start_time ASC"],
    )
    oldest = min(oldest_page[0].info.start_time, last) if oldest_page else last
    per_ms = len(newest) / max(latest - last, 1)
    count = min(_MAX_WINDOWS, math.ceil(per_ms * (last - oldest + 1) / partition_size))
    windows = start_time_windows(oldest, last, count)
    with ThreadPoolExecutor(_SEARCH_THREADS) as pool:
        parts = list(
            pool.map(lambda f: _search_pages(client, experiment_id, f, page_size, on_page), windows)
        )
    seen = {run.info.run_id for run in newest}
    rest = []
    for part in parts:
        for run in part:
            if run.info.run_id not in seen:  # runs at `last` are in the newest page too
                seen.add(run.info.run_id)
                rest.append(run)
    return rest


def _search_all_runs(
    client: MlflowClient, experiment_id: str, partition_size: int = DEFAULT_RUNS_SEARCH_PARTITION
) -> list[Run]:
    """Every active run of an experiment, newest first.

    A tracking server answers search_runs at seconds per 1,000 runs and its page tokens make
    pages sequential. So: one ordered request for the newest page, one for the oldest start
    time, then the older runs in start-time windows searched in parallel (older_runs). The set
    read is the experiment as of the first request: a run started later is left for the next
    reload.
    """
    runs, more = newest_runs(client, experiment_id, min(_SEARCH_PAGE, partition_size))
    if more:
        runs += older_runs(client, experiment_id, runs, partition_size)
    return sorted(runs, key=lambda r: (-(r.info.start_time or 0), r.info.run_id))


def _needs_step_history(raw: RawRun) -> list[str]:
    """Step-convention fold metrics whose history must be fetched (no summary logged)."""
    names = []
    for name in ("cv_auc", "cv_ks"):
        if name in raw.metrics and f"{name}_mean" not in raw.metrics:
            names.append(name)
    return names


def _fetch_histories(client: MlflowClient, raws: list[RawRun]) -> list[RawRun]:
    """Fill in fold-metric histories for runs that need them, in parallel."""
    jobs = [(i, name) for i, raw in enumerate(raws) for name in _needs_step_history(raw)]
    if not jobs:
        return raws
    bulk = bulk_metric_histories(client, [(raws[i].run_id, name) for i, name in jobs])
    if bulk is not None:
        for index, name in jobs:
            raws[index].history[name] = bulk[(raws[index].run_id, name)]
        return raws

    def fetch(job: tuple[int, str]) -> tuple[int, str, list[tuple[int, float]]]:
        index, name = job
        points = client.get_metric_history(raws[index].run_id, name)
        return index, name, [(m.step, m.value) for m in points]

    with ThreadPoolExecutor(_HISTORY_THREADS) as pool:
        for index, name, points in pool.map(fetch, jobs):
            raws[index].history[name] = points
    return raws


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
        runs = _search_all_runs(client, experiment_id, partition_size)
        raws = [_raw_from_entity(r) for r in runs]
        return _fetch_histories(client, raws), []
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
    raw = _raw_from_entity(run)
    run_id = run.info.run_id
    for name in ("cv_auc", "cv_ks"):
        if name in raw.metrics:
            raw.history[name] = [(m.step, m.value) for m in client.get_metric_history(run_id, name)]
    kids = client.search_runs(
        [run.info.experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{run_id}'"
    )
    table = build_runs_table([raw, *(_raw_from_entity(k) for k in kids)])
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


def model_uri(run_id: str) -> str:
    """The immutable URI of a run's model."""
    return f"runs:/{run_id}/model"


def load_model(tracking_uri: str, run_id: str) -> lgb.LGBMClassifier:
    """Load a live run's LightGBM classifier (RunNotFoundError for an unknown or deleted run)."""
    prepare_mlflow_environment(tracking_uri)
    get_run(MlflowClient(tracking_uri=tracking_uri), run_id)
    return load_model_unchecked(tracking_uri, run_id)


def load_model_folder(folder: str | Path) -> lgb.LGBMClassifier | lgb.Booster:
    """Load a local MLflow model folder, its calibrator attached: the lightgbm flavour, or an
    LGBMClassifier logged with the sklearn flavour.

    The one loader of a model's files: a run's model (downloaded) and a promotion export alike,
    so the Scorer of either applies the same calibrator (core.scoring.calibrator).
    """
    flavors = Model.load(str(folder)).flavors
    if "lightgbm" not in flavors and "sklearn" in flavors:
        # another team's habit: an LGBMClassifier logged with mlflow.sklearn.log_model
        from mlflow import sklearn as mlflow_sklearn  # only for such runs: a slow import

        model = mlflow_sklearn.load_model(str(folder))
        if not isinstance(model, lgb.LGBMClassifier):
            raise ModelLoadError(
                f"The model is a {type(model).__name__} logged with the sklearn flavour, not a "
                "LightGBM classifier.",
                fix="Log the LGBMClassifier itself with mlflow.lightgbm.log_model (or "
                "mlflow.sklearn.log_model) under the name 'model'.",
            )
    else:
        model = mlflow.lightgbm.load_model(str(folder))
    attach_calibrator(model, read_calibrator(folder))
    return model


def load_model_unchecked(tracking_uri: str, run_id: str) -> lgb.LGBMClassifier:
    """Load a run's LightGBM classifier with the lightgbm flavour (pyfunc cannot do categories)."""
    prepare_mlflow_environment(tracking_uri)
    try:
        with tempfile.TemporaryDirectory(prefix="model-") as tmp:
            with _tracking_uri(tracking_uri):
                local = mlflow.artifacts.download_artifacts(
                    artifact_uri=model_uri(run_id), dst_path=tmp
                )
            model = load_model_folder(local)
    except (MlflowException, OSError, ValueError, ImportError) as exc:
        raise ModelLoadError(
            f"The model of run '{run_id}' could not be loaded ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]}).",
            fix="Check that the run logged a LightGBM model under the name 'model' "
            "(mlflow.lightgbm.log_model or mlflow.sklearn.log_model).",
        ) from exc
    if isinstance(model, lgb.Booster):
        raise ModelLoadError(
            f"Run '{run_id}' logged a raw LightGBM Booster, not an LGBMClassifier.",
            fix="Log the scikit-learn LGBMClassifier with mlflow.lightgbm.log_model.",
        )
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
