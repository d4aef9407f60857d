"""The applicants of a batch job: a CSV or Parquet file, or a folder of them, read by the one
table reader (core.data.tables), with the id column each output row carries."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.data.tables import CSV_SUFFIXES, PARQUET_SUFFIXES, read_table
from core.errors import DataValidationError
from core.scoring.prepare import ROW_ID_COLUMNS

ROW_NUMBER = "row_number"


def input_files(path: Path) -> list[Path]:
    """The table files of an input: the file itself, or a folder's CSV/Parquet files in order."""
    path = Path(path).expanduser()
    if not path.is_dir():
        return [path]
    suffixes = CSV_SUFFIXES + PARQUET_SUFFIXES
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise DataValidationError(
            f"The folder '{path}' holds no .csv or .parquet file.",
            fix="Give a CSV or Parquet file, or a folder of them.",
        )
    return files


def read_applicants(path: Path) -> pd.DataFrame:
    """Every row of the input, in file order (one table; files of a folder must agree)."""
    frames = []
    for file in input_files(path):
        frame = read_table(file)
        if frames and list(frame.columns) != list(frames[0].columns):
            raise DataValidationError(
                f"'{file.name}' has other columns than '{input_files(path)[0].name}'.",
                fix="Give the files of one folder the same header.",
            )
        frames.append(frame)
    table = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return table.reset_index(drop=True)


def id_column(columns: list[str], features: list[str]) -> str | None:
    """The applicants' id column: the first of id, applicant_id, row_id that is no feature."""
    return next((c for c in ROW_ID_COLUMNS if c in columns and c not in features), None)


def applicant_ids(frame: pd.DataFrame, column: str | None, first_row: int = 0) -> pd.Series:
    """Each row's id as text, or its input row number (counted from 1) when there is no id."""
    if column is None:
        numbers = pd.RangeIndex(first_row + 1, first_row + 1 + len(frame))
        return pd.Series(numbers.astype(str), index=frame.index, dtype="str")
    return frame[column].astype("str")
