"""The tracking server on PostgreSQL: the Runs page, concurrent readers and the scoring service.

Store, training, runs-table and promotion (champion alias) tests run on the same server through
the `postgres_store` parameter of test_foundation_store.py and test_cli_promote.py.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from mlflow.entities import Metric

from core.data.synthetic import demo_dataset
from core.promotion import use_cases as promotion
from core.store.access import load_runs_table
from core.store.client import ensure_experiment, get_experiment, open_client
from core.store.server_reader import bulk_metric_histories, search_all_runs
from tests.helpers import ROOT
from tests.helpers.apptest_helpers import exceptions, open_page
from tests.helpers.processes import free_port, serving
from tests.helpers.promotion_fixtures import settings_for
from tests.helpers.store_builders import EXPERIMENT
from tests.test_runs_partitioned import all_run_ids, seed_partitioned

pytestmark = pytest.mark.postgres
READERS = 6


def test_runs_page_opens_on_the_postgres_server(postgres_store, app_env) -> None:
    # given the dashboard pointed at the PostgreSQL-backed server
    app_env(postgres_store.uri)
    # when the Runs page opens
    at = open_page("pages/runs.py")
    # then every top-level run is listed, with no exception
    assert exceptions(at) == []
    shown = set(at.dataframe[0].value["run_id"])
    assert {*postgres_store.governed, postgres_store.seed_pattern} <= shown


def test_parallel_start_time_windows_read_exactly_mlflows_runs(postgres_store) -> None:
    # given runs tied at window edges and deleted runs on the PostgreSQL-backed server
    client = open_client(postgres_store.uri)
    experiment_id = seed_partitioned(client, "partitioned")
    # when they are read in windows of about 4 runs, searched in parallel
    runs = search_all_runs(client, experiment_id, 4)
    # then the runs are exactly MLflow's search_runs answer, in its order
    assert [r.info.run_id for r in runs] == all_run_ids(client, experiment_id)


def test_concurrent_readers_all_get_the_whole_table(postgres_store) -> None:
    # given several dashboard sessions reading the same experiment at once
    client = open_client(postgres_store.uri)
    experiment_id = get_experiment(client, EXPERIMENT).experiment_id

    def read(_: int) -> tuple[str, ...]:
        table = load_runs_table(client, postgres_store.uri, experiment_id)
        return tuple(sorted(table.runs["run_id"]))

    # when they read in parallel (each read itself fans out fold-history requests)
    with ThreadPoolExecutor(READERS) as pool:
        results = list(pool.map(read, range(READERS)))
    # then each gets the same complete table (no pool exhaustion, no partial pages)
    assert len(set(results)) == 1 and postgres_store.governed[0] in results[0]


def test_scoring_service_serves_a_run_promoted_from_postgres(postgres_store, tmp_path) -> None:
    # given a run of the PostgreSQL-backed server promoted to a manifest
    settings = settings_for(postgres_store.uri, tmp_path / "deploy" / "promotion.json")
    request = promotion.PromotionRequest(
        run_id=postgres_store.seed_pattern,
        threshold=0.45,
        by="alice",
        reason="serving on postgres",
        force=True,
        force_reason="the seed-pattern run logs no CV",
    )
    promotion.promote(settings, request)
    env = {
        "MLFLOW_TRACKING_URI": postgres_store.uri,
        "PROMOTION_MANIFEST": str(settings.promotion_manifest),
        "DECISION_LOG": str(tmp_path / "decisions"),
    }
    port = free_port()
    command = [sys.executable, "-m", "core", "serve", "--workers", "1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    health = (f"{url}/health", '{"status":"ok"}')
    with serving(command, ROOT, {**os.environ, **env}, tmp_path / "service.log", health):
        # when it is asked for its version and scores an applicant
        version = requests.get(f"{url}/version", timeout=30).json()
        frame = demo_dataset(n_rows=10, seed=3).features.head(1)
        applicant = {"id": "pg-1", **json.loads(frame.to_json(orient="records"))[0]}
        response = requests.post(f"{url}/predict", json=applicant, timeout=30)
    # then it serves the promoted run and decides
    assert version["run_id"] == postgres_store.seed_pattern
    assert response.status_code == 200
    assert response.json()["predictions"][0]["decision"] in ("approve", "decline")


def test_bulk_fold_histories_equal_the_per_run_reads(postgres_store) -> None:
    # given runs that logged step-convention folds only (no summary metrics)
    client = open_client(postgres_store.uri)
    experiment_id = ensure_experiment(client, "bulk_history_test")
    run_ids = []
    for shift in (0.0, 0.01, 0.02):
        run_id = client.create_run(experiment_id).info.run_id
        folds = [Metric("cv_auc", 0.7 + shift + k / 100, 0, k) for k in range(5)]
        client.log_batch(run_id, metrics=[*folds, Metric("cv_ks", 0.4, 0, 0)])
        client.set_terminated(run_id)
        run_ids.append(run_id)
    jobs = [(r, m) for r in run_ids for m in ("cv_auc", "cv_ks")]
    # when their histories are read in bulk
    bulk = bulk_metric_histories(client, jobs)
    # then they equal MLflow's per-run reads, and the runs table has every fold
    assert bulk == {
        (r, m): sorted((p.step, p.value) for p in client.get_metric_history(r, m)) for r, m in jobs
    }
    runs = load_runs_table(client, postgres_store.uri, experiment_id).runs.set_index("run_id")
    assert (runs.loc[run_ids, "cv_auc_n"] == 5).all()
    assert (runs.loc[run_ids, "cv_source"] == "step").all()


def test_dashboard_reads_the_database_directly_as_the_server_does(
    postgres_store, postgres_database
) -> None:
    # given the server's own PostgreSQL database as the tracking URI (the fast path at scale)
    server, database = open_client(postgres_store.uri), open_client(postgres_database.url)
    experiment_id = get_experiment(database, EXPERIMENT).experiment_id
    # when both read the runs table
    via_server = load_runs_table(server, postgres_store.uri, experiment_id).runs
    direct = load_runs_table(database, postgres_database.url, experiment_id).runs
    # then they agree run for run, on folds and on what each run carries
    columns = ["run_id", "status", "cv_auc_mean", "cv_auc_n", "has_model", "has_validation_set"]
    key = "run_id"
    left = via_server[columns].sort_values(key).reset_index(drop=True)
    right = direct[columns].sort_values(key).reset_index(drop=True)
    assert left.equals(right) or left.compare(right).empty
    assert set(direct[key]) >= set(postgres_store.governed)
