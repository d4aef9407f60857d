"""The DuckDB engine: the log's units counted in an in-memory DuckDB, never in pandas.

Compacted Parquet day files are scanned by DuckDB itself, all files of a features schema in
one `read_parquet([...])` (DuckDB spreads their row groups over its threads); parsed JSONL
batches are registered as Arrow tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from core.monitoring.counting_log import SOURCE, LogCounter
from core.monitoring.counting_sql import DUCKDB
from core.monitoring.counting_units import LogUnit

# DuckDB's buffers (its default is 80% of the machine): the counts are tiny, the scan streams.
MEMORY_LIMIT = "256MB"
_VIEW = "decisions"


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that reads times in UTC within a bounded memory."""
    connection = duckdb.connect(":memory:")
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    connection.execute("SET preserve_insertion_order = false")
    return connection


class DuckDBQuery:
    """SQL over a unit in one DuckDB connection."""

    dialect = DUCKDB

    def __init__(self) -> None:
        self.connection = connect()

    def query(self, unit: LogUnit, sql: str) -> pd.DataFrame:
        """Run SQL over a unit, the unit being the relation named by SOURCE."""
        with unit_source(self.connection, unit) as source:
            return self.connection.execute(sql.replace(SOURCE, source)).df()


@contextmanager
def unit_source(connection: duckdb.DuckDBPyConnection, unit: LogUnit) -> Iterator[str]:
    """The SQL relation of a unit in this connection: its parsed JSONL registered as a view
    (for the duration of the block), or its Parquet files scanned by `read_parquet`."""
    if unit.table is None:
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in unit.parquet)
        yield f"read_parquet([{files}], filename = true, file_row_number = true)"
        return
    connection.register(_VIEW, unit.table)
    try:
        yield _VIEW
    finally:
        connection.unregister(_VIEW)


def duckdb_counter(folder: Path | Sequence[Path], since: dt.date | None = None) -> LogCounter:
    """A log counter whose SQL runs in DuckDB."""
    return LogCounter(folder, DuckDBQuery(), since)
