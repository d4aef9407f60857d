"""Evaluation data, explanations, monotonicity and two-run comparison on real logged runs."""

from __future__ import annotations

import json

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from core.data.synthetic import DEMO_MONOTONE, DEMO_TARGET, make_synthetic_credit_data
from core.data.tables import read_columns, read_table_bytes
from core.errors import DataValidationError
from core.evaluation.eval_data import (
    from_labelled_frame,
    from_validation_set,
    guess_label_column,
    read_path,
)
from core.evaluation.explain_global import (
    beeswarm_frame,
    dependence,
    feature_importance,
    global_shap,
)
from core.evaluation.monotonicity import check_monotonicity, declared_constraints
from core.evaluation.run_comparison import delong_test, swap_set
from core.scoring.loaded_model import LoadedModel
from core.store import access as store
from core.store.client import open_client


@pytest.fixture(scope="module")
def governed(file_store_template) -> tuple[lgb.LGBMClassifier, pd.DataFrame, str]:
    """The first governed run's model, logged validation set and params.monotone_constraints."""
    uri, run_id = file_store_template.uri, file_store_template.governed[0]
    client = open_client(uri)
    frame = store.load_validation_set(client, run_id)
    raw = client.get_run(run_id).data.params["monotone_constraints"]
    return store.load_model(uri, run_id), frame, raw


@pytest.fixture(scope="module")
def seed_model(file_store_template) -> lgb.LGBMClassifier:
    """The seed-pattern run's model (it logged no validation set)."""
    return store.load_model(file_store_template.uri, file_store_template.seed_pattern)


def _labelled(n: int = 400, seed: int = 5) -> pd.DataFrame:
    """Fresh labelled applicants in the demo schema, as a user would upload them."""
    frame = make_synthetic_credit_data(n_rows=n, seed=seed)
    return frame.astype({"home_ownership": "string", "loan_purpose": "string"})


def test_validation_set_gives_the_runs_logged_scores(governed, file_store_template) -> None:
    # given a governed run's logged validation set
    model, frame, _ = governed
    # when turned into evaluation data
    data = from_validation_set(frame, file_store_template.governed[0])
    # then labels and scores are the logged ones, and the model reproduces the scores
    assert data.n == len(frame) and data.n_bads == int(frame["label"].sum())
    assert "validation set logged by run" in data.source
    assert "label" not in data.features.columns and "score" not in data.features.columns
    rescored = from_labelled_frame(
        frame.drop(columns=["score"]), model, "label", source="again", fingerprint="x"
    )
    np.testing.assert_allclose(rescored.scores, data.scores, rtol=1e-9)


def test_labelled_file_is_scored_by_the_runs_model(seed_model) -> None:
    # given a user's labelled file for the seed-pattern run (no validation set logged)
    frame = _labelled()
    # when scored
    data = from_labelled_frame(frame, seed_model, DEMO_TARGET, "holdout.csv", "sha:1")
    # then the scores are the model's probabilities on the rows cast as in training
    as_trained = make_synthetic_credit_data(n_rows=400, seed=5)[seed_model.feature_names]
    expected = seed_model.classifier.predict_proba(as_trained)[:, 1]
    np.testing.assert_allclose(data.scores, expected, rtol=1e-12)
    assert data.n == 400 and data.has_both_classes
    assert data.unseen_categories == {}


def test_missing_features_are_named(seed_model) -> None:
    # given a file without two model features
    frame = _labelled().drop(columns=["credit_score", "loan_purpose"])
    # when scored / then the error names both
    with pytest.raises(DataValidationError, match="credit_score, loan_purpose"):
        from_labelled_frame(frame, seed_model, DEMO_TARGET, "f.csv", "sha:2")


def test_unseen_categories_are_counted_and_listed(seed_model) -> None:
    # given a file with two categories the model never saw
    frame = _labelled()
    frame.loc[:4, "home_ownership"] = "CARAVAN"
    frame.loc[5:6, "loan_purpose"] = "crypto"
    # when scored
    data = from_labelled_frame(frame, seed_model, DEMO_TARGET, "f.csv", "sha:3")
    # then they are reported by column (LightGBM would hide them as missing)
    assert data.unseen_categories == {"home_ownership": ["CARAVAN"], "loan_purpose": ["crypto"]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(default=f["default"].replace(1, 2)), "not binary"),
        (lambda f: f.assign(default=f["default"].astype(float).mask(f.index < 3)), "missing"),
        (lambda f: f.drop(columns=["default"]), "Label column 'default' is not in"),
    ],
)
def test_bad_label_columns_are_refused(seed_model, change, message: str) -> None:
    # given a file whose label is non-binary, partly missing or absent
    frame = change(_labelled())
    # when scored / then the error says what is wrong with the label
    with pytest.raises(DataValidationError, match=message):
        from_labelled_frame(frame, seed_model, DEMO_TARGET, "f.csv", "sha:4")


def test_one_class_only_loads_but_says_so(seed_model) -> None:
    # given a file with goods only
    frame = _labelled().assign(default=0)
    # when scored
    data = from_labelled_frame(frame, seed_model, DEMO_TARGET, "f.csv", "sha:5")
    # then the data loads and reports that AUC is undefined
    assert not data.has_both_classes


def test_uploaded_bytes_and_paths_are_read_like_files(tmp_path) -> None:
    # given a CSV on disk
    path = tmp_path / "holdout.csv"
    _labelled(20).to_csv(path, index=False)
    # when read by path and as uploaded bytes
    name, content = read_path(str(path), tmp_path)
    frame = read_table_bytes(name, content)
    # then the columns are intact and the label column is guessed
    assert name == "holdout.csv" and len(frame) == 20
    assert read_columns(name, content) == list(frame.columns)
    parquet = tmp_path / "holdout.parquet"
    frame.to_parquet(parquet, index=False)
    assert read_columns("h.parquet", parquet.read_bytes()) == list(frame.columns)
    assert guess_label_column(list(frame.columns)) == "default"
    # and a wrong path or a text file is refused with a clear message
    with pytest.raises(DataValidationError, match="No file at"):
        read_path(str(tmp_path / "nope.csv"), tmp_path)
    with pytest.raises(DataValidationError, match="neither CSV nor Parquet"):
        read_table_bytes("notes.txt", b"a,b\n1,2\n")
    with pytest.raises(DataValidationError, match="neither CSV nor Parquet"):
        read_columns("notes.txt", b"a,b\n1,2\n")
    with pytest.raises(DataValidationError, match="could not be read"):
        read_columns("broken.parquet", b"not parquet")


def test_importance_gain_and_split(governed) -> None:
    # given a model
    model, _, _ = governed
    # when importance is asked by gain and by split
    gain, split = feature_importance(model, "gain"), feature_importance(model, "split")
    # then both cover every feature, sorted, with shares adding up to 1
    for frame in (gain, split):
        assert set(frame["feature"]) == set(model.feature_names)
        assert frame["importance"].is_monotonic_decreasing
        assert frame["share"].sum() == pytest.approx(1.0)
    assert split["importance"].sum() == model.classifier.booster_.feature_importance("split").sum()


def test_global_shap_sums_to_the_raw_score_on_a_sample(governed) -> None:
    # given a model and its validation rows
    model, frame, _ = governed
    features = frame.drop(columns=["row_id", "label", "score"])
    # when SHAP is computed on a sample of 300 rows
    shap = global_shap(model, features, sample_size=300)
    # then it says it is a sample, and each row's values plus base value give its log-odds
    assert shap.is_sample and shap.n_sample == 300 and shap.n_total == len(frame)
    raw = model.classifier.booster_.predict(shap.features, raw_score=True)
    np.testing.assert_allclose(shap.values.sum(axis=1) + shap.base_value, raw, atol=1e-6)
    # and the summaries have one entry per feature and row
    assert len(shap.mean_abs()) == len(model.feature_names)
    assert len(beeswarm_frame(shap, top=5)) == 5 * 300
    assert len(dependence(shap, "loan_purpose")) == 300


def test_declared_constraints_parse_json_and_lists() -> None:
    # given the forms runs log monotone constraints in
    features = ["a", "b", "c"]
    # when parsed / then zero directions and unknown names are dropped
    assert declared_constraints('{"a": 1, "b": 0, "zz": -1}', features) == {"a": 1}
    assert declared_constraints("[0, -1, 1]", features) == {"b": -1, "c": 1}
    assert declared_constraints("None", features) == {}
    assert declared_constraints(None, features) == {}
    assert declared_constraints(float("nan"), features) == {}


def test_constrained_run_passes_the_monotonicity_check(governed) -> None:
    # given a governed run trained with monotone constraints
    model, frame, raw = governed
    constraints = declared_constraints(raw, model.feature_names)
    assert constraints == DEMO_MONOTONE == json.loads(raw)
    # when its partial dependence is checked
    check = check_monotonicity(model, frame.drop(columns=["label", "score"]), constraints)
    # then every declared feature is monotone as declared
    assert check.violations == []
    assert set(check.summary["feature"]) == set(DEMO_MONOTONE)


def test_unconstrained_model_with_a_u_shape_is_flagged() -> None:
    # given a model that learnt a U-shaped risk in x, declared increasing
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"x": rng.uniform(-2, 2, 3_000), "z": rng.normal(size=3_000)})
    y = (rng.random(3_000) < 1 / (1 + np.exp(-(2 * x["x"] ** 2 - 2)))).astype(int)
    model = LoadedModel(lgb.LGBMClassifier(n_estimators=40, verbose=-1).fit(x, y))
    # when its partial dependence is checked against 'increasing'
    check = check_monotonicity(model, x, {"x": 1})
    # then x is flagged with a positive worst violation
    assert check.violations == ["x"]
    assert check.summary.loc[0, "worst_violation"] > 0.05


def _delong_reference(labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """O(n^2) DeLong variance of AUC(b) - AUC(a) from the pairwise kernel."""
    pos, neg = labels == 1, labels == 0

    def components(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        kernel = (s[pos][:, None] > s[neg][None, :]) + 0.5 * (s[pos][:, None] == s[neg][None, :])
        return kernel.mean(axis=1), kernel.mean(axis=0)

    (v10a, v01a), (v10b, v01b) = components(a), components(b)
    s10 = np.cov(v10b - v10a)
    s01 = np.cov(v01b - v01a)
    return float(np.sqrt(s10 / pos.sum() + s01 / neg.sum()))


def test_delong_matches_the_pairwise_reference() -> None:
    # given two correlated, tied score vectors on the same rows
    rng = np.random.default_rng(9)
    labels = (rng.random(600) < 0.3).astype(int)
    a = np.round(rng.normal(size=600) + labels, 1)
    b = np.round(a + rng.normal(scale=0.8, size=600), 1)
    # when compared
    result = delong_test(labels, a, b)
    # then AUCs equal sklearn's and the standard error equals the O(n^2) reference
    assert result.auc_base == pytest.approx(roc_auc_score(labels, a), abs=1e-12)
    assert result.auc_challenger == pytest.approx(roc_auc_score(labels, b), abs=1e-12)
    assert result.std_error == pytest.approx(_delong_reference(labels, a, b), rel=1e-9)
    assert result.ci_low < result.difference < result.ci_high
    assert result.difference < 0 and result.p_value < 0.05


def test_identical_models_have_no_difference() -> None:
    # given the same scores twice
    labels = np.array([0, 1, 0, 1, 1, 0])
    scores = np.array([0.1, 0.9, 0.3, 0.6, 0.2, 0.4])
    # when compared / then the difference is zero with p = 1
    result = delong_test(labels, scores, scores)
    assert result.difference == 0 and result.p_value == 1.0


def test_swap_set_partitions_the_applicants() -> None:
    # given two models' scores and thresholds
    rng = np.random.default_rng(2)
    labels = (rng.random(1_000) < 0.2).astype(int)
    a, b = rng.random(1_000), rng.random(1_000)
    # when the swap set is formed
    swaps = swap_set(labels, a, b, 0.6, 0.4).set_index("group")
    # then the four groups partition the rows and the bads
    assert swaps["count"].sum() == 1_000 and swaps["bads"].sum() == labels.sum()
    swap_in = swaps.loc["swap-in: challenger approves, this run declines"]
    assert swap_in["count"] == int(((a >= 0.6) & (b < 0.4)).sum())
    mask = (a < 0.6) & (b >= 0.4)
    swap_out = swaps.loc["swap-out: this run approves, challenger declines"]
    assert swap_out["bad_rate"] == pytest.approx(labels[mask].mean())


def test_a_declared_feature_the_model_never_uses_is_reported_as_unused() -> None:
    # given a model fitted with a constant (so never split) feature declared monotone
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "score": rng.normal(size=600),
            "constant": np.ones(600),
            "delinquencies": rng.choice([0, 0, 0, 0, 1, 1, 2, 5], size=600).astype(float),
        }
    )
    target = frame["score"] + 0.5 * frame["delinquencies"] + rng.normal(size=600) > 0.5
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1, monotone_constraints=[-1, 1, 1])
    model = LoadedModel(model.fit(frame, target.astype(int)))
    # when the declared features are checked
    check = check_monotonicity(model, frame, {"constant": 1, "delinquencies": 1})
    verdicts = dict(zip(check.summary["feature"], check.summary["verdict"], strict=True))
    # then the unused one says so instead of "monotone as declared"
    assert verdicts["constant"] == "not used by the model"
    assert check.unused == ["constant"] and check.checked == ["delinquencies"]
    # and the used one is checked over its whole observed range, up to its maximum of 5
    curve = check.curves.loc[check.curves["feature"] == "delinquencies", "value"]
    assert curve.max() == 5.0 and curve.min() == 0.0
    assert verdicts["delinquencies"] == "monotone as declared"
