"""The one reader of user tables: uploads and server paths, CSV and Parquet, clear refusals."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from core.data.tables import read_columns, read_table, read_table_bytes
from core.errors import DataValidationError

FRAME = pd.DataFrame({"credit_score": [700, 650, 580], "home": ["OWN", "RENT", None]})


def test_upload_and_path_read_the_same_table(tmp_path: Path) -> None:
    # given the same table as CSV and Parquet on disk
    csv_path, parquet_path = tmp_path / "a.csv", tmp_path / "a.parquet"
    FRAME.to_csv(csv_path, index=False)
    FRAME.to_parquet(parquet_path)
    # when read from disk and from uploaded bytes
    for path in (csv_path, parquet_path):
        from_path = read_table(path)
        from_bytes = read_table_bytes(path.name, path.read_bytes())
        # then both give the same frame, and the header alone gives the columns
        pd.testing.assert_frame_equal(from_path, from_bytes)
        assert list(from_path["credit_score"]) == [700, 650, 580]
        assert read_columns(path.name, path.read_bytes()) == ["credit_score", "home"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.csv", b"", "is empty"),
        ("a.csv", b"x,x\n1,2\n", "duplicate columns: x"),
        ("a.csv", b"x,y\n", "header but no rows"),
        ("a.xlsx", b"x\n1\n", "neither CSV nor Parquet"),
        ("a.parquet", b"not parquet", "could not be read"),
        ("a.csv", b"x\n" + b"1\n" * 11, "about 11 rows; at most 10"),
    ],
)
def test_bad_uploads_say_what_to_fix(name: str, content: bytes, message: str) -> None:
    # given / when / then each bad upload is refused with a message naming the problem
    with pytest.raises(DataValidationError, match=message) as caught:
        read_table_bytes(name, content, max_rows=10)
    assert caught.value.fix


def test_bad_paths_say_what_to_fix(tmp_path: Path) -> None:
    # given a missing path, a folder and a named pipe
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    # when / then each is refused before anything is read
    with pytest.raises(DataValidationError, match="No file at"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataValidationError, match="is a folder"):
        read_table(tmp_path)
    with pytest.raises(DataValidationError, match="not a regular file"):
        read_table(fifo)


def test_a_file_over_the_byte_limit_is_refused(tmp_path: Path) -> None:
    # given a file larger than the limit / when read / then the limit and the fix are named
    with pytest.raises(DataValidationError, match="the limit is") as caught:
        read_table_bytes("big.csv", b"x\n" + b"1\n" * 1000, max_bytes=100, max_rows=50)
    assert "50 rows" in (caught.value.fix or "")


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_a_csv_with_another_delimiter_is_read_as_its_columns(
    tmp_path: Path, delimiter: str
) -> None:
    # given the same table written with each delimiter (decimals with a dot, a quoted field)
    frame = FRAME.assign(note=["a, b", "c; d", "e"])
    content = frame.to_csv(index=False, sep=delimiter).encode()
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    # when read from an upload, from a path and from the header alone
    # then each gives the table's own columns and values, not one column of joined text
    for read in (read_table_bytes("a.csv", content), read_table(path)):
        pd.testing.assert_frame_equal(read, frame)
    assert read_columns("a.csv", content) == ["credit_score", "home", "note"]


@pytest.mark.parametrize("content", [b"", b" \n\n"])
def test_an_empty_file_is_refused_by_every_reader(tmp_path: Path, content: bytes) -> None:
    # given an empty file (or white space only), uploaded or on disk
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    # when its columns alone are read (the Diagnostics label picker), or all of it
    for read in (
        lambda: read_columns("empty.csv", content),
        lambda: read_table_bytes("empty.csv", content),
        lambda: read_table(path),
    ):
        # then it is refused as empty, saying what to give, instead of offering no columns
        with pytest.raises(DataValidationError, match="is empty") as caught:
            read()
        assert caught.value.message == "'empty.csv' is empty."
        assert "header row" in (caught.value.fix or "")


def test_a_semicolon_file_with_decimal_commas_is_read_as_numbers() -> None:
    # given a spreadsheet export: semicolons between fields, commas in decimals, a text column
    content = b"rate;score;note\n0,25;700;a,b\n-1,5;650;c\n;;\n"
    # when read / then the decimal-comma column is numbers; the others keep their type
    frame = read_table_bytes("export.csv", content)
    assert frame["rate"].tolist()[:2] == [0.25, -1.5] and pd.isna(frame["rate"].iloc[2])
    assert frame["score"].tolist()[:2] == [700, 650]
    assert frame["note"].tolist()[:2] == ["a,b", "c"]
