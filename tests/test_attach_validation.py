"""`python -m core attach-validation` on runs logged in the seed's pattern, then every page."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from core.cli.main import main
from core.data.synthetic import DEMO_ID_COLUMN, DEMO_TARGET, make_synthetic_credit_data
from core.scoring.scorer import scorer_for
from core.store.access import load_model, load_runs_table, load_validation_set, run_inventory
from core.store.client import ensure_experiment
from core.store.training_rows import load_training_rows
from core.training import attach
from tests.helpers.apptest_helpers import (
    PAGES,
    exceptions,
    open_page,
    texts,
    workbench_data,
)
from tests.helpers.store_builders import EXPERIMENT, copy_file_store, log_seed_pattern_run
from ui.diagnostics.data import LOGGED, PATH

SEED_FEATURES_ROWS = 800


@pytest.fixture(scope="module")
def labelled_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A labelled book of fresh applicants (ids, the seed model's features, `default`)."""
    path = tmp_path_factory.mktemp("attach") / "holdout.csv"
    make_synthetic_credit_data(n_rows=SEED_FEATURES_ROWS, seed=31).to_csv(path, index=False)
    return path


def _seed_store(root: Path) -> tuple[str, str, str]:
    """A file store with a seed-pattern run (categorical model) and a run with no model."""
    uri = f"file:{root / 'mlruns'}"
    run_id = log_seed_pattern_run(uri)
    client = MlflowClient(uri)
    bare = client.create_run(ensure_experiment(client, EXPERIMENT), run_name="no_model").info
    client.log_batch(bare.run_id, metrics=[Metric("val_auc", 0.7, 0, 0)])
    client.set_terminated(bare.run_id)
    return uri, run_id, bare.run_id


@pytest.fixture(scope="module")
def seed_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    """The seed-pattern store, built once for the module (do not write to it)."""
    return _seed_store(tmp_path_factory.mktemp("seed"))


@pytest.fixture()
def seed_store(seed_template: tuple[str, str, str], tmp_path: Path) -> tuple[str, str, str]:
    """A private copy of the seed-pattern store per test (attaching writes to its run)."""
    uri, run_id, bare = seed_template
    path = copy_file_store(Path(uri.removeprefix("file:")), tmp_path / "mlruns")
    return f"file:{path}", run_id, bare


def _cli(monkeypatch, capsys, uri: str, *args: str) -> tuple[int, str, str]:
    """Run `python -m core attach-validation ARGS` in-process against a store."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    code = main(["attach-validation", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _attach_args(run_id: str, data: Path, *extra: str) -> list[str]:
    """The CLI arguments for the labelled CSV."""
    return ["--run-id", run_id, "--data", str(data), "--target", DEMO_TARGET, *extra]


def test_attach_then_every_page_governs_the_seed_run(
    seed_store, labelled_csv, monkeypatch, capsys, app_env
) -> None:
    uri, run_id, _ = seed_store
    client = MlflowClient(uri)
    logged_auc = client.get_run(run_id).data.metrics["val_auc"]
    # when the labelled file is attached with its id column
    code, out, err = _cli(
        monkeypatch, capsys, uri, *_attach_args(run_id, labelled_csv, "--id-column", "applicant_id")
    )
    # then it says what it logged, in one line
    assert code == 0, err
    assert out.startswith(f"Attached {SEED_FEATURES_ROWS:,} labelled rows")
    assert "val_auc" in out and "(run keeps its own)" in out
    # and the run carries the governed artifact, scored through the one scoring path
    validation = load_validation_set(client, run_id)
    model = load_model(uri, run_id)
    frame = make_synthetic_credit_data(n_rows=SEED_FEATURES_ROWS, seed=31)
    expected = scorer_for(model).probability_of(frame[model.feature_names])
    np.testing.assert_array_equal(validation["score"].to_numpy(), expected)
    assert list(validation["row_id"]) == list(frame[DEMO_ID_COLUMN])
    assert validation["label"].tolist() == frame[DEMO_TARGET].tolist()
    assert set(model.feature_names) <= set(validation.columns)
    # and val_ks is logged, the run's own val_auc kept, the file's name and hash tagged
    run = client.get_run(run_id)
    assert run.data.metrics["val_auc"] == logged_auc
    assert 0 < run.data.metrics["val_ks"] < 1
    sha = hashlib.sha256(labelled_csv.read_bytes()).hexdigest()
    assert run.data.tags[attach.HASH_TAG] == sha
    assert run.data.tags[attach.SOURCE_TAG] == "holdout.csv"
    assert run.data.tags[attach.LOGGED_METRICS_TAG] == "val_ks"
    table = load_runs_table(client, uri, run.info.experiment_id)
    assert not any("validation set" in m for m in run_inventory(table, run_id).missing)
    # when every page opens on that run
    app_env(uri)
    pages = {page: open_page(page, {"run_id": run_id, "run": run_id}) for page in PAGES}
    # then none raises, Diagnostics draws ROC and KS on the attached set
    assert all(exceptions(at) == [] for at in pages.values()), {
        p: exceptions(at) for p, at in pages.items()
    }
    charts = workbench_data(pages["pages/diagnostics.py"])["charts"]
    titles = " ".join(chart["title"] for chart in charts)
    assert "ROC" in titles and "KS" in titles
    assert "validation set logged by run" in texts(pages["pages/diagnostics.py"])
    # and What-if offers validation rows, Promotion an approval rate, Monitoring a reference
    whatif = pages["pages/whatif.py"]
    assert "Validation row" in whatif.radio(key="whatif_source").options
    whatif = whatif.radio(key="whatif_source").set_value("Typical values").run()
    assert "medians and most frequent categories of the validation set" in texts(whatif)
    promotion = pages["pages/promotion.py"]
    promotion.selectbox(key="promotion_run").set_value(run_id).run()
    assert any(m.label == "Approval rate on the run's validation data" for m in promotion.metric)
    monitoring = pages["pages/monitoring.py"]
    assert monitoring.selectbox(key="monitoring_run").value == run_id
    assert any("vs expected" in str(m.proto.delta) for m in monitoring.metric)
    assert len(monitoring.get("plotly_chart")) >= 1


def test_refusals_say_why_and_replace_is_recorded(
    seed_store, labelled_csv, tmp_path, monkeypatch, capsys
) -> None:
    uri, run_id, bare = seed_store
    # given a file lacking one of the model's features / then refused, naming it
    lacking = tmp_path / "lacking.csv"
    make_synthetic_credit_data(n_rows=200, seed=5).drop(columns=["loan_purpose"]).to_csv(
        lacking, index=False
    )
    code, _, err = _cli(monkeypatch, capsys, uri, *_attach_args(run_id, lacking))
    assert code == 2 and "loan_purpose" in err and len(err.strip().splitlines()) == 1
    # given a run with no model / then refused
    code, _, err = _cli(monkeypatch, capsys, uri, *_attach_args(bare, labelled_csv))
    assert code == 2 and "logged no model" in err
    # given a run that has one already / then refused unless --replace, which is recorded
    assert _cli(monkeypatch, capsys, uri, *_attach_args(run_id, labelled_csv))[0] == 0
    code, _, err = _cli(monkeypatch, capsys, uri, *_attach_args(run_id, labelled_csv))
    assert code == 2 and "already has a validation set" in err and "--replace" in err
    other = tmp_path / "other.csv"
    make_synthetic_credit_data(n_rows=300, seed=6).to_csv(other, index=False)
    code, out, err = _cli(monkeypatch, capsys, uri, *_attach_args(run_id, other, "--replace"))
    assert code == 0, err
    tags = MlflowClient(uri).get_run(run_id).data.tags
    assert tags[attach.SOURCE_TAG] == "other.csv"
    assert tags[attach.REPLACED_TAG].startswith("holdout.csv ")
    assert "replaced holdout.csv" in out
    assert len(load_validation_set(MlflowClient(uri), run_id)) == 300
    # and val_ks (logged by the tool) follows the new file, val_auc stays the run's own
    assert tags[attach.LOGGED_METRICS_TAG] == "val_ks"


def test_a_target_with_one_class_is_refused(seed_store, tmp_path, monkeypatch, capsys) -> None:
    uri, run_id, _ = seed_store
    goods = tmp_path / "goods.csv"
    frame = make_synthetic_credit_data(n_rows=200, seed=8)
    frame[frame[DEMO_TARGET] == 0].to_csv(goods, index=False)
    code, _, err = _cli(monkeypatch, capsys, uri, *_attach_args(run_id, goods))
    assert code == 2 and "one class only" in err


def _with_unseen(path: Path, rows: tuple[int, ...] = (2, 9, 40)) -> Path:
    """A copy of the labelled file whose home_ownership is HOUSEBOAT (never trained) in rows."""
    frame = make_synthetic_credit_data(n_rows=SEED_FEATURES_ROWS, seed=31)
    frame["home_ownership"] = frame["home_ownership"].astype(object)
    frame.loc[[r - 1 for r in rows], "home_ownership"] = "HOUSEBOAT"
    unseen = path.with_name("unseen.csv")
    frame.to_csv(unseen, index=False)
    return unseen


def test_unseen_categories_are_attached_with_a_warning(
    seed_store, labelled_csv, monkeypatch, capsys
) -> None:
    uri, run_id, _ = seed_store
    # given a file whose home_ownership is HOUSEBOAT, never seen in training, in three rows
    unseen = _with_unseen(labelled_csv)
    # when it is attached
    code, out, err = _cli(monkeypatch, capsys, uri, *_attach_args(run_id, unseen))
    # then it is attached, with a warning naming the feature, the level, the rows and the scoring
    assert code == 0, err
    assert len(load_validation_set(MlflowClient(uri), run_id)) == SEED_FEATURES_ROWS
    warning = out.splitlines()[1]
    assert warning.startswith(
        "warning: home_ownership: 3 rows have categories the model never saw in training "
        "(HOUSEBOAT). The model scores them as a missing home_ownership"
    )


def test_attach_on_a_sqlite_store(tmp_path, labelled_csv, monkeypatch) -> None:
    # a sqlite store's default artifact root is ./mlruns of the working directory: keep it here
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run_id = log_seed_pattern_run(uri)
    result = attach.attach_validation_file(uri, run_id, labelled_csv, DEMO_TARGET)
    assert result.logged_metrics == ("val_ks",)
    assert len(load_validation_set(MlflowClient(uri), run_id)) == SEED_FEATURES_ROWS
    runs = load_runs_table(
        MlflowClient(uri), uri, MlflowClient(uri).get_run(run_id).info.experiment_id
    )
    assert bool(runs.runs.loc[runs.runs["run_id"] == run_id, "has_validation_set"].iloc[0])


@pytest.mark.server
def test_attach_on_a_server_store(server_store, labelled_csv) -> None:
    # a run of its own experiment, so the shared server's other experiments are untouched
    run_id = log_seed_pattern_run(server_store.uri, experiment="attach_validation_test")
    result = attach.attach_validation_file(
        server_store.uri, run_id, labelled_csv, DEMO_TARGET, id_column=DEMO_ID_COLUMN
    )
    assert result.rows == SEED_FEATURES_ROWS
    validation = load_validation_set(MlflowClient(server_store.uri), run_id)
    assert validation["row_id"].iloc[0] == "A031-000000"


def test_diagnostics_attaches_a_labelled_file_to_the_run(seed_store, labelled_csv, app_env) -> None:
    # given Diagnostics on the seed-pattern run, evaluated on a labelled file by path
    uri, run_id, _ = seed_store
    app_env(uri, DATA_ROOT=str(labelled_csv.parent))
    at = open_page("pages/diagnostics.py", {"run_id": run_id})
    at.radio(key="diag_source").set_value(PATH).run()
    at = at.text_input(key="diag_path").input(str(_with_unseen(labelled_csv, (5,)))).run()
    assert exceptions(at) == []
    assert at.selectbox(key="diag_label").value == DEMO_TARGET
    # when the analyst attaches it to the run, with its id column
    at.selectbox(key="diag_attach_id").set_value(DEMO_ID_COLUMN)
    at = at.button(key="diag_attach").click().run()
    # then the page says what was logged, and the run carries the governed validation set
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    assert f"Attached {SEED_FEATURES_ROWS:,} labelled rows" in texts(at)
    # with the warning that one row's home_ownership was never seen in training
    assert any("home_ownership: 1 row has categories" in w.value for w in at.warning)
    validation = load_validation_set(MlflowClient(uri), run_id)
    assert validation["row_id"].iloc[0] == "A031-000000"
    assert MlflowClient(uri).get_run(run_id).data.tags[attach.SOURCE_TAG] == "unseen.csv"
    # and the logged validation set is now offered as evaluation data
    assert LOGGED in at.radio(key="diag_source").options


def test_attach_with_training_data_logs_ranges_and_finds_training_rows(
    seed_store, labelled_csv, monkeypatch, capsys, tmp_path
) -> None:
    uri, run_id, _ = seed_store
    # given the run's training rows at hand: here 500 of the 800 rows about to be attached
    training = tmp_path / "training.csv"
    frame = make_synthetic_credit_data(n_rows=SEED_FEATURES_ROWS, seed=31)
    frame.head(500).to_csv(training, index=False)
    # when the file is attached without the training data, the overlap cannot be checked
    code, out, err = _cli(monkeypatch, capsys, uri, *_attach_args(run_id, labelled_csv))
    assert code == 0, err
    assert "cannot be checked" in out
    # and with it, the training record is logged and the overlap is stated
    args = _attach_args(run_id, labelled_csv, "--replace", "--training-data", str(training))
    code, out, err = _cli(monkeypatch, capsys, uri, *args)
    assert code == 0, err
    assert "500 of 800 evaluation rows (62.5%)" in out and "optimistic" in out
    record = load_training_rows(MlflowClient(uri), run_id)
    assert record is not None and record.n_rows == 500
    assert record.ranges["credit_score"] == (
        float(frame.head(500)["credit_score"].min()),
        float(frame.head(500)["credit_score"].max()),
    )
