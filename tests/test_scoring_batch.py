"""Batch scoring: reading uploads safely, picking applicants, and the downloadable table."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.synthetic import DEMO_MONOTONE, demo_dataset
from core.errors import DataValidationError
from core.run_schema import ID_COLUMN, SCORE_COLUMN
from core.scoring.applicants import (
    applicant_by_id,
    applicant_by_row,
    borderline_rows,
    random_row,
    search_ids,
    typical_applicant,
)
from core.scoring.batch import batch_table, read_applicants_csv
from core.scoring.loaded_model import LoadedModel
from core.scoring.model_spec import model_spec
from core.scoring.prepare import UnseenCategoryError
from core.scoring.scorer import scorer_for
from core.training.model_config import TrainConfig, build_model


@pytest.fixture(scope="module")
def model_and_data():
    """A small model and a validation-like frame with ids and logged scores."""
    dataset = demo_dataset(n_rows=1_500, seed=3)
    config = TrainConfig(n_estimators=30, monotone_constraints=DEMO_MONOTONE)
    model = LoadedModel(
        build_model(config, list(dataset.features.columns)).fit(dataset.features, dataset.target)
    )
    validation = dataset.features.copy()
    validation.insert(0, ID_COLUMN, dataset.ids.to_numpy())
    validation[SCORE_COLUMN] = model.classifier.predict_proba(dataset.features)[:, 1]
    return model, validation


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", "is empty"), (b"  \n", "is empty"), (b"a,b\n", "no rows"), (b'a,"b\n1,2', "could not")],
)
def test_bad_uploads_are_refused_with_a_message(data: bytes, expected: str) -> None:
    with pytest.raises(DataValidationError, match=expected):
        read_applicants_csv(data, "x.csv")


def test_a_million_rows_are_refused_before_parsing() -> None:
    # given a file of 1,000,000 rows
    data = b"credit_score\n" + b"700\n" * 1_000_000
    # when read, then it is refused with the limit and what to do
    with pytest.raises(DataValidationError) as caught:
        read_applicants_csv(data, "big.csv")
    assert "1,000,000 rows" in caught.value.message
    assert "Split" in (caught.value.fix or "")


def test_batch_table_carries_ids_decisions_and_three_reasons(model_and_data) -> None:
    # given an uploaded file of applicants with their ids
    model, validation = model_and_data
    upload = validation.drop(columns=[SCORE_COLUMN]).head(60).to_csv(index=False).encode()
    applicants = read_applicants_csv(upload, "u.csv")
    # when scored and tabulated
    result = scorer_for(model).score(applicants, 0.3)
    table = batch_table(applicants, result, [ID_COLUMN])
    # then each row has its id, probability, decision and three reason columns
    assert table[ID_COLUMN].tolist() == validation[ID_COLUMN].head(60).tolist()
    assert {"risk_score", "decision", "reason_1", "reason_2", "reason_3"} <= set(table.columns)
    assert (table.loc[table["decision"] == "approve", "reason_1"] == "").all()


def test_applicant_picks_from_the_validation_set(model_and_data) -> None:
    model, validation = model_and_data
    spec = model_spec(model.classifier)
    # by row and by id give the same applicant
    some_id = validation[ID_COLUMN].iloc[17]
    assert applicant_by_row(validation, spec, 17).equals(applicant_by_id(validation, spec, some_id))
    assert search_ids(validation, some_id[-6:].lower())[0] == some_id
    with pytest.raises(DataValidationError, match="does not exist"):
        applicant_by_row(validation, spec, len(validation))
    with pytest.raises(DataValidationError, match="No applicant"):
        applicant_by_id(validation, spec, "nobody")
    # random picks are reproducible per seed
    assert random_row(validation, 3) == random_row(validation, 3)
    # borderline rows are the closest to the threshold, closest first
    near = borderline_rows(validation, 0.4542, n=5)
    distances = (validation[SCORE_COLUMN] - 0.4542).abs()
    assert near["distance"].abs().tolist() == sorted(distances)[:5]


def test_template_uses_medians_and_most_frequent_categories(model_and_data) -> None:
    model, validation = model_and_data
    spec = model_spec(model.classifier)
    template = typical_applicant(spec, validation)
    assert template["credit_score"].iloc[0] == validation["credit_score"].median()
    assert template["home_ownership"].iloc[0] == validation["home_ownership"].mode().iloc[0]
    # without validation data, training-range midpoints and known categories
    bare = typical_applicant(spec, None)
    low, high = spec.ranges["credit_score"]
    assert bare["credit_score"].iloc[0] == (low + high) / 2
    assert 0 < scorer_for(model).score(bare, 0.45).scores["probability"].iloc[0] < 1
    assert isinstance(bare, pd.DataFrame)


def _upload_with(validation: pd.DataFrame, cells: dict[tuple[int, str], str]) -> pd.DataFrame:
    """The first 60 applicants as an uploaded file with ids A-0001..., some cells replaced."""
    frame = validation.drop(columns=[SCORE_COLUMN, ID_COLUMN]).head(60).astype(object)
    frame.insert(0, "applicant_id", [f"A-{i:04d}" for i in range(1, 61)])
    for (row, column), value in cells.items():
        frame.loc[row - 1, column] = value
    return read_applicants_csv(frame.to_csv(index=False).encode(), "batch.csv")


def test_values_that_are_not_numbers_are_named_by_row_id_and_column(model_and_data) -> None:
    # given a batch file with text in numeric columns in seven rows
    model, validation = model_and_data
    bad = {(7, "credit_score"): "abc", (3, "debt_to_income"): "unknown", (9, "credit_score"): "1,5"}
    bad |= {(row, "credit_score"): "x" for row in (20, 30, 40, 50)}
    applicants = _upload_with(validation, bad)
    # when it is scored
    with pytest.raises(DataValidationError) as caught:
        scorer_for(model).score(applicants, 0.3)
    # then the message counts them and names the first five by row, id and column, in row order
    message = caught.value.message
    assert message.startswith("7 values in 7 rows cannot be scored: row 3 (applicant_id A-0003)")
    assert "row 7 (applicant_id A-0007), column credit_score: 'abc' is not a number" in message
    assert "row 9 (applicant_id A-0009), column credit_score: '1,5' is not a number" in message
    assert message.endswith(
        "row 30 (applicant_id A-0030), column credit_score: 'x' is not a number; and 2 more."
    )
    assert "first row after the header" in (caught.value.fix or "")


def test_unseen_categories_in_a_batch_name_their_rows(model_and_data) -> None:
    # given a batch file with a home_ownership the model never saw in rows 4 and 11
    model, validation = model_and_data
    applicants = _upload_with(
        validation, {(4, "home_ownership"): "BOAT", (11, "home_ownership"): "BOAT"}
    )
    # when the caller refuses unseen categories, then the error names the value and its rows
    with pytest.raises(UnseenCategoryError) as caught:
        scorer_for(model).score(applicants, 0.3, on_unseen="raise")
    assert (
        "home_ownership: BOAT (2 rows: row 4 (applicant_id A-0004), row 11 (applicant_id A-0011))"
        in caught.value.message
    )
    # and when it accepts them, the prepared rows say how many carry one
    result = scorer_for(model).score(applicants, 0.3)
    assert result.prepared.unseen_rows["home_ownership"].count == 2
