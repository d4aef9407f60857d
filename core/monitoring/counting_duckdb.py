"""The DuckDB counting engine: bin counts of the decision log's files in SQL, never in pandas.

Compacted Parquet day files are scanned by DuckDB directly (a group per features schema);
a JSONL day file is parsed by Arrow as the reader does (line by line, skipping and counting
corrupt lines, when a line is bad) and counted in DuckDB, one file at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.decision_log.contract import DECISION, META_COLUMNS, SCORE, DayFile
from core.decision_log.reader import (
    chosen_day_files,
    log_folders,
    missing_days,
    no_readable_decision,
    read_lines,
    read_notes,
    well_formed_table,
)
from core.monitoring.counting_sql import CountPlan, bin_counts_sql, count_plan, first_runs_sql
from core.monitoring.periods import Period
from core.monitoring.reference import ReferenceProfile

_COLUMNS = [*META_COLUMNS, SCORE, DECISION]
# JSONL files parsed and counted together: one query plan per batch, not per day.
_BATCH_ROWS = 500_000
# DuckDB's buffers (its default is 80% of the machine): the counts are tiny, the scan streams.
MEMORY_LIMIT = "256MB"


@dataclass(frozen=True)
class _Unit:
    """Rows DuckDB reads as one relation: Parquet files, or one parsed JSONL file."""

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


def _jsonl_unit(path: Path) -> _Unit:
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
    return _Unit((), table, fields, tuple((path, p) for p in problems))


def _units(found: Sequence[tuple[DayFile, Path]]) -> Iterator[_Unit]:
    """Parquet files grouped by features schema first, then each JSONL file in day order."""
    groups: dict[str, list[Path]] = {}
    types: dict[str, pa.DataType] = {}
    for info, path in found:
        if info.parquet:
            kind = pq.read_schema(path).field("features").type
            groups.setdefault(str(kind), []).append(path)
            types[str(kind)] = kind
    for key, paths in groups.items():
        yield _Unit(tuple(paths), None, _fields(types[key]))
    batch: list[_Unit] = []
    for info, path in found:
        if not info.parquet:
            batch.append(_jsonl_unit(path))
            if sum(u.table.num_rows for u in batch) >= _BATCH_ROWS:  # type: ignore[union-attr]
                yield from _joined(batch)
                batch = []
    yield from _joined(batch)


def _joined(batch: list[_Unit]) -> list[_Unit]:
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
    return [_Unit((), table, fields, tuple(p for u in batch for p in u.problems))]


def _query(connection: duckdb.DuckDBPyConnection, unit: _Unit, sql: str) -> pd.DataFrame:
    """Run SQL over a unit, the unit being the relation named `decisions`."""
    if unit.table is not None:
        connection.register("decisions", unit.table)
        try:
            return connection.execute(sql.replace("{source}", "decisions")).df()
        finally:
            connection.unregister("decisions")
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in unit.parquet)
    source = f"read_parquet([{files}], filename = true, file_row_number = true)"
    return connection.execute(sql.replace("{source}", source)).df()


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that reads times in UTC within a bounded memory."""
    connection = duckdb.connect(":memory:")
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    connection.execute("SET preserve_insertion_order = false")
    return connection


@dataclass(frozen=True)
class Survey:
    """What the first pass over the files found: runs by first decision, feature fields, rows,
    the corrupt lines skipped, and the notes the reader would give."""

    run_ids: tuple[str, ...]
    fields: tuple[str, ...]
    rows: int
    problems: tuple[str, ...]


class LogCounter:
    """Counts a decision log's files (several folders, from `since` on) with DuckDB."""

    def __init__(self, folder: Path | Sequence[Path], since: dt.date | None = None) -> None:
        self.folders = log_folders(folder)
        self.found = chosen_day_files(self.folders, since)
        self.source = (
            f"decision log {', '.join(map(str, self.folders))} ({len(self.found)} day file(s))"
        )

    def survey(self) -> Survey:
        """Runs in order of first decision, feature fields and corrupt lines (first pass)."""
        order = {str(p): i for i, (_, p) in enumerate(self.found)}
        firsts, fields, problems, rows = [], {}, [], 0
        connection = connect()
        for unit in _units(self.found):
            fields.update(dict.fromkeys(unit.fields))
            problems += [(order[str(path)], p) for path, p in unit.problems]
            rows += _rows(unit)
            firsts.append(_query(connection, unit, first_runs_sql("{source}")))
        if rows == 0:
            raise no_readable_decision(len(self.found), self.folders, len(problems))
        first = pd.concat(firsts, ignore_index=True)
        first["file"] = first["filename"].map(lambda name: order[str(Path(name))])
        first = first.sort_values(["file", "first_row"], kind="stable")
        runs = tuple(dict.fromkeys(first["run_id"]))
        ordered = tuple(p for _, p in sorted(problems, key=lambda item: item[0]))
        return Survey(runs, tuple(fields), rows, ordered)

    def count(
        self,
        profiles: Mapping[str, ReferenceProfile],
        survey: Survey,
        period: Period = "month",
    ) -> tuple[pd.DataFrame, CountPlan]:
        """The grouped counts of every file (second pass) and the plan naming their columns."""
        plan = count_plan(profiles, survey.fields)
        connection = connect()
        frames = []
        for unit in _units(self.found):
            sql = bin_counts_sql("{source}", plan, profiles, unit.fields, period)
            frames.append(_query(connection, unit, sql))
        return pd.concat(frames, ignore_index=True), plan

    def notes(self, survey: Survey, bad_times: int) -> list[str]:
        """The reader's sentences on skipped lines, bad times and days without a file."""
        days = list(dict.fromkeys(info.day for info, _ in self.found))
        return read_notes(list(survey.problems), missing_days(days), bad_times)


def _rows(unit: _Unit) -> int:
    """Rows of a unit (from Parquet metadata for Parquet files)."""
    if unit.table is not None:
        return unit.table.num_rows
    return sum(pq.read_metadata(p).num_rows for p in unit.parquet)
