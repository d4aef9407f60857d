"""Every consumer scores through the one Scorer: same rows, same probability, to 1e-12."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.synthetic import demo_dataset
from core.evaluation.eval_data import from_labelled_frame, score_frame
from core.evaluation.explain_global import global_shap
from core.promotion.gates import gate_smoke
from core.run_schema import ID_COLUMN, LABEL_COLUMN, SCORE_COLUMN
from core.scoring.calibrator import sigmoid
from core.scoring.counterfactual import find_counterfactuals
from core.scoring.cross_check import reference_probability
from core.scoring.scorer import scorer_for
from core.store.access import load_model, load_validation_set
from core.store.client import open_client
from core.training.model_config import TrainConfig
from core.training.trainer import train_and_log

THRESHOLD = 0.4542
EXACT = 1e-12


@pytest.fixture(scope="module", name="calibrated_run")
def calibrated_run_fixture(tmp_path_factory) -> tuple[str, str]:
    """A small governed run trained with --calibrate isotonic: (tracking URI, run id)."""
    uri = f"file:{tmp_path_factory.mktemp('consistency') / 'mlruns'}"
    config = TrainConfig(n_estimators=30, num_leaves=7, cv_folds=3, calibrate="isotonic")
    return uri, train_and_log(uri, "consistency", demo_dataset(n_rows=2_000, seed=5), config).run_id


def _rows_and_model(
    store, which: str, calibrated: tuple[str, str]
) -> tuple[pd.DataFrame, object, pd.Series | None]:
    """Applicant rows, the model, and (for a governed run) the scores training logged."""
    if which in ("governed", "calibrated"):
        uri, run_id = (store.uri, store.governed[0]) if which == "governed" else calibrated
        validation = load_validation_set(open_client(uri), run_id)
        rows = validation.drop(columns=[LABEL_COLUMN, SCORE_COLUMN, ID_COLUMN], errors="ignore")
        return rows, load_model(uri, run_id), validation[SCORE_COLUMN]
    rows = demo_dataset(n_rows=400, seed=3).features
    return rows, load_model(store.uri, store.seed_pattern), None


@pytest.mark.parametrize("which", ["governed", "seed_pattern", "calibrated"])
def test_every_consumer_gives_the_scorers_probability(
    file_store_template, calibrated_run, which
) -> None:
    # given a governed run, a categorical model logged by plain code in the seed's style, and a
    # run trained with a calibrator
    rows, model, logged = _rows_and_model(file_store_template, which, calibrated_run)
    assert any(isinstance(rows[c].dtype, pd.CategoricalDtype) for c in rows.columns)
    scorer = scorer_for(model)
    # when the one scoring path scores the rows
    expected = scorer.probability_of(rows)
    # then What-if / batch scoring gives the same probability
    result = scorer_for(model).score(rows, THRESHOLD)
    np.testing.assert_allclose(result.scores["probability"], expected, rtol=0, atol=EXACT)
    # and diagnostics' and monitoring's evaluation data does too
    np.testing.assert_allclose(score_frame(model, rows)[0], expected, rtol=0, atol=EXACT)
    labelled = rows.assign(default=np.arange(len(rows)) % 2)
    evaluation = from_labelled_frame(labelled, model, "default", source="t", fingerprint="t")
    np.testing.assert_allclose(evaluation.scores, expected, rtol=0, atol=EXACT)
    # and LightGBM's own predict_proba on the prepared rows (then the run's calibrator)
    prepared = scorer.prepare(rows).frame
    own = reference_probability(model, prepared)
    np.testing.assert_allclose(own, expected, rtol=0, atol=EXACT)
    to_output = scorer.probability_from_raw
    np.testing.assert_allclose(to_output(result.scores["raw_score"]), expected, atol=EXACT)
    calibrated = which == "calibrated"
    assert (scorer.scale == "calibrated_pd") is calibrated
    assert np.allclose(sigmoid(result.scores["raw_score"]), expected) is not calibrated
    # and SHAP contributions (raw log-odds) add up to the same score (global SHAP and What-if)
    shap = global_shap(model, rows, sample_size=len(rows))
    from_shap = to_output(shap.values.sum(axis=1).to_numpy() + shap.base_value)
    np.testing.assert_allclose(from_shap, expected[: len(from_shap)], rtol=0, atol=EXACT)
    from_whatif = to_output(result.contributions.sum(axis=1).to_numpy() + result.base_value)
    np.testing.assert_allclose(from_whatif, expected, rtol=0, atol=EXACT)
    # and counterfactuals start from the same probability
    for i in range(3):
        found = find_counterfactuals(model, rows.iloc[[i]], THRESHOLD)
        assert abs(found.current_probability - expected[i]) <= EXACT
    # and the promotion smoke gate agrees
    assert gate_smoke(model, model, rows.head(50), "rows", THRESHOLD).passed
    # and training logged exactly these scores for its validation set
    if logged is not None:
        np.testing.assert_allclose(logged.to_numpy(), expected, rtol=0, atol=EXACT)
