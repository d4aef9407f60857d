"""Data layer: the synthetic generator, loading a user's file, and its validation errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data.synthetic import (
    DEMO_CATEGORICAL,
    data_version,
    demo_dataset,
    load_dataset,
    make_synthetic_credit_data,
    parse_monotone_spec,
)
from core.errors import DataValidationError


def test_synthetic_data_is_deterministic_and_realistic() -> None:
    # given two generations with the same seed
    first = make_synthetic_credit_data(5_000, seed=3)
    second = make_synthetic_credit_data(5_000, seed=3)
    # then they are identical, and look like consumer credit data
    pd.testing.assert_frame_equal(first, second)
    assert data_version(first) == data_version(second)
    assert 0.12 <= first["default"].mean() <= 0.18
    assert first["credit_score"].between(300, 850).all()
    assert first["annual_income"].isna().mean() > 0.01
    for column in DEMO_CATEGORICAL:
        assert isinstance(first[column].dtype, pd.CategoricalDtype)


def test_higher_credit_score_means_lower_risk() -> None:
    frame = make_synthetic_credit_data(20_000, seed=1)
    low = frame.loc[frame["credit_score"] < 620, "default"].mean()
    high = frame.loc[frame["credit_score"] > 760, "default"].mean()
    assert low > 2 * high


def test_different_seed_gives_different_version() -> None:
    assert demo_dataset(1_000, seed=1).data_version != demo_dataset(1_000, seed=2).data_version


def test_drift_shifts_the_population() -> None:
    base = make_synthetic_credit_data(10_000, seed=5)
    drifted = make_synthetic_credit_data(10_000, seed=5, drift=1.0)
    assert drifted["credit_score"].mean() < base["credit_score"].mean() - 20


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv_turns_strings_into_categoricals(tmp_path: Path) -> None:
    # given a CSV with a string column
    path = _write(tmp_path, "id,income,region,bad\n1,10,north,0\n2,20,south,1\n3,15,north,0\n")
    # when it is loaded with a target and an id column
    dataset = load_dataset(path, target="bad", id_column="id", monotone_constraints={"income": -1})
    # then the string column is categorical, the id and target are not features
    assert list(dataset.features.columns) == ["income", "region"]
    assert dataset.categorical_columns == ("region",)
    assert isinstance(dataset.features["region"].dtype, pd.CategoricalDtype)
    assert dataset.target.tolist() == [0, 1, 0]
    assert dataset.data_version.startswith("sha256:")


def test_load_parquet(tmp_path: Path) -> None:
    frame = make_synthetic_credit_data(200, seed=9)
    path = tmp_path / "d.parquet"
    frame.to_parquet(path)
    dataset = load_dataset(path, target="default", id_column="applicant_id")
    assert len(dataset.features) == 200
    assert set(DEMO_CATEGORICAL) <= set(dataset.categorical_columns)


@pytest.mark.parametrize(
    ("content", "target", "message"),
    [
        ("a,b\n1,0\n2,1\n", "bad", "Target column 'bad' is not in"),
        (
            "a,bad\n1,0\n2,2\n3,1\n",
            "bad",
            r"is not binary: found values 0, 1, 2 \(row 2 not 0 or 1\)",
        ),
        ("a,bad\n1,yes\n2,no\n", "bad", "is not binary"),
        ("a,bad\n1,0\n2,\n", "bad", r"has 1 missing values \(row 2\)"),
        ("a,bad\n1,0\n2,0\n", "bad", "one class only"),
        ("a,a,bad\n1,2,0\n2,3,1\n", "bad", "duplicate columns: a"),
        ("a,b,bad\n1,,0\n2,,1\n", "bad", "no values at all: b"),
        ("a,bad\n", "bad", "has no rows"),
    ],
)
def test_invalid_files_say_what_to_fix(tmp_path: Path, content: str, target: str, message: str):
    path = _write(tmp_path, content)
    with pytest.raises(DataValidationError, match=message):
        load_dataset(path, target=target)


def test_empty_missing_and_wrong_kind_of_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="is empty"):
        load_dataset(_write(tmp_path, ""), target="bad")
    with pytest.raises(DataValidationError, match="No file at"):
        load_dataset(tmp_path / "nope.csv", target="bad")
    with pytest.raises(DataValidationError, match="neither CSV nor Parquet"):
        load_dataset(_write(tmp_path, "x", name="data.xlsx"), target="bad")
    with pytest.raises(DataValidationError, match="could not be read"):
        load_dataset(_write(tmp_path, "not parquet", name="d.parquet"), target="bad")


def test_monotone_constraints_are_validated(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,r,bad\n1,x,0\n2,y,1\n")
    with pytest.raises(DataValidationError, match="Invalid monotone constraints"):
        load_dataset(path, target="bad", monotone_constraints={"zzz": -1})
    with pytest.raises(DataValidationError, match="on categorical columns: r"):
        load_dataset(path, target="bad", monotone_constraints={"r": 1})
    assert parse_monotone_spec("credit_score:-1, dti:1") == {"credit_score": -1, "dti": 1}
    with pytest.raises(DataValidationError, match="NAME:DIRECTION"):
        parse_monotone_spec("credit_score=-1")


def test_boolean_target_is_accepted(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": np.arange(6.0), "bad": [True, False] * 3})
    path = tmp_path / "b.parquet"
    frame.to_parquet(path)
    assert load_dataset(path, target="bad").target.tolist() == [1, 0] * 3
