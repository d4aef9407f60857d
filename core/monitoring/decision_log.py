"""Read the scoring service's decision log (one JSONL file per UTC day) into columns.

Contract: files `decisions-YYYY-MM-DD.jsonl`, one JSON object per line with the keys in
LOG_KEYS; "features" maps feature name -> value (null when missing). Corrupt or truncated
lines are skipped and counted, and days with no file between the first and last are listed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

from core.errors import DataValidationError

LOG_FILE = re.compile(r"^decisions-(\d{4}-\d{2}-\d{2})\.jsonl$")
LOG_KEYS = (
    "time",
    "request_id",
    "run_id",
    "threshold",
    "applicant_id",
    "probability_of_default",
    "decision",
    "reasons",
    "warnings",
    "features",
)
META_COLUMNS = ("time", "request_id", "run_id", "threshold", "applicant_id")
SCORE = "probability_of_default"
DECISION = "decision"
DECISIONS = ("approve", "decline")
_SHOWN_PROBLEMS = 5


@dataclass(frozen=True, eq=False)
class RecentData:
    """Recent decisions (time, run_id, score, decision, ids, optional outcome) and their features.

    Features are a separate frame on the same index, so a feature may have any name.
    """

    decisions: pd.DataFrame
    features: pd.DataFrame
    source: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _FileRead:
    """One day's file: its rows, and the lines that could not be read."""

    meta: pd.DataFrame
    features: pd.DataFrame
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
        match = LOG_FILE.match(path.name)
        if match and path.is_file():
            found[dt.date.fromisoformat(match.group(1))] = path
    return dict(sorted(found.items()))


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


def _read_lines(path: Path, data: bytes) -> _FileRead:
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
        records.append({k: record[k] for k in (*META_COLUMNS, SCORE, DECISION)})
        features.append(record["features"])
    return _FileRead(
        pd.DataFrame.from_records(records), pd.DataFrame.from_records(features), tuple(problems)
    )


def _read_fast(data: bytes) -> _FileRead | None:
    """The whole file through Arrow's JSON reader, or None when any line needs a closer look."""
    try:
        table = pa_json.read_json(pa.BufferReader(data))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    names = set(table.column_names)
    if any(k not in names for k in LOG_KEYS) or not pa.types.is_struct(table["features"].type):
        return None
    meta = table.select([*META_COLUMNS, SCORE, DECISION]).to_pandas()
    if not pd.api.types.is_numeric_dtype(meta[SCORE]) or not meta[DECISION].isin(DECISIONS).all():
        return None
    if meta[["time", "run_id", SCORE]].isna().any().any():
        return None
    struct = table["features"].combine_chunks()
    features = pd.DataFrame(
        {
            struct.type.field(i).name: struct.field(i).to_pandas()
            for i in range(struct.type.num_fields)
        }
    )
    return _FileRead(meta, features, ())


def _read_file(path: Path) -> _FileRead:
    """One day's file: the fast path when every line is well formed, else line by line."""
    data = path.read_bytes()
    return _read_fast(data) or _read_lines(path, data)


def _missing_days(days: list[dt.date]) -> list[dt.date]:
    """Days between the first and the last file that have no file."""
    if not days:
        return []
    present = set(days)
    span = (days[-1] - days[0]).days
    return [d for d in (days[0] + dt.timedelta(n) for n in range(span + 1)) if d not in present]


def _notes(files: int, problems: list[str], missing: list[dt.date], bad_times: int) -> list[str]:
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


def read_decision_log(folder: Path, since: dt.date | None = None) -> RecentData:
    """Every decision in the log folder (from `since` on), with notes on what was skipped."""
    files = {d: p for d, p in log_files(folder).items() if since is None or d >= since}
    if not files:
        raise DataValidationError(
            f"The decision log folder '{folder}' holds no decisions-YYYY-MM-DD.jsonl files.",
            fix="Check DECISION_LOG, or wait until the scoring service has answered requests.",
        )
    reads = [_read_file(path) for path in files.values()]
    problems = [p for r in reads for p in r.problems]
    meta = pd.concat([r.meta for r in reads], ignore_index=True)
    features = pd.concat([r.features for r in reads], ignore_index=True)
    if meta.empty:
        raise DataValidationError(
            f"No readable decision in the {len(files)} log file(s) under '{folder}' "
            f"({len(problems)} corrupt line(s)).",
            fix="Check that the files follow the decision log contract (one JSON object a line).",
        )
    meta["time"] = pd.to_datetime(meta["time"], utc=True, format="ISO8601", errors="coerce")
    bad_time = meta["time"].isna().to_numpy()
    if bad_time.any():
        meta, features = meta.loc[~bad_time], features.loc[~bad_time]
    meta[SCORE] = meta[SCORE].astype(float)
    notes = _notes(len(files), problems, _missing_days(list(files)), int(np.sum(bad_time)))
    return RecentData(
        decisions=meta.reset_index(drop=True),
        features=features.reset_index(drop=True),
        source=f"decision log {folder} ({len(files)} day file(s))",
        notes=tuple(notes),
    )
