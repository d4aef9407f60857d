"""Every consumer scores through the one Scorer: same rows, same probability, to 1e-12."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.synthetic import demo_dataset
from core.evaluation.eval_data import from_labelled_frame, score_frame
from core.evaluation.explain_global import global_shap
from core.promotion.gates import gate_smoke
from core.scoring.counterfactual import find_counterfactuals
from core.scoring.scorer import scorer_for, sigmoid
from core.store.access import load_model, load_validation_set
from core.store.client import open_client
from core.training.trainer import ID_COLUMN, LABEL_COLUMN, SCORE_COLUMN

THRESHOLD = 0.4542
EXACT = 1e-12


def _rows_and_model(store, which: str) -> tuple[pd.DataFrame, object, pd.Series | None]:
    """Applicant rows, the model, and (for a governed run) the scores training logged."""
    if which == "governed":
        run_id = store.governed[0]
        validation = load_validation_set(open_client(store.uri), run_id)
        rows = validation.drop(columns=[LABEL_COLUMN, SCORE_COLUMN, ID_COLUMN], errors="ignore")
        return rows, load_model(store.uri, run_id), validation[SCORE_COLUMN]
    rows = demo_dataset(n_rows=400, seed=3).features
    return rows, load_model(store.uri, store.seed_pattern), None


@pytest.mark.parametrize("which", ["governed", "seed_pattern"])
def test_every_consumer_gives_the_scorers_probability(file_store_template, which) -> None:
    # given a governed run and a categorical model logged by plain code in the seed's style
    rows, model, logged = _rows_and_model(file_store_template, which)
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
    # and LightGBM's own predict_proba on the prepared rows: sigmoid(raw) == predict_proba
    prepared = scorer.prepare(rows).frame
    np.testing.assert_allclose(model.predict_proba(prepared)[:, 1], expected, rtol=0, atol=EXACT)
    np.testing.assert_allclose(sigmoid(result.scores["raw_score"]), expected, atol=EXACT)
    # and SHAP contributions add up to the same score (global SHAP and What-if)
    shap = global_shap(model, rows, sample_size=len(rows))
    from_shap = sigmoid(shap.values.sum(axis=1).to_numpy() + shap.base_value)
    np.testing.assert_allclose(from_shap, expected[: len(from_shap)], rtol=0, atol=EXACT)
    from_whatif = sigmoid(result.contributions.sum(axis=1).to_numpy() + result.base_value)
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
