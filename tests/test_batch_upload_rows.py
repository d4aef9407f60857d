"""What-if batch scoring (AppTest): a file with values that cannot be scored names their rows."""

from __future__ import annotations

from core.run_schema import ID_COLUMN, LABEL_COLUMN, SCORE_COLUMN
from core.store.access import load_validation_set
from core.store.client import open_client
from tests.helpers.apptest_helpers import (
    exceptions,
    open_page,
)


def test_batch_errors_name_the_row_its_id_and_the_column(file_store, app_env) -> None:
    # given What-if on a governed run, and 20 of its applicants with text in credit_score
    # in the 7th row
    app_env(file_store.uri)
    at = open_page("pages/whatif.py", {"run_id": file_store.governed[0]})
    validation = load_validation_set(open_client(file_store.uri), file_store.governed[0])
    frame = validation.drop(columns=[LABEL_COLUMN, SCORE_COLUMN]).head(20)
    frame = frame.astype({"credit_score": object})
    frame.loc[frame.index[6], "credit_score"] = "abc"
    # when the file is uploaded for batch scoring
    upload = ("applicants.csv", frame.to_csv(index=False).encode(), "text/csv")
    at.file_uploader(key="whatif_upload").set_value(upload).run()
    # then the error names the row, its id and the column, and no traceback is shown
    row_id = frame[ID_COLUMN].iloc[6]
    errors = " ".join(e.value for e in at.error)
    assert f"row 7 ({ID_COLUMN} {row_id}), column credit_score: 'abc' is not a number" in errors
    assert "1 value in 1 row cannot be scored" in errors
    assert exceptions(at) == []
