"""Dashboard files within limits: a Parquet that expands to millions of rows, a CSV with 100k
columns or a 128 KiB field, a path with NUL or 5,000 characters, and a hard link inside
DATA_ROOT each get a message, never a traceback or a minutes-long read."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.data.data_root import DataPathRefusedError, read_in_root
from core.data.tables import MAX_UPLOAD_ROWS, read_table, read_table_bytes
from core.errors import DataValidationError


def test_a_parquet_over_the_row_limit_is_refused_from_its_metadata() -> None:
    # given a small Parquet file that expands to one row more than the upload limit
    table = pa.table({"x": np.zeros(MAX_UPLOAD_ROWS + 1, dtype=np.int8)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    content = buffer.getvalue()
    assert len(content) < 1_000_000
    # when the dashboard reads it as an upload
    with pytest.raises(DataValidationError) as refused:
        read_table_bytes("big.parquet", content)
    # then it is refused, naming the rows its metadata counts and the limit
    assert f"{MAX_UPLOAD_ROWS + 1:,} rows; at most {MAX_UPLOAD_ROWS:,}" in refused.value.message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (",".join(f"c{i}" for i in range(100_000)).encode() + b"\n" + b"1," * 99_999 + b"1\n",
         "100,000 columns"),
        (b"default," + b"x" * (128 * 1024 + 1) + b"\n0,1\n", "could not be read"),
    ],
    ids=["100k columns", "128 KiB field"],
)  # fmt: skip
def test_csv_column_and_field_limits_give_a_message(tmp_path: Path, content, words) -> None:
    # given a CSV over a limit, uploaded and on disk
    path = tmp_path / "wide.csv"
    path.write_bytes(content)
    for read in (lambda: read_table_bytes("wide.csv", content), lambda: read_table(path)):
        # when it is read / then a DataValidationError says what is wrong
        with pytest.raises(DataValidationError) as refused:
            read()
        assert words in refused.value.message and refused.value.fix


@pytest.mark.parametrize(
    ("path", "words"),
    [("books/a\x00b.csv", "NUL character"), ("a/" * 2500 + "x.csv", "5,005 characters")],
    ids=["NUL", "5,000 characters"],
)
def test_nul_and_overlong_paths_are_refused_with_a_message(tmp_path: Path, path, words) -> None:
    # given a data root / when such a path is typed
    with pytest.raises(DataPathRefusedError) as refused:
        read_in_root(tmp_path, path)
    # then it is refused with a message and a fix
    assert words in refused.value.message and refused.value.fix


def test_a_hard_link_inside_the_root_is_refused(tmp_path: Path) -> None:
    # given a file outside the root, hard-linked into it
    root = tmp_path / "data"
    root.mkdir()
    secret = tmp_path / "secret.csv"
    secret.write_text("key,value\nk,1\n")
    os.link(secret, root / "linked.csv")
    # when the link is read through DATA_ROOT
    with pytest.raises(DataPathRefusedError) as refused:
        read_in_root(root, "linked.csv")
    # then it is refused, saying why
    assert "2 hard links" in refused.value.message
