"""Reading a tracking server's runs in parallel start-time windows gives exactly MLflow's set."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from core.settings import SettingsError, load_settings
from core.store.server_reader import search_all_runs, start_time_windows

PARTITION = 4  # runs per window: 30 runs make several windows
T0 = 1_700_000_000_000


def all_run_ids(client: MlflowClient, experiment_id: str) -> list[str]:
    """MLflow's own answer: every active run, following page tokens."""
    ids, token = [], None
    while True:
        page = client.search_runs([experiment_id], max_results=1000, page_token=token)
        ids += [r.info.run_id for r in page]
        token = page.token
        if not token:
            return ids


def seed_partitioned(client: MlflowClient, name: str) -> str:
    """An experiment of 30 active runs (start times tied in threes, gaps uneven) and 2 deleted."""
    experiment_id = client.create_experiment(name)
    for i in range(32):
        start = T0 + (i // 3) * 1000 + (50_000 if i >= 24 else 0)
        run = client.create_run(experiment_id, start_time=start, run_name=f"r{i:02d}")
        client.log_metric(run.info.run_id, "val_auc", 0.7 + i / 1000)
        if i in (5, 27):
            client.delete_run(run.info.run_id)
    return experiment_id


@pytest.fixture(scope="module")
def partitioned(server_store) -> tuple[MlflowClient, str]:
    """The partitioned experiment on the tracking server (SQLite behind it)."""
    client = MlflowClient(server_store.uri)
    return client, seed_partitioned(client, "partitioned")


def test_windows_cover_every_start_time_once() -> None:
    # given windows over start times 10..29 in 4 parts
    windows = start_time_windows(10, 29, 4)
    # then the first has no lower bound, the last ends just past 29, and edges meet
    assert windows[0] == "attributes.start_time < 15"
    assert windows[1] == "attributes.start_time >= 15 AND attributes.start_time < 20"
    assert windows[-1].endswith("attributes.start_time < 30")
    # and a span of one millisecond makes one window however many were asked for
    assert start_time_windows(7, 7, 8) == ["attributes.start_time < 8"]


@pytest.mark.server
@pytest.mark.parametrize("partition", [PARTITION, 3, 1000])
def test_partitioned_read_equals_mlflow_search_runs(partitioned, partition) -> None:
    # given a server experiment with ties at window edges and deleted runs
    client, experiment_id = partitioned
    # when it is read in parallel windows
    runs = search_all_runs(client, experiment_id, partition)
    # then the run ids are exactly MLflow's, once each, in MLflow's order (newest first)
    assert [r.info.run_id for r in runs] == all_run_ids(client, experiment_id)
    assert len(runs) == 30


class _AddsRunsWhileReading(MlflowClient):
    """A real client that starts two runs right after its first search: one older than the
    newest page, one newer than every run."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.added: dict[str, str] = {}
        self.armed = False

    def search_runs(self, *args, **kwargs):
        page = super().search_runs(*args, **kwargs)
        if self.armed and not self.added:
            experiment_id = args[0][0]
            for name, start in (("older", T0 + 1500), ("newer", T0 + 10**9)):
                self.added[name] = self.create_run(
                    experiment_id, start_time=start, run_name=name
                ).info.run_id
        return page


@pytest.mark.server
def test_runs_started_during_the_read_are_read_once_or_left_for_the_next(
    server_store, partitioned
) -> None:
    # given a second experiment like the first, read by a client that adds runs mid-read
    _, source_id = partitioned
    client = _AddsRunsWhileReading(server_store.uri)
    experiment_id = client.create_experiment("partitioned-live")
    for run in client.search_runs([source_id], max_results=1000):
        client.create_run(experiment_id, start_time=run.info.start_time)
    before = set(all_run_ids(client, experiment_id))
    client.armed = True
    # when it is read in windows while the two runs are added
    ids = [r.info.run_id for r in search_all_runs(client, experiment_id, PARTITION)]
    # then no run is read twice, the older newcomer is in a window, the newer one waits
    assert len(ids) == len(set(ids))
    assert set(ids) == before | {client.added["older"]}
    # and a deleted run is not read
    client.delete_run(ids[-1])
    assert ids[-1] not in {r.info.run_id for r in search_all_runs(client, experiment_id, 3)}


def test_partition_setting_is_validated() -> None:
    assert load_settings({"RUNS_SEARCH_PARTITION": "250"}).runs_search_partition == 250
    assert load_settings({}).runs_search_partition == 1000
    with pytest.raises(SettingsError, match="RUNS_SEARCH_PARTITION"):
        load_settings({"RUNS_SEARCH_PARTITION": "0"})
