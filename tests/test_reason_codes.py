"""Reason codes: the editable feature-to-text file, its validation and its fallbacks."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.synthetic import demo_dataset
from core.scoring.reason_codes import (
    DEFAULT_REASON_CODES_PATH,
    ReasonCodesError,
    load_reason_codes,
    parse_reason_codes,
    reason_table,
    top_reason_features,
)


def test_shipped_file_maps_every_demo_feature() -> None:
    # given the reason-code file in core/config/
    book = load_reason_codes(DEFAULT_REASON_CODES_PATH)
    # then every demo feature has its own text
    features = list(demo_dataset(n_rows=50).features.columns)
    assert book.unmapped(features) == []
    assert book.text_for("debt_to_income") == "Debt-to-income ratio too high"


def test_unmapped_feature_and_missing_value_use_the_fallbacks() -> None:
    # given a file with one text and custom fallbacks
    book = parse_reason_codes(
        '[texts]\ncredit_score = "Credit score too low"\n'
        '[fallback]\ntext = "{feature} adds risk"\nmissing = "No {feature} given"\n'
    )
    # then mapped, unmapped and missing values read as configured
    assert book.text_for("credit_score") == "Credit score too low"
    assert (
        book.text_for("months_since_last_delinquency") == "Months since last delinquency adds risk"
    )
    assert book.text_for("credit_score", value_missing=True) == "No credit score given"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[texts\ncredit_score = 'x'", "not valid TOML"),
        ("[texts]\ncredit_score = 3\n", "non-empty text"),
        ("[texts]\ncredit_score = ''\n", "non-empty text"),
        ("[reasons]\ncredit_score = 'x'\n", "unknown section"),
        ("[fallback]\ntexts = 'x'\n", "accepts only text and missing"),
        ("texts = 'x'\n", "must be a table"),
    ],
)
def test_malformed_file_gives_a_clear_message(tmp_path, text: str, expected: str) -> None:
    # given a malformed reason-code file
    path = tmp_path / "reason_codes.toml"
    path.write_text(text, encoding="utf-8")
    # when loaded, then the error says what is wrong, where, and how to fix it
    with pytest.raises(ReasonCodesError) as caught:
        load_reason_codes(path)
    assert expected in caught.value.message
    assert str(path) in caught.value.message
    assert "[texts]" in (caught.value.fix or "")


def test_absent_file_falls_back_to_built_in_texts(tmp_path) -> None:
    # when the file does not exist
    book = load_reason_codes(tmp_path / "none.toml")
    # then readable fallback texts are used
    assert book.text_for("debt_to_income") == "Debt to income raised the estimated risk"
    assert "not found" in book.source


def test_top_reasons_keep_only_features_that_raised_the_risk() -> None:
    # given contributions with one positive, one negative and one zero
    contributions = pd.DataFrame({"a": [0.5, -1.0], "b": [-0.2, -0.1], "c": [0.0, 0.3]})
    # when the top three are picked
    chosen = top_reason_features(contributions, 3)
    # then only positive contributions count, largest first
    assert chosen[0].tolist() == ["a", "", ""]
    assert chosen[1].tolist() == ["c", "", ""]
    features = pd.DataFrame({"a": [1.0, 1.0], "b": [1.0, 1.0], "c": [1.0, None]})
    table = reason_table(contributions, features, [True, True], parse_reason_codes(""), 2)
    assert table["reason_1"].tolist() == ["A raised the estimated risk", "C not reported"]
