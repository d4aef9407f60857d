"""What the Monitoring page needs of a decision log besides the report, never holding its rows:
the day files' stamp (a cache key that changes when the log grows), the engine that counts it
and why, and one feature's distribution for one run, scanned by DuckDB in batches."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.decision_log.reader import chosen_day_files, log_folders, read_lines, well_formed_table
from core.errors import DataValidationError
from core.monitoring import log_engines
from core.monitoring.counting import Engine
from core.monitoring.counting_duckdb import connect
from core.monitoring.drift import column_counts, comparison_table
from core.monitoring.reference import CategoricalProfile, NumericProfile

# Values of one feature fetched from DuckDB at a time (a column of doubles: 8 MB).
_BATCH_ROWS = 1_000_000
_UNITS = ("bytes", "kB", "MB", "GB", "TB")


@dataclass(frozen=True)
class LogFiles:
    """The day files a log is read from (path, size, modification time in ns), in day order."""

    folders: tuple[str, ...]
    files: tuple[tuple[str, int, int], ...]

    @property
    def size(self) -> int:
        """Bytes of all day files."""
        return sum(size for _, size, _ in self.files)

    @property
    def key(self) -> str:
        """A key naming this content: it changes when a day file is added, grows or is rewritten."""
        digest = hashlib.sha256(repr(self.files).encode()).hexdigest()[:16]
        return f"log|{'|'.join(self.folders)}|{len(self.files)}|{self.size}|{digest}"


def log_files(folder: Path | Sequence[Path], since: dt.date | None = None) -> LogFiles:
    """The day files the reader would read (a compacted day from its Parquet copy), stamped."""
    folders = log_folders(folder)
    stamps = []
    for _, path in chosen_day_files(folders, since):
        stat = path.stat()
        stamps.append((str(path), stat.st_size, stat.st_mtime_ns))
    return LogFiles(tuple(map(str, folders)), tuple(stamps))


def size_text(size: int) -> str:
    """Bytes as a short text in units of 1,024 (as the CLI names the auto threshold): 2.4 GB,
    256 MB, 12 kB."""
    value, unit = float(size), 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    digits = 1 if unit > 0 and value < 10 else 0
    return f"{value:.{digits}f} {_UNITS[unit]}"


@dataclass(frozen=True)
class EngineChoice:
    """The engine that counts the log, why, and whether uploaded outcomes cannot be joined."""

    engine: Literal["pandas", "duckdb"]
    reason: str
    outcomes_refused: bool = False


def choose_engine(setting: Engine, files: LogFiles, with_outcomes: bool) -> EngineChoice:
    """The CLI's choice (core.monitoring.log_engines.chosen_engine) with its reason in words;
    DuckDB (or Spark, counted here by DuckDB) by setting with outcomes is kept, the outcomes
    refused (they need the rows)."""
    size = size_text(files.size)
    threshold = size_text(log_engines.AUTO_DUCKDB_BYTES)
    if setting == "duckdb":
        return EngineChoice(
            "duckdb", f"MONITORING_ENGINE=duckdb ({size} of day files)", with_outcomes
        )
    if setting == "spark":  # the same SQL and counts; the page starts no JVM
        return EngineChoice(
            "duckdb",
            f"MONITORING_ENGINE=spark: the page counts with DuckDB, the same SQL and counts "
            f"(`python -m core monitor --engine spark` runs Spark; {size} of day files)",
            with_outcomes,
        )
    folders = [Path(f) for f in files.folders]
    engine = log_engines.chosen_engine(setting, folders, None, with_outcomes)
    if setting == "pandas":
        return EngineChoice(engine, f"MONITORING_ENGINE=pandas ({size} of day files)")
    if with_outcomes:
        return EngineChoice(engine, f"outcomes are joined to the decisions row by row ({size})")
    side = "above" if engine == "duckdb" else "below"
    return EngineChoice(
        engine, f"{size} of day files, {side} the {threshold} at which auto picks DuckDB"
    )


def _has_field(struct: pa.DataType, feature: str) -> bool:
    """True when a features struct type has this feature."""
    return pa.types.is_struct(struct) and struct.get_field_index(feature) >= 0


def _jsonl_table(path: Path, feature: str) -> pa.Table:
    """A JSONL day file's run, time and feature value, parsed as the reader parses it (corrupt
    lines skipped)."""
    data = path.read_bytes()
    table = well_formed_table(data)
    if table is not None:
        struct = table["features"].combine_chunks()
        index = struct.type.get_field_index(feature)
        value = struct.field(index) if index >= 0 else pa.nulls(table.num_rows)
        return pa.table({"run_id": table["run_id"], "time": table["time"], "v": value})
    read = read_lines(path, data)
    column = read.features.get(feature, pd.Series([None] * len(read.meta), dtype=object))
    try:
        value = pa.array(column, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        value = pa.array(column.astype(str).where(column.notna(), None))
    return pa.table({"run_id": read.meta["run_id"], "time": read.meta["time"], "v": value})


_ROWS_OF_RUN = (
    "SELECT {value} AS v FROM {source} WHERE CAST(run_id AS VARCHAR) = $run "
    'AND TRY_CAST("time" AS TIMESTAMPTZ) IS NOT NULL'
)


def _values(
    connection: duckdb.DuckDBPyConnection, files: LogFiles, run_id: str, feature: str
) -> Iterator[pd.Series]:
    """Batches of one feature's values over the run's decisions with a valid time: compacted
    Parquet scanned by DuckDB (a group per features schema), JSONL parsed a file at a time."""
    groups: dict[str, list[str]] = {}
    kinds: dict[str, pa.DataType] = {}
    field = '"' + feature.replace('"', '""') + '"'
    for name, _, _ in files.files:
        if name.endswith(".parquet"):
            kind = pq.read_schema(name).field("features").type
            groups.setdefault(str(kind), []).append(name)
            kinds[str(kind)] = kind
    queries = []
    for kind, paths in groups.items():
        listed = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
        value = f"features.{field}" if _has_field(kinds[kind], feature) else "NULL"
        queries.append((_ROWS_OF_RUN.format(value=value, source=f"read_parquet([{listed}])"), None))
    for name, _, _ in files.files:
        if not name.endswith(".parquet"):
            queries.append((_ROWS_OF_RUN.format(value="v", source="day"), Path(name)))
    for sql, jsonl in queries:
        if jsonl is not None:
            connection.register("day", _jsonl_table(jsonl, feature))
        reader = connection.sql(sql, params={"run": run_id}).to_arrow_reader(_BATCH_ROWS)
        for batch in reader:
            yield batch.column(0).to_pandas()
        if jsonl is not None:
            connection.unregister("day")


def feature_distribution(
    files: LogFiles, run_id: str, feature: str, profile: NumericProfile | CategoricalProfile
) -> pd.DataFrame:
    """Reference and recent share per bin of one feature over one run's decisions in the log,
    as core.monitoring.drift.distribution_comparison gives for the rows held in pandas."""
    width = len(profile.shares())
    counts = np.zeros(width, dtype=np.int64)
    connection = connect()
    try:
        for values in _values(connection, files, run_id, feature):
            counts += column_counts(profile, values)
    except (OSError, duckdb.Error) as exc:
        raise DataValidationError(
            f"The decision log changed while '{feature}' was read from it ({exc}).",
            fix="Reload the page in 30 s: the log's files are listed again by then.",
        ) from exc
    finally:
        connection.close()
    return comparison_table(profile, counts)
