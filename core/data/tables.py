"""The one reader of user tables: uploads (bytes) and server paths, CSV or Parquet.

Every page and command that reads a user's file goes through here: the format comes from the
name, the size and row limits are checked before parsing where possible, a CSV's delimiter
(`,` `;` tab or `|`) is sniffed from its header and first row (in a `;` file, a column whose
every value is a number written with a decimal comma, as spreadsheets in many locales export
it, is read as numbers), duplicate column names are refused from the raw header (pandas would
silently rename them), and every problem is a DataValidationError that says what to fix.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from core.errors import DataValidationError

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
MAX_TABLE_BYTES = 2 * 1024**3
MAX_TABLE_COLUMNS = 10_000
# Uploads and DATA_ROOT files read by the dashboard: a small Parquet file can expand to tens of
# millions of rows, so a limit applies unless the caller sets its own.
MAX_UPLOAD_ROWS = 2_000_000
CSV_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 1024 * 1024
_DECIMAL_COMMA = re.compile(r"[+-]?\d+(,\d+)?")
# csv.Error: a field over the csv module's limit (128 KiB), or a header line too long to sniff.
_UNREADABLE = (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError, csv.Error)


def _suffix(name: str) -> str:
    """The lower-case suffix of a file name, or a DataValidationError for other formats."""
    suffix = Path(name).suffix.lower()
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise DataValidationError(
            f"'{Path(name).name}' is neither CSV nor Parquet.", fix="Give a .csv or .parquet file."
        )
    return suffix


def _check_size(name: str, size: int, max_bytes: int, max_rows: int | None) -> None:
    """Refuse an empty file or one above the byte limit."""
    if size == 0:
        _check_not_blank(name, b"")
    if size > max_bytes:
        rows = f" of at most {max_rows:,} rows" if max_rows else ""
        raise DataValidationError(
            f"'{name}' is {size / 1e6:,.0f} MB; the limit is {max_bytes / 1e6:,.0f} MB.",
            fix=f"Split it into files{rows}.",
        )


def _check_row_estimate(name: str, content: bytes, max_rows: int | None) -> None:
    """Refuse a CSV whose line count already exceeds the row limit, before parsing it."""
    if max_rows is None:
        return
    lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1) - 1
    if lines > max_rows:
        raise DataValidationError(
            f"'{name}' has about {lines:,} rows; at most {max_rows:,} are read at a time.",
            fix=f"Split it into files of at most {max_rows:,} rows.",
        )


def check_unique_columns(columns: Sequence[str], name: str) -> None:
    """Raise when a column name appears more than once."""
    duplicates = sorted(str(c) for c, n in Counter(columns).items() if n > 1)
    if duplicates:
        raise DataValidationError(
            f"'{name}' has duplicate columns: {', '.join(duplicates)}.",
            fix="Rename or drop the repeated columns so each name appears once.",
        )


def sniff_delimiter(head: str) -> str:
    """The delimiter of a CSV from its first lines: the one of `,` `;` tab `|` that splits the
    header into the most fields and the first data row into as many (comma on a tie)."""
    lines = head.splitlines()[:2]
    if not lines:
        return ","

    def fields(line: str, delimiter: str) -> int:
        try:
            return len(next(csv.reader([line], delimiter=delimiter), []))
        except csv.Error:  # a field over the csv module's limit: not this delimiter
            return 0

    def score(delimiter: str) -> tuple[bool, int]:
        header = fields(lines[0], delimiter)
        agrees = len(lines) < 2 or fields(lines[1], delimiter) == header
        return (agrees and header > 1, header)

    return max(CSV_DELIMITERS, key=score)  # max keeps the first (comma) among equals


def _head(source: io.BytesIO | Path) -> str:
    """The first bytes of a CSV as text, enough for its header and first row."""
    if isinstance(source, Path):
        with source.open("rb") as handle:
            raw = handle.read(_SNIFF_BYTES)
    else:
        raw = source.getvalue()[:_SNIFF_BYTES]
    return raw.decode("utf-8-sig", errors="replace")


def _decimal_commas(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with text columns whose every value is a decimal-comma number ('1,5') read as
    numbers (a `;`-separated file from a spreadsheet writes decimals that way)."""
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_string_dtype(values):
            continue
        present = values.dropna().astype(str).str.strip()
        if (
            len(present)
            and present.str.contains(",", regex=False).any()
            and present.str.fullmatch(_DECIMAL_COMMA).all()
        ):
            frame[column] = pd.to_numeric(
                values.astype(str)
                .str.strip()
                .str.replace(",", ".", regex=False)
                .where(values.notna())
            )
    return frame


def _header(source: io.BytesIO | Path, suffix: str, delimiter: str = ",") -> list[str]:
    """Column names as written in the file, before pandas renames duplicates."""
    if suffix in CSV_SUFFIXES:
        if isinstance(source, Path):
            with source.open(newline="", encoding="utf-8-sig") as handle:
                return next(csv.reader(handle, delimiter=delimiter), [])
        text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
        try:
            return next(csv.reader(text, delimiter=delimiter), [])
        finally:
            text.detach()
    import pyarrow.parquet as pq

    return list(pq.read_schema(source).names)


def _parse(
    source: io.BytesIO | Path, name: str, suffix: str, max_rows: int | None = None
) -> pd.DataFrame:
    """Parse CSV or Parquet, with the raw header checked for duplicates and the column limit,
    and the row limit applied before reading (Parquet metadata) or while reading (CSV)."""
    try:
        delimiter = sniff_delimiter(_head(source)) if suffix in CSV_SUFFIXES else ","
        header = _header(source, suffix, delimiter)
        _check_columns(header, name)
        if isinstance(source, io.BytesIO):
            source.seek(0)
        if suffix in CSV_SUFFIXES:
            nrows = None if max_rows is None else max_rows + 1
            frame = pd.read_csv(source, encoding="utf-8-sig", sep=delimiter, nrows=nrows)
            if delimiter == ";":
                frame = _decimal_commas(frame)
        else:
            _check_parquet_rows(source, name, max_rows)
            frame = pd.read_parquet(source)
    except _UNREADABLE as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DataValidationError(
            f"'{name}' could not be read: {first}",
            fix="Check that it is a valid CSV (UTF-8, one header row, fields separated by "
            "commas, semicolons, tabs or pipes) or Parquet file.",
        ) from exc
    check_unique_columns(header, name)
    return frame


def _check_columns(header: Sequence[str], name: str) -> None:
    """Refuse a table with more than MAX_TABLE_COLUMNS columns before reading its rows."""
    if len(header) > MAX_TABLE_COLUMNS:
        raise DataValidationError(
            f"'{name}' has {len(header):,} columns; at most {MAX_TABLE_COLUMNS:,} are read.",
            fix="Keep the model's features, the label and an id; drop the other columns.",
        )


def _check_parquet_rows(source: io.BytesIO | Path, name: str, max_rows: int | None) -> None:
    """Refuse a Parquet file whose metadata counts more rows than allowed, before reading it."""
    if max_rows is None:
        return
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(source).metadata.num_rows
    if isinstance(source, io.BytesIO):
        source.seek(0)
    if rows > max_rows:
        raise DataValidationError(
            f"'{name}' has {rows:,} rows; at most {max_rows:,} are read at a time.",
            fix=f"Split it into files of at most {max_rows:,} rows.",
        )


def _check_rows(frame: pd.DataFrame, name: str, max_rows: int | None) -> pd.DataFrame:
    """Refuse a table with a header but no rows, or more rows than allowed."""
    if frame.empty:
        raise DataValidationError(
            f"'{name}' has a header but no rows.", fix="Add at least one data row."
        )
    if max_rows is not None and len(frame) > max_rows:
        raise DataValidationError(
            f"'{name}' has {len(frame):,} rows; at most {max_rows:,} are read at a time.",
            fix=f"Split it into files of at most {max_rows:,} rows.",
        )
    return frame


def _check_not_blank(name: str, content: bytes) -> None:
    """Refuse a file with nothing in it but white space."""
    if not content.strip():
        raise DataValidationError(
            f"'{name}' is empty.",
            fix="Give a file with a header row naming the columns and at least one data row.",
        )


def read_table_bytes(
    name: str,
    content: bytes,
    *,
    max_rows: int | None = MAX_UPLOAD_ROWS,
    max_bytes: int = MAX_TABLE_BYTES,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Read an uploaded CSV or Parquet file from memory (its name decides the format)."""
    shown = Path(name).name
    suffix = _suffix(name)
    _check_not_blank(shown, content)
    _check_size(shown, len(content), max_bytes, max_rows)
    if suffix in CSV_SUFFIXES:
        _check_row_estimate(shown, content, max_rows)
    frame = _parse(io.BytesIO(content), shown, suffix, max_rows)
    return frame if allow_empty else _check_rows(frame, shown, max_rows)


def read_table(
    path: str | Path,
    *,
    max_rows: int | None = None,
    max_bytes: int = MAX_TABLE_BYTES,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Read a CSV or Parquet file on disk straight from its path."""
    file = Path(path).expanduser()
    if not file.exists():
        raise DataValidationError(
            f"No file at '{file}'.", fix="Check the path: give a .csv or .parquet file."
        )
    if file.is_dir():
        raise DataValidationError(f"'{file}' is a folder.", fix="Give a .csv or .parquet file.")
    if not file.is_file():
        raise DataValidationError(
            f"'{file}' is not a regular file.", fix="Give a .csv or .parquet file."
        )
    suffix = _suffix(file.name)
    _check_size(file.name, file.stat().st_size, max_bytes, max_rows)
    if suffix in CSV_SUFFIXES:
        _check_not_blank(file.name, _head(file).encode())
    frame = _parse(file, file.name, suffix, max_rows)
    return frame if allow_empty else _check_rows(frame, file.name, max_rows)


def row_width_problem(content: bytes) -> tuple[int, str] | None:
    """The first data row (1-based) whose field count differs from the header's, with a
    sentence; None when every row has exactly the header's count (blank lines are skipped).

    pandas shifts a row with one extra field (a trailing comma) one column left and reads the
    first value as an index: the row is scored on the wrong columns, so it must be refused.
    """
    text = content.decode("utf-8-sig")
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=sniff_delimiter(text[:_SNIFF_BYTES])
    )
    header = next(reader, [])
    for number, row in enumerate(reader, start=1):
        if row and len(row) != len(header):
            return number, (
                f"row {number} has {len(row)} fields but the header has {len(header)} "
                "(a trailing or missing separator?)"
            )
    return None


def read_columns(name: str, content: bytes) -> list[str]:
    """A table's column names from its header alone (the full read happens once, later)."""
    suffix = _suffix(name)
    _check_not_blank(Path(name).name, content)
    try:
        delimiter = sniff_delimiter(_head(io.BytesIO(content))) if suffix in CSV_SUFFIXES else ","
        columns = _header(io.BytesIO(content), suffix, delimiter)
    except _UNREADABLE:
        columns = list(read_table_bytes(name, content).columns)
    check_unique_columns(columns, Path(name).name)
    return [str(c) for c in columns]
