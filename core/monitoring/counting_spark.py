"""The Spark engine: the log's units counted by Spark SQL, on a session the user configures.

Compacted Parquet day files are read by Spark itself (`spark.read.parquet`, the file and row
number from its `_metadata` column), so their rows never pass through this process. JSONL day
files are parsed here by the log reader's own rules (corrupt lines skipped and named exactly as
in pandas) and handed to Spark as Arrow batches: for a log too big for one machine, compact it
first (`python -m core compact-log`). Times are read in UTC, the counts shuffled into as many
partitions as the session has cores, and whole-stage code generation kept for the wide
aggregate (the settings are restored after each query).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd
import pyarrow as pa

from core.data.spark_session import spark_session
from core.monitoring.counting_log import SOURCE, LogCounter
from core.monitoring.counting_sql import SPARK
from core.monitoring.counting_units import LogUnit

_VIEW = "credit_gov_decisions"
_TIME_ZONE = "spark.sql.session.timeZone"
# The counts are a few rows per run and period: shuffle them into as many partitions as the
# session has cores, not Spark's default 200 (each an almost empty task).
_PARTITIONS = "spark.sql.shuffle.partitions"
# The count has a few hundred aggregate columns: above Spark's default of 100 fields it gives up
# whole-stage code generation (measured 2x the CPU); Spark still falls back by itself when a
# generated method grows too large.
_MAX_FIELDS = ("spark.sql.codegen.maxFields", "10000")
# Arrow batches handed to Spark (createDataFrame) and back (toPandas).
_BATCH_ROWS = 100_000
_COLUMNS = ("time", "run_id", "decision", "probability_of_default", "features", "filename")


def _without_null_types(table: pa.Table) -> pa.Table:
    """Columns and feature fields that are null throughout, as null strings (Spark has no
    Arrow null type; a null is missing whichever type it has)."""
    columns = [c for c in (*_COLUMNS, "file_row_number") if c in table.column_names]
    table = table.select(columns)
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_null(kind):
            kind = pa.string()
        elif pa.types.is_struct(kind):
            kind = pa.struct(
                [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in kind]
            )
        fields.append(field.with_type(kind))
    return table.cast(pa.schema(fields))


@contextmanager
def _settings(session, values: dict[str, str]) -> Iterator[None]:
    """The session's SQL settings changed for one query, restored after."""
    before = {key: session.conf.get(key, None) for key in values}
    for key, value in values.items():
        session.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                session.conf.unset(key)
            else:
                session.conf.set(key, value)


def _path(uri: str) -> str:
    """A local path from the file URI Spark reports."""
    return unquote(urlparse(uri).path) if uri.startswith("file:") else uri


class SparkQuery:
    """SQL over a unit in a SparkSession (times in UTC)."""

    dialect = SPARK

    def __init__(self, session) -> None:  # session: pyspark.sql.SparkSession
        self.session = session

    def _frame(self, unit: LogUnit):  # -> pyspark.sql.DataFrame
        """The unit as a Spark DataFrame with `filename` and `file_row_number`."""
        if unit.table is not None:
            return self.session.createDataFrame(_without_null_types(unit.table))
        frame = self.session.read.parquet(*(str(p) for p in unit.parquet))
        return frame.selectExpr(
            "*", "_metadata.file_path AS filename", "_metadata.row_index AS file_row_number"
        )

    def query(self, unit: LogUnit, sql: str) -> pd.DataFrame:
        """Run SQL over a unit, the unit being the temporary view named by SOURCE."""
        parallelism = str(self.session.sparkContext.defaultParallelism)
        values = {_TIME_ZONE: "UTC", _PARTITIONS: parallelism, _MAX_FIELDS[0]: _MAX_FIELDS[1]}
        with _settings(self.session, values):
            self._frame(unit).createOrReplaceTempView(_VIEW)
            try:
                found = self.session.sql(sql.replace(SOURCE, _VIEW)).toPandas().copy()
            finally:
                self.session.catalog.dropTempView(_VIEW)
        if "filename" in found.columns:
            found["filename"] = found["filename"].map(_path)
        return found


def spark_counter(
    folder: Path | Sequence[Path], master: str | None = None, since: dt.date | None = None
) -> LogCounter:
    """A log counter whose SQL runs on Spark (`master`, default: spark-submit's or local[*])."""
    session = spark_session(master, _BATCH_ROWS, app_name="credit-gov monitor")
    return LogCounter(folder, SparkQuery(session), since)
