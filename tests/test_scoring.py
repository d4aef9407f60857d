"""Scoring core: ordering, categories, missing values, additivity, decisions and reason codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shap

from core.data.synthetic import DEMO_MONOTONE, demo_dataset
from core.errors import DataValidationError
from core.run_schema import SCORE_COLUMN
from core.scoring.calibrator import sigmoid
from core.scoring.grouped_shap import GROUPING_MIN_ROWS, grouped_contributions
from core.scoring.loaded_model import LoadedModel
from core.scoring.model_spec import model_spec, monotone_from_params, with_monotone
from core.scoring.prepare import UnseenCategoryError, feature_matrix, prepare_features
from core.scoring.reason_codes import ReasonCodeBook
from core.scoring.scorer import DECLINE, SHOWN_MOVE, compare_applicants, scorer_for
from core.store.access import load_model, load_validation_set
from core.store.client import open_client
from core.training.model_config import TrainConfig, build_model

THRESHOLD = 0.4542


def train_small_model(seed: int, n_estimators: int) -> tuple[LoadedModel, pd.DataFrame]:
    """A small monotone LightGBM model and the 2,000 demo applicants it was fitted on."""
    dataset = demo_dataset(n_rows=2_000, seed=seed)
    config = TrainConfig(
        n_estimators=n_estimators, num_leaves=15, monotone_constraints=DEMO_MONOTONE
    )
    model = build_model(config, list(dataset.features.columns))
    return LoadedModel(model.fit(dataset.features, dataset.target)), dataset.features


@pytest.fixture(scope="module")
def fitted() -> tuple[LoadedModel, pd.DataFrame]:
    """The module's model and its data."""
    return train_small_model(seed=5, n_estimators=40)


@pytest.fixture()
def data(fitted) -> pd.DataFrame:
    """Demo applicants (features only)."""
    return fitted[1]


@pytest.fixture()
def model(fitted) -> LoadedModel:
    """A small monotone LightGBM model on the demo data."""
    return fitted[0]


def test_reordered_columns_score_like_the_model_order(model, data) -> None:
    # given applicants with columns reversed and an extra id column
    applicants = data.head(50)[list(data.columns[::-1])].assign(row_id="x")
    # when scored
    result = scorer_for(model).score(applicants, THRESHOLD)
    # then probabilities equal predict_proba on the model's own column order
    expected = model.classifier.predict_proba(data.head(50))[:, 1]
    np.testing.assert_allclose(result.scores["probability"], expected, rtol=0, atol=1e-12)
    assert list(result.contributions.columns) == model.feature_names


def test_contributions_add_up_to_the_raw_score_and_match_shap(model, data) -> None:
    # given a mix of applicants, some with missing values
    applicants = data.iloc[:200]
    # when scored
    result = scorer_for(model).score(applicants, THRESHOLD)
    # then contributions + base value = raw score, and sigmoid(raw) = predict_proba
    total = result.contributions.sum(axis=1) + result.base_value
    np.testing.assert_allclose(total, result.scores["raw_score"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        sigmoid(result.scores["raw_score"]),
        model.classifier.predict_proba(applicants)[:, 1],
        rtol=0,
        atol=1e-12,
    )
    # and they are the exact TreeSHAP values of shap.TreeExplainer
    explainer = shap.TreeExplainer(model.classifier)
    reference = np.asarray(explainer.shap_values(applicants))
    reference = reference[-1] if reference.ndim == 3 else reference
    np.testing.assert_allclose(result.contributions.to_numpy(), reference, rtol=0, atol=1e-9)


def test_unseen_category_is_reported_and_scored_as_missing(model, data) -> None:
    # given an applicant whose home_ownership the model never saw
    applicants = data.head(3).astype({"home_ownership": "string"})
    applicants.loc[applicants.index[1], "home_ownership"] = "HOUSEBOAT"
    # when scored with the default policy
    result = scorer_for(model).score(applicants, THRESHOLD)
    # then the value is reported by name and scored exactly as a missing value
    assert result.prepared.unseen_categories == {"home_ownership": ["HOUSEBOAT"]}
    as_missing = data.head(3).copy()
    as_missing.loc[as_missing.index[1], "home_ownership"] = np.nan
    np.testing.assert_allclose(
        result.scores["probability"], model.classifier.predict_proba(as_missing)[:, 1], atol=1e-12
    )


def test_unseen_category_raises_when_the_caller_refuses(model, data) -> None:
    # given an unseen loan purpose
    applicants = data.head(2).astype({"loan_purpose": "string"})
    applicants.loc[applicants.index[0], "loan_purpose"] = "yacht"
    # when the caller asks to stop on unseen categories
    with pytest.raises(UnseenCategoryError) as caught:
        scorer_for(model).score(applicants, THRESHOLD, on_unseen="raise")
    # then the error names the feature and the value
    assert caught.value.unseen == {"loan_purpose": ["yacht"]}
    assert "yacht" in caught.value.message


def test_categories_given_as_text_in_another_order_are_cast_to_the_models(model, data) -> None:
    # given categoricals as plain strings (as read from a CSV)
    applicants = data.head(30).astype({"home_ownership": "str", "loan_purpose": "str"})
    # when scored
    result = scorer_for(model).score(applicants, THRESHOLD)
    # then the scores equal the model's on its own categoricals
    np.testing.assert_allclose(
        result.scores["probability"],
        model.classifier.predict_proba(data.head(30))[:, 1],
        atol=1e-12,
    )


def test_missing_feature_is_an_error_that_names_it(model, data) -> None:
    # when a model feature is absent
    with pytest.raises(DataValidationError, match="debt_to_income"):
        scorer_for(model).score(data.head(3).drop(columns=["debt_to_income"]), THRESHOLD)


def test_missing_values_are_allowed_and_reported(model, data) -> None:
    # given an applicant with an empty numeric text field and a missing category
    applicants = data.head(1).astype(object)
    applicants.loc[applicants.index[0], "annual_income"] = "  "
    applicants.loc[applicants.index[0], "loan_purpose"] = None
    # when scored
    result = scorer_for(model).score(applicants, THRESHOLD)
    # then both are scored as missing and reported
    assert result.prepared.missing_values.get("annual_income") == 1
    assert result.prepared.missing_values.get("loan_purpose") == 1
    expected = data.head(1).copy()
    expected.loc[expected.index[0], ["annual_income", "loan_purpose"]] = np.nan
    np.testing.assert_allclose(
        result.scores["probability"], model.classifier.predict_proba(expected)[:, 1], atol=1e-12
    )


@pytest.mark.parametrize("bad", ["abc", "62,000", "inf"])
def test_non_numeric_or_infinite_text_is_an_error(model, data, bad: str) -> None:
    # given text that is not a finite number in a numeric field
    applicants = data.head(1).astype(object)
    applicants.loc[applicants.index[0], "credit_score"] = bad
    # when scored, then the error names the field
    with pytest.raises(DataValidationError, match="credit_score"):
        scorer_for(model).score(applicants, THRESHOLD)


def test_values_outside_the_training_range_are_counted(model, data) -> None:
    # given one credit score above anything seen in training
    spec = model_spec(model.classifier)
    applicants = data.head(4).copy()
    applicants.loc[applicants.index[0], "credit_score"] = spec.ranges["credit_score"][1] + 50
    # when prepared with the model's own ranges
    prepared = prepare_features(model.classifier, applicants)
    # then the feature is reported with one row outside
    assert prepared.out_of_range == {"credit_score": 1}


def test_decision_and_distance_follow_the_threshold(model, data) -> None:
    # given scores at a threshold
    result = scorer_for(model).score(data.head(300), THRESHOLD)
    scores = result.scores
    # then decline exactly at or above it, and distance is probability minus threshold
    assert ((scores["probability"] >= THRESHOLD) == (scores["decision"] == DECLINE)).all()
    np.testing.assert_allclose(scores["distance_to_threshold"], scores["probability"] - THRESHOLD)
    with pytest.raises(DataValidationError):
        scorer_for(model).score(data.head(3), 1.5)


def test_reason_codes_only_for_declines_and_from_the_book(model, data) -> None:
    # given a book with one mapped feature
    book = ReasonCodeBook(texts={"credit_score": "Credit score too low"})
    # when scored
    result = scorer_for(model).score(data.head(400), 0.3, reason_book=book)
    declined = result.scores["decision"] == DECLINE
    # then approvals have no reasons and declines have their top risk drivers in words
    assert (result.reasons.loc[~declined, "reason_1"] == "").all()
    assert (result.reasons.loc[declined, "reason_1"] != "").all()
    drivers = result.top_risk_drivers(1)
    for position in np.flatnonzero(declined.to_numpy())[:20]:
        top = drivers[position][0]
        assert result.reasons["reason_1"].iloc[position] == book.text_for(top)


def test_empty_applicants_is_an_error(model, data) -> None:
    with pytest.raises(DataValidationError, match="no applicants"):
        scorer_for(model).score(data.head(0), THRESHOLD)


def test_constant_category_column_keeps_categories_aligned(data) -> None:
    # given a model trained while one categorical column held a single category
    frame = data.copy()
    frame["home_ownership"] = pd.Categorical(["RENT"] * len(frame))
    target = demo_dataset(n_rows=2_000, seed=5).target
    model = LoadedModel(
        build_model(TrainConfig(n_estimators=20), list(frame.columns)).fit(frame, target)
    )
    # when the spec is read and text categoricals are scored
    spec = model_spec(model.classifier)
    applicants = frame.head(20).astype({"home_ownership": "str", "loan_purpose": "str"})
    result = scorer_for(model).score(applicants, THRESHOLD)
    # then each categorical keeps its own categories and scores match the model
    assert spec.categorical["home_ownership"] == ["RENT"]
    assert "car" in spec.categorical["loan_purpose"]
    np.testing.assert_allclose(
        result.scores["probability"],
        model.classifier.predict_proba(frame.head(20))[:, 1],
        atol=1e-12,
    )


def test_model_spec_reads_monotone_directions_and_ranges(model, data) -> None:
    # when the spec is read from the model text
    spec = model_spec(model.classifier)
    # then monotone directions, training ranges and split thresholds are known
    assert spec.feature("credit_score").monotone == -1
    assert spec.feature("debt_to_income").monotone == 1
    assert spec.feature("annual_income").monotone == 0
    low, high = spec.ranges["credit_score"]
    assert low == data["credit_score"].min() and high == data["credit_score"].max()
    assert len(spec.split_thresholds["credit_score"]) > 0
    # and directions by name from run params fill in a model without them
    plain = with_monotone(
        spec.__class__(tuple(f.__class__(f.name, f.kind, f.categories) for f in spec.features)),
        monotone_from_params('{"debt_to_income": 1, "nope": 1}', spec.names),
    )
    assert plain.feature("debt_to_income").monotone == 1
    assert monotone_from_params("not json", spec.names) == {}


def test_compare_applicants_lists_what_moved(model, data) -> None:
    # given an applicant and the same applicant with a higher debt-to-income
    original = scorer_for(model).score(data.head(1), THRESHOLD)
    edited_frame = data.head(1).copy()
    edited_frame["debt_to_income"] = 0.85
    edited = scorer_for(model).score(edited_frame, THRESHOLD)
    # when compared
    moved = compare_applicants(original, edited)
    # then the edited feature is listed as changed, and unchanged values are not
    changed = moved[moved["value_changed"]]
    assert changed["feature"].tolist() == ["debt_to_income"]
    assert compare_applicants(original, original).empty
    # and with the tolerance the page prints (4 decimals), only moves it can show are listed
    shown = compare_applicants(original, edited, tolerance=SHOWN_MOVE)
    unchanged = shown[~shown["value_changed"]]
    assert (unchanged["delta"].abs() > SHOWN_MOVE).all()
    assert set(moved["feature"]) >= set(shown["feature"]) >= {"debt_to_income"}


def test_scores_of_a_logged_model_match_its_logged_validation_scores(file_store) -> None:
    # given a governed run's model and validation set from a real MLflow store
    run_id = file_store.governed[0]
    model = load_model(file_store.uri, run_id)
    validation = load_validation_set(open_client(file_store.uri), run_id)
    # when the validation applicants are scored (with their extra columns)
    result = scorer_for(model).score(validation, THRESHOLD)
    # then the probabilities equal the scores logged at training time
    np.testing.assert_allclose(
        result.scores["probability"], validation[SCORE_COLUMN], rtol=0, atol=1e-9
    )


def test_grouped_batch_shap_equals_lightgbm_per_row_shap(model) -> None:
    # given a batch large enough for the grouped path, with missing values and categories
    batch = demo_dataset(n_rows=3_000, seed=21).features
    batch.loc[batch.index[:50], "debt_to_income"] = 0.0
    matrix = feature_matrix(prepare_features(model.classifier, batch).frame)
    # when contributions are computed per distinct path pattern
    grouped = grouped_contributions(model.classifier.booster_, matrix)
    # then they equal LightGBM's per-row TreeSHAP
    plain = model.classifier.booster_.predict(matrix, pred_contrib=True)
    np.testing.assert_allclose(grouped, plain, rtol=0, atol=1e-9)
    assert len(batch) >= GROUPING_MIN_ROWS
