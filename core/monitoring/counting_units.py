"""The decision log's day files as the units an SQL engine counts (DuckDB or Spark).

Compacted Parquet day files are handed to the engine as paths (a group per features schema,
read by the engine itself); a JSONL day file is parsed by Arrow as the reader does (line by
line, skipping and naming corrupt lines, when a line is bad) and handed over as an Arrow table,
JSONL files joined into batches of about 500k rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.decision_log.contract import DECISION, META_COLUMNS, SCORE, DayFile
from core.decision_log.reader import read_lines, well_formed_table

_COLUMNS = [*META_COLUMNS, SCORE, DECISION]
# JSONL files parsed and counted together: one query plan per batch, not per day.
_BATCH_ROWS = 500_000


@dataclass(frozen=True)
class LogUnit:
    """Rows an engine reads as one relation: Parquet files, or parsed JSONL files (Arrow)."""

    parquet: tuple[Path, ...]
    table: pa.Table | None
    fields: tuple[str, ...]
    problems: tuple[tuple[Path, str], ...] = ()


def _fields(struct_type: pa.DataType) -> tuple[str, ...]:
    """The field names of the features struct."""
    if not pa.types.is_struct(struct_type):
        return ()
    return tuple(struct_type.field(i).name for i in range(struct_type.num_fields))


def _struct(features: pd.DataFrame) -> pa.StructArray | None:
    """A features frame as an Arrow struct (a mixed column as text), None without columns."""
    arrays = []
    for name in features.columns:
        try:
            arrays.append(pa.array(features[name], from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            column = features[name]
            arrays.append(pa.array(column.astype(str).where(column.notna(), None)))
    if not arrays:
        return None
    return pa.StructArray.from_arrays(arrays, names=[str(c) for c in features.columns])


def _jsonl_unit(path: Path) -> LogUnit:
    """One JSONL day file parsed as the reader parses it, with file name and row numbers."""
    data = path.read_bytes()
    table = well_formed_table(data)
    problems: tuple[str, ...] = ()
    if table is not None:
        table = table.select([*_COLUMNS, "features"])
    else:
        read = read_lines(path, data)
        problems = read.problems
        table = pa.Table.from_pandas(read.meta, preserve_index=False)
        struct = _struct(read.features)
        if struct is not None:
            table = table.append_column("features", struct)
    table = table.append_column("filename", pa.array([str(path)] * table.num_rows, pa.string()))
    table = table.append_column("file_row_number", pa.array(np.arange(table.num_rows)))
    fields = (
        _fields(table.schema.field("features").type) if "features" in table.schema.names else ()
    )
    return LogUnit((), table, fields, tuple((path, p) for p in problems))


def log_units(found: Sequence[tuple[DayFile, Path]]) -> Iterator[LogUnit]:
    """Parquet files grouped by features schema first, then each JSONL file in day order."""
    groups: dict[str, list[Path]] = {}
    types: dict[str, pa.DataType] = {}
    for info, path in found:
        if info.parquet:
            kind = pq.read_schema(path).field("features").type
            groups.setdefault(str(kind), []).append(path)
            types[str(kind)] = kind
    for key, paths in groups.items():
        yield LogUnit(tuple(paths), None, _fields(types[key]))
    batch: list[LogUnit] = []
    for info, path in found:
        if not info.parquet:
            batch.append(_jsonl_unit(path))
            if sum(u.table.num_rows for u in batch) >= _BATCH_ROWS:  # type: ignore[union-attr]
                yield from _joined(batch)
                batch = []
    yield from _joined(batch)


def _joined(batch: list[LogUnit]) -> list[LogUnit]:
    """Parsed JSONL files as one relation (one query plan for many days), or each alone when
    their columns do not combine."""
    if len(batch) < 2:
        return batch
    try:
        table = pa.concat_tables([u.table for u in batch], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return batch
    fields = (
        _fields(table.schema.field("features").type) if "features" in table.schema.names else ()
    )
    return [LogUnit((), table, fields, tuple(p for u in batch for p in u.problems))]


def unit_rows(unit: LogUnit) -> int:
    """Rows of a unit (from Parquet metadata for Parquet files)."""
    if unit.table is not None:
        return unit.table.num_rows
    return sum(pq.read_metadata(p).num_rows for p in unit.parquet)
