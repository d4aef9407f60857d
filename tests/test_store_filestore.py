"""The direct file-store reader: same answer as MLflow, skips corrupt runs, parses meta fast."""

from __future__ import annotations

import pytest
import yaml
from mlflow.tracking import MlflowClient

from core.store import access as store
from core.store import server_reader
from core.store.filestore_reader import _parse_meta, read_experiment_runs
from tests.helpers.runs_asserts import assert_same_run
from tests.helpers.store_builders import EXPERIMENT


def test_reader_matches_the_mlflow_client(file_store) -> None:
    # given a populated file store
    client = MlflowClient(file_store.uri)
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    # when it is read directly and through the client
    fast, warnings = read_experiment_runs(file_store.path, experiment_id)
    slow = {r.info.run_id: r for r in server_reader.search_all_runs(client, experiment_id)}
    # then both see the same runs with the same info, params, tags and latest metrics
    assert warnings == []
    assert {r.run_id for r in fast} == set(slow)
    for raw in fast:
        assert_same_run(raw, server_reader.raw_from_entity(slow[raw.run_id]))


def test_corrupt_meta_skips_only_that_run(file_store) -> None:
    # given one run whose meta.yaml is not valid YAML
    client = MlflowClient(file_store.uri)
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    broken = file_store.foreign["named_folds"]
    (file_store.path / experiment_id / broken / "meta.yaml").write_text("run_id: [unclosed\n")
    # when the runs table is loaded
    table = store.load_runs_table(client, file_store.uri, experiment_id)
    # then that run is skipped with a warning naming it, and the others are shown
    assert broken not in set(table.runs["run_id"])
    assert set(file_store.governed) <= set(table.runs["run_id"])
    assert len(table.warnings) == 1 and broken in table.warnings[0]


@pytest.mark.parametrize(
    ("relative", "content", "named"),
    [
        ("metrics/val_auc", b"1795765665724 garbage 0\n", "metrics/val_auc line 1"),
        ("params/num_leaves", b"\xff\xfe15", "params/num_leaves is not UTF-8 text"),
    ],
    ids=["metric", "param"],
)
def test_a_damaged_file_is_named_in_the_warning(file_store, relative, content, named) -> None:
    # given one governed run with one damaged metric or param file
    client = MlflowClient(file_store.uri)
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    broken = file_store.governed[0]
    (file_store.path / experiment_id / broken / relative).write_bytes(content)
    # when the runs table is loaded
    table = store.load_runs_table(client, file_store.uri, experiment_id)
    # then the warning names the run, the file and what to do; the other runs are shown
    assert broken not in set(table.runs["run_id"])
    (warning,) = table.warnings
    assert broken in warning and named in warning and "Repair or remove that file" in warning
    assert set(file_store.governed[1:]) <= set(table.runs["run_id"])


@pytest.mark.parametrize(
    "text",
    [
        "run_id: 06d63cf2\nstatus: 3\nstart_time: 1795765665724\nrun_name: ''\ntags: []\n",
        "artifact_uri: file:///tmp/x/artifacts\nexperiment_id: '72'\nuser_id: unknown\n",
        "run_name: 'it''s'\nend_time: null\nlifecycle_stage: active\n",
        "run_id: 1e5abc\nx: 0.5\ny: 2026-01-01\nz: true\nw: -3\n",
        "run_id: x\nnested:\n  a: 1\n",
    ],
)
def test_flat_meta_parser_agrees_with_yaml(text: str) -> None:
    # given meta.yaml texts, plain and unusual
    # when parsed by the fast path
    # then the result equals PyYAML's
    assert _parse_meta(text) == yaml.safe_load(text)
