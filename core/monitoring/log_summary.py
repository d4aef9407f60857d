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

from core.decision_log.contract import day_file
from core.decision_log.reader import chosen_day_files, log_folders
from core.errors import DataValidationError
from core.monitoring import log_engines
from core.monitoring.counting import Engine
from core.monitoring.counting_duckdb import connect, unit_source
from core.monitoring.counting_units import log_units
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


_ROWS_OF_RUN = (
    "SELECT {value} AS v FROM {source} WHERE CAST(run_id AS VARCHAR) = $run "
    'AND TRY_CAST("time" AS TIMESTAMPTZ) IS NOT NULL'
)


def _values(
    connection: duckdb.DuckDBPyConnection, files: LogFiles, run_id: str, feature: str
) -> Iterator[pd.Series]:
    """Batches of one feature's values over the run's decisions with a valid time, read unit
    by unit as the SQL engines count the log (core.monitoring.counting_units: compacted Parquet
    scanned by DuckDB a group per features schema, JSONL parsed as the reader parses it)."""
    field = '"' + feature.replace('"', '""') + '"'
    paths = [Path(name) for name, _, _ in files.files]
    found = [(info, path) for path in paths if (info := day_file(path.name))]
    for unit in log_units(found):
        value = f"features.{field}" if feature in unit.fields else "NULL"
        with unit_source(connection, unit) as source:
            sql = _ROWS_OF_RUN.format(value=value, source=source)
            reader = connection.sql(sql, params={"run": run_id}).to_arrow_reader(_BATCH_ROWS)
            for batch in reader:
                yield batch.column(0).to_pandas()


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
