"""Read the scoring service's decision log (one JSONL file per UTC day) into columns.

The files and lines follow core.decision_log.contract. Corrupt or truncated lines are skipped
and counted, and days with no file between the first and last are listed. Several folders (one
per service worker) and per-writer files (decisions-YYYY-MM-DD.w<N>.jsonl) are read together; a
day file compacted to Parquet (core.decision_log.compact) is read from its Parquet copy.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from core.decision_log.contract import (
    DECISION,
    DECISIONS,
    LOG_KEYS,
    META_COLUMNS,
    SCORE,
    DayFile,
    day_file,
    log_day,
)
from core.decision_log.reasons import (
    joined_reasons,
    missing_reasons_note,
    read_reason_records,
    reasons_files,
)
from core.errors import DataValidationError

_SHOWN_PROBLEMS = 5
_META = (*META_COLUMNS, SCORE, DECISION, "reasons")


@dataclass(frozen=True, eq=False)
class RecentData:
    """Recent decisions (time, run_id, score, decision, ids, optional outcome) and their features.

    Features are a separate frame on the same index, so a feature may have any name.
    """

    decisions: pd.DataFrame
    features: pd.DataFrame
    source: str
    notes: tuple[str, ...] = ()
    # Per decision, its reason codes (feature names) when the log has them, else None.
    reasons: pd.Series | None = None


@dataclass(frozen=True)
class _FileRead:
    """One day's file: its rows (an Arrow table when well formed, else frames) and bad lines."""

    table: pa.Table | None
    meta: pd.DataFrame | None
    features: pd.DataFrame | None
    problems: tuple[str, ...]


def log_files(folder: Path) -> dict[dt.date, Path]:
    """The log files in folder by day (other files are ignored)."""
    if not folder.is_dir():
        raise DataValidationError(
            f"The decision log folder '{folder}' does not exist.",
            fix="Start the scoring service (python -m core serve), set DECISION_LOG to its "
            "folder, or monitor a file with --source FILE.",
        )
    found = {}
    for path in folder.iterdir():
        day = log_day(path.name)
        if day is not None and path.is_file():
            found[day] = path
    return dict(sorted(found.items()))


SOURCE_BYTES_KEY = b"decision_log.source_bytes"


def compacted_current(parquet: Path, jsonl: Path) -> bool:
    """True when a Parquet copy holds all of its JSONL day file (or the JSONL is gone)."""
    if not jsonl.exists():
        return True
    metadata = pq.read_schema(parquet).metadata or {}
    return metadata.get(SOURCE_BYTES_KEY) == str(jsonl.stat().st_size).encode()


def _chosen(formats: dict[bool, tuple[DayFile, Path]]) -> tuple[DayFile, Path]:
    """Of one (day, writer) log, the Parquet copy when current, else the JSONL."""
    parquet, jsonl = formats.get(True), formats.get(False)
    if parquet is None or (jsonl is not None and not compacted_current(parquet[1], jsonl[1])):
        return jsonl  # type: ignore[return-value]
    return parquet


def day_files(folders: Sequence[Path]) -> list[tuple[DayFile, Path]]:
    """Every day file of the folders, by day; a (day, writer) log compacted to Parquet is read
    from the Parquet unless its JSONL grew after compaction."""
    found: list[tuple[tuple[dt.date, int, str], DayFile, Path]] = []
    for order, folder in enumerate(folders):
        log_files(folder)  # a missing folder is named
        logs: dict[str, dict[bool, tuple[DayFile, Path]]] = {}
        for path in folder.iterdir():
            info = day_file(path.name)
            if info is not None and path.is_file():
                logs.setdefault(info.stem, {})[info.parquet] = (info, path)
        for formats in logs.values():
            info, path = _chosen(formats)
            found.append(((info.day, order, info.writer), info, path))
    found.sort(key=lambda item: item[0])
    return [(info, path) for _, info, path in found]


def _valid_record(record: object) -> bool:
    """True when a parsed line has the contract's keys and value types."""
    if not isinstance(record, dict) or any(k not in record for k in LOG_KEYS):
        return False
    score = record[SCORE]
    return (
        isinstance(record["time"], str)
        and isinstance(record["run_id"], str)
        and isinstance(score, int | float)
        and not isinstance(score, bool)
        and record[DECISION] in DECISIONS
        and isinstance(record["features"], dict)
    )


def read_lines(path: Path, data: bytes) -> _FileRead:
    """Line by line: keep valid records, name every skipped line."""
    records, features, problems = [], [], []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError):
            record = None
        if not _valid_record(record):
            problems.append(f"{path.name} line {number}")
            continue
        records.append({k: record.get(k) for k in _META})
        features.append(record["features"])
    meta = pd.DataFrame.from_records(records, columns=list(_META))
    return _FileRead(None, meta, pd.DataFrame.from_records(features), tuple(problems))


def _well_formed(table: pa.Table) -> bool:
    """True when an Arrow-parsed file has every key, valid decisions and no missing essentials."""
    names = set(table.column_names)
    if any(k not in names for k in LOG_KEYS) or not pa.types.is_struct(table["features"].type):
        return False
    if not pa.types.is_floating(table[SCORE].type) and not pa.types.is_integer(table[SCORE].type):
        return False
    if any(table[c].null_count for c in ("time", "run_id", SCORE)):
        return False
    return bool(pc.all(pc.is_in(table[DECISION], pa.array(DECISIONS))).as_py())


def _read_file(path: Path) -> _FileRead:
    """One day's file: Arrow's JSON reader when every line is well formed, else line by line
    (a compacted Parquet copy holds well-formed lines only)."""
    data = None if path.suffix == ".parquet" else path.read_bytes()
    table = pq.read_table(path) if data is None else well_formed_table(data)
    if table is not None:
        kept = [c for c in (*_META, "features") if c in table.column_names]
        return _FileRead(table.select(kept), None, None, ())
    return read_lines(path, data or b"")


def well_formed_table(data: bytes) -> pa.Table | None:
    """A JSONL day file as one Arrow table when every line is well formed, else None."""
    try:
        table = pa_json.read_json(pa.BufferReader(data))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table if table.num_rows and _well_formed(table) else None


def _to_frames(table: pa.Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Meta columns and the flattened features struct of Arrow-read files, as pandas frames."""
    meta = table.select([c for c in _META if c in table.column_names]).to_pandas()
    struct = table["features"].combine_chunks()
    names = [struct.type.field(i).name for i in range(struct.type.num_fields)]
    features = pa.Table.from_arrays(struct.flatten(), names=names).to_pandas()
    return meta, features


def _combine(reads: list[_FileRead]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All files' rows in day order: Arrow tables are concatenated before one conversion."""
    metas, features, batch = [], [], []

    def flush() -> None:
        if not batch:
            return
        try:
            frames = [_to_frames(pa.concat_tables(batch, promote_options="permissive"))]
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            frames = [_to_frames(t) for t in batch]
        metas.extend(m for m, _ in frames)
        features.extend(f for _, f in frames)
        batch.clear()

    for read in reads:
        if read.table is not None:
            batch.append(read.table)
            continue
        flush()
        metas.append(read.meta)
        features.append(read.features)
    flush()
    return pd.concat(metas, ignore_index=True), pd.concat(features, ignore_index=True)


def missing_days(days: list[dt.date]) -> list[dt.date]:
    """Days between the first and the last file that have no file."""
    if not days:
        return []
    present = set(days)
    span = (days[-1] - days[0]).days
    return [d for d in (days[0] + dt.timedelta(n) for n in range(span + 1)) if d not in present]


def read_notes(problems: list[str], missing: list[dt.date], bad_times: int) -> list[str]:
    """Plain sentences about what could not be read."""
    notes = []
    if problems:
        shown = ", ".join(problems[:_SHOWN_PROBLEMS])
        more = (
            f" and {len(problems) - _SHOWN_PROBLEMS} more"
            if len(problems) > _SHOWN_PROBLEMS
            else ""
        )
        notes.append(
            f"Skipped {len(problems)} corrupt or truncated line(s) of the decision log "
            f"({shown}{more}); every other line was read."
        )
    if bad_times:
        notes.append(f"Skipped {bad_times} line(s) whose time is not an ISO-8601 timestamp.")
    if missing:
        listed = ", ".join(d.isoformat() for d in missing[:_SHOWN_PROBLEMS])
        more = (
            f" and {len(missing) - _SHOWN_PROBLEMS} more" if len(missing) > _SHOWN_PROBLEMS else ""
        )
        notes.append(
            f"{len(missing)} day(s) have no log file ({listed}{more}): the service was down, "
            "or the files were lost; those days count as no decisions."
        )
    return notes


def log_folders(folder: Path | Sequence[Path]) -> list[Path]:
    """One folder or several, as a list of paths."""
    return [Path(folder)] if isinstance(folder, str | Path) else [Path(f) for f in folder]


def chosen_day_files(
    folders: Sequence[Path], since: dt.date | None = None
) -> list[tuple[DayFile, Path]]:
    """The day files to read (from `since` on); none at all is an error naming the folders."""
    found = [(i, p) for i, p in day_files(folders) if since is None or i.day >= since]
    if not found:
        where = ", ".join(f"'{f}'" for f in folders)
        raise DataValidationError(
            f"The decision log folder {where} holds no decisions-YYYY-MM-DD.jsonl files.",
            fix="Check DECISION_LOG, or wait until the scoring service has answered requests.",
        )
    return found


def no_readable_decision(files: int, folders: Sequence[Path], problems: int) -> DataValidationError:
    """The error for log files that hold no readable decision."""
    where = ", ".join(f"'{f}'" for f in folders)
    return DataValidationError(
        f"No readable decision in the {files} log file(s) under {where} "
        f"({problems} corrupt line(s)).",
        fix="Check that the files follow the decision log contract (one JSON object a line).",
    )


def read_decision_log(folder: Path | Sequence[Path], since: dt.date | None = None) -> RecentData:
    """Every decision in the log folder(s) (from `since` on), with notes on what was skipped."""
    folders = log_folders(folder)
    found = chosen_day_files(folders, since)
    files = {i.day: p for i, p in found}
    reads = [_read_file(path) for _, path in found]
    problems = [p for r in reads for p in r.problems]
    meta, features = _combine(reads)
    if meta.empty:
        raise no_readable_decision(len(found), folders, len(problems))
    meta["time"] = pd.to_datetime(meta["time"], utc=True, format="ISO8601", errors="coerce")
    bad_time = meta["time"].isna().to_numpy()
    if bad_time.any():
        meta, features = meta.loc[~bad_time], features.loc[~bad_time]
    meta[SCORE] = meta[SCORE].astype(float)
    meta = meta.reset_index(drop=True)
    inline = meta.pop("reasons") if "reasons" in meta else pd.Series([[]] * len(meta), dtype=object)
    reasons = joined_reasons(meta, inline, read_reason_records(reasons_files(folders, since)))
    notes = read_notes(problems, missing_days(list(files)), int(np.sum(bad_time)))
    pending = missing_reasons_note(meta, reasons)
    return RecentData(
        decisions=meta,
        features=features.reset_index(drop=True),
        source=f"decision log {', '.join(map(str, folders))} ({len(found)} day file(s))",
        notes=tuple(notes) + ((pending,) if pending else ()),
        reasons=reasons,
    )
