"""Row fingerprints and the leakage check: evaluation rows found among a model's training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from core.data.synthetic import DEMO_ID_COLUMN, DEMO_TARGET, make_synthetic_credit_data
from core.evaluation.eval_data import score_frame
from core.evaluation.run_comparison import comparison_verdict, delong_test
from core.monitoring.profiles import load_profiles
from core.monitoring.sources import from_table
from core.monitoring.use_cases import report_with_profiles
from core.run_schema import ID_COLUMN, LABEL_COLUMN
from core.settings import load_settings
from core.store.access import load_model, load_validation_set
from core.store.training_rows import load_training_rows, training_overlaps
from tests.helpers.apptest_helpers import exceptions, texts
from tests.helpers.store_builders import SMALL_ROWS
from ui.diagnostics.data import UPLOAD

N_SEEN, N_UNSEEN = 214, 86


def holdout_with_training_rows(uri: str, run_id: str) -> pd.DataFrame:
    """A 300-row labelled 'holdout': 214 of the run's training rows and 86 validation rows."""
    client = MlflowClient(uri)
    validation = load_validation_set(client, run_id)
    frame = make_synthetic_credit_data(n_rows=SMALL_ROWS, seed=7)
    in_validation = frame[DEMO_ID_COLUMN].astype(str).isin(validation[ID_COLUMN].astype(str))
    seen = frame[~in_validation].head(N_SEEN)
    unseen = frame[in_validation].head(N_UNSEEN)
    return pd.concat([seen, unseen], ignore_index=True).drop(columns=DEMO_ID_COLUMN)


def test_training_logs_one_fingerprint_per_training_row(file_store_template) -> None:
    client = MlflowClient(file_store_template.uri)
    training = load_training_rows(client, file_store_template.governed[0])
    n_train = client.get_run(file_store_template.governed[0]).data.metrics["n_train"]
    assert training is not None and training.fingerprints.dtype == np.uint64
    assert len(training.fingerprints) == training.n_rows == n_train


def test_the_214_of_300_overlap_is_reported_and_no_winner_is_stated(file_store_template) -> None:
    # given a 300-row file, 214 rows of which both governed runs trained on
    uri = file_store_template.uri
    first, second = file_store_template.governed
    holdout = holdout_with_training_rows(uri, first)
    labels = holdout[DEMO_TARGET].to_numpy()
    features = holdout.drop(columns=DEMO_TARGET)
    # when the rows are looked up among each run's training rows
    client = MlflowClient(uri)
    overlaps = training_overlaps(
        client, {"champion": first, "challenger": second}, features, labels
    )
    # then the count, the share and the caveat are stated, with the unseen rows offered
    champion = overlaps[0]
    assert (champion.n_seen, champion.n_rows) == (N_SEEN, 300)
    assert "214 of 300 evaluation rows (71.3%)" in champion.sentence
    assert "optimistic" in champion.sentence and "86 unseen rows" in champion.sentence
    assert int((~champion.seen).sum()) == N_UNSEEN
    # and the champion-vs-challenger comparison names no winner
    scores = [score_frame(load_model(uri, r), features)[0] for r in (first, second)]
    verdict = comparison_verdict(delong_test(labels, *scores), overlaps, "champion", "challenger")
    assert verdict.startswith("No winner is stated") and "71.3%" in verdict


def test_runs_without_fingerprints_cannot_be_checked(file_store_template) -> None:
    client = MlflowClient(file_store_template.uri)
    frame = make_synthetic_credit_data(n_rows=20, seed=3)
    (overlap,) = training_overlaps(
        client, {"seed run": file_store_template.seed_pattern}, frame, frame[DEMO_TARGET]
    )
    assert not overlap.checkable and "cannot be checked" in overlap.sentence


def test_diagnostics_upload_warns_and_offers_the_unseen_rows(file_store, app_env, tmp_path) -> None:
    # given the 300-row file uploaded to Diagnostics of the run that trained on 214 of its rows
    from tests.test_diagnostics_page import metric, open_diagnostics

    app_env(file_store.uri)
    run_id = file_store.governed[0]
    holdout = holdout_with_training_rows(file_store.uri, run_id).rename(
        columns={DEMO_TARGET: LABEL_COLUMN}
    )
    at = open_diagnostics(run_id)
    at.radio(key="diag_source").set_value(UPLOAD).run()
    at.file_uploader(key="diag_upload").upload("holdout.csv", holdout.to_csv(index=False).encode())
    at.run()
    # then it warns with the count and share, and evaluates on the 86 unseen rows when asked
    assert exceptions(at) == []
    assert any("214 of 300" in w.value and "optimistic" in w.value for w in at.warning)
    at.toggle(key="diag_unseen_only").set_value(True).run()
    assert exceptions(at) == [] and "86 of 300 rows" in texts(at)
    assert float(metric(at, "AUC")) > 0


def test_monitoring_outcomes_on_training_rows_are_flagged(file_store_template, tmp_path) -> None:
    # given labelled recent decisions of a run: 214 of its training rows and 86 unseen rows
    uri = file_store_template.uri
    run_id = file_store_template.governed[0]
    holdout = holdout_with_training_rows(uri, run_id)
    model = load_model(uri, run_id)
    recent = from_table(
        holdout.assign(date=pd.Timestamp("2026-01-10")),
        features=model.feature_names, run_id=run_id, threshold=0.5, model=model,
        date_column="date", outcome_column=DEMO_TARGET,
    )  # fmt: skip
    settings = load_settings(
        {"MLFLOW_TRACKING_URI": uri, "PROMOTION_MANIFEST": str(tmp_path / "promotion.json")}
    )
    # when monitored
    found = load_profiles(settings, MlflowClient(uri), (run_id,))
    report = report_with_profiles(recent, found)
    # then a note and a warning say how many outcomes were training rows
    (alert,) = [a for a in report.alerts if a.kind == "training rows"]
    assert "214 of 300" in alert.message and "optimistic" in alert.message
    assert any("214 of 300" in note for note in report.notes)
