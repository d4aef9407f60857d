"""Plain tables: headers in words, one number format per kind of column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.plain_words import plain_header
from ui.shared.plain_tables import PERCENT, POINTS, plain_table


def test_headers_read_as_words_and_numbers_share_a_format() -> None:
    # given a table with snake_case headers, fractions, a difference and numbers held as objects
    frame = pd.DataFrame(
        {
            "bad_rate_approved": [0.0421, 0.051],
            "approval_shift": [-0.0131, 0.02],
            "auc": pd.Series([0.8201, np.nan], dtype=object),
            "decisions": [1000, 998],
            "level": ["critical", "warning"],
        }
    )
    # when it is prepared for display
    shown, config = plain_table(frame, percent=["bad_rate_approved"], points=["approval_shift"])
    # then headers are words, fractions are percentages, the difference is in points
    assert plain_header("mean_pd_labelled") == "Mean PD labelled"
    assert config["bad_rate_approved"]["label"] == "Bad rate approved"
    assert config["bad_rate_approved"]["type_config"]["format"] == PERCENT
    assert shown["bad_rate_approved"].tolist() == [4.21, 5.1]
    assert config["approval_shift"]["type_config"]["format"] == POINTS
    assert config["auc"]["label"] == "AUC"
    assert config["auc"]["type_config"]["format"] == "%.4f"
    assert shown["auc"].dtype == "float64"
    assert config["decisions"]["type_config"]["format"] == "localized"
    assert config["level"]["type_config"]["type"] == "text"
