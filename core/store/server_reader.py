"""Read a tracking server's runs: newest page first, older runs in parallel start-time windows,
and fold histories in bulk (100 runs per request, several requests at once).

MLflow's client reads a metric history one run at a time (`get_metric_history`): 40,000 round
trips for 20,000 runs with two step-logged fold metrics. The server's own UI reads histories
through `/ajax-api/2.0/mlflow/metrics/get-history-bulk` (up to 100 run ids and one metric per
request); this module uses it, with MLflow's own host credentials (basic auth, token, TLS
settings), and answers None when the server does not offer it so the caller falls back.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from mlflow.entities import Run, ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.rest_utils import http_request_safe

from core.settings import DEFAULT_RUNS_SEARCH_PARTITION
from core.store.filestore_reader import RawRun

logger = logging.getLogger(__name__)
BULK_ENDPOINT = "/ajax-api/2.0/mlflow/metrics/get-history-bulk"
RUNS_PER_REQUEST = 100  # the server's MAX_RUN_IDS_PER_REQUEST
MAX_POINTS_PER_REQUEST = 25_000  # the server's cap on points returned by one request
BULK_THREADS = 8

SEARCH_PAGE = 1000
_HISTORY_THREADS = 8
# Parallel start-time windows, each read in pages of _WINDOW_PAGE runs: small pages keep every
# request well inside MLFLOW_HTTP_REQUEST_TIMEOUT when the server's workers share few cores
# (8 windows x 1,000-run pages timed out at 15 s on a loaded 2-core machine).
_SEARCH_THREADS = 4
_WINDOW_PAGE = 250
_MAX_WINDOWS = 64
History = dict[tuple[str, str], list[tuple[int, float]]]


def _host_creds(client: MlflowClient):
    """The REST host credentials behind a server client, or None for a local store."""
    store = getattr(getattr(client, "_tracking_client", None), "store", None)
    get_creds = getattr(store, "get_host_creds", None)
    return get_creds() if callable(get_creds) else None


def _fetch_chunk(host_creds, run_ids: Sequence[str], metric: str) -> list[dict]:
    """One bulk request: every point of `metric` for up to 100 runs."""
    params = [("run_id", run_id) for run_id in run_ids] + [
        ("metric_key", metric),
        ("max_results", str(MAX_POINTS_PER_REQUEST)),
    ]
    response = http_request_safe(host_creds, BULK_ENDPOINT, "GET", params=params)
    return response.json().get("metrics", [])


def bulk_metric_histories(client: MlflowClient, jobs: Sequence[tuple[str, str]]) -> History | None:
    """{(run_id, metric): [(step, value), ...]} for every (run_id, metric) job, in bulk requests
    run concurrently; None when the client is not a server's or the endpoint is unavailable
    (an HTTP 401/403 is raised, as any other read would)."""
    host_creds = _host_creds(client)
    if host_creds is None or not jobs:
        return None if host_creds is None else {}
    by_metric: dict[str, list[str]] = defaultdict(list)
    for run_id, metric in jobs:
        by_metric[metric].append(run_id)
    chunks = [
        (metric, run_ids[i : i + RUNS_PER_REQUEST])
        for metric, run_ids in by_metric.items()
        for i in range(0, len(run_ids), RUNS_PER_REQUEST)
    ]
    histories: History = {job: [] for job in jobs}
    try:
        with ThreadPoolExecutor(BULK_THREADS) as pool:
            results = list(pool.map(lambda c: _fetch_chunk(host_creds, c[1], c[0]), chunks))
    except MlflowException as exc:
        if exc.get_http_status_code() in (401, 403):
            raise
        logger.info("Bulk metric history unavailable (%s); reading run by run.", exc)
        return None
    for (metric, _), points in zip(chunks, results, strict=True):
        if len(points) >= MAX_POINTS_PER_REQUEST:
            logger.info("Bulk metric history truncated for %s; reading run by run.", metric)
            return None
        for point in points:
            histories[(point["run_id"], metric)].append(
                (int(point.get("step", 0)), float(point["value"]))
            )
    return {job: sorted(points) for job, points in histories.items()}


def raw_from_entity(run: Run) -> RawRun:
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
    page_size = min(SEARCH_PAGE, partition_size, _WINDOW_PAGE)
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


def search_all_runs(
    client: MlflowClient, experiment_id: str, partition_size: int = DEFAULT_RUNS_SEARCH_PARTITION
) -> list[Run]:
    """Every active run of an experiment, newest first.

    A tracking server answers search_runs at seconds per 1,000 runs and its page tokens make
    pages sequential. So: one ordered request for the newest page, one for the oldest start
    time, then the older runs in start-time windows searched in parallel (older_runs). The set
    read is the experiment as of the first request: a run started later is left for the next
    reload.
    """
    runs, more = newest_runs(client, experiment_id, min(SEARCH_PAGE, partition_size))
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


def fetch_histories(client: MlflowClient, raws: list[RawRun]) -> list[RawRun]:
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
