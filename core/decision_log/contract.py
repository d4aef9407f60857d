"""The decision-log contract: file names by UTC day, and the keys and values of one line.

Reasons computed after the answer: a decision line whose `reasons` is null (a decline answered
by /invocations) has its reason codes in a REASONS file of the same day and writer
(`reasons-YYYY-MM-DD[.w<N>].jsonl`), one line per request with the REASON_KEYS: the request's
time and request_id (the join key, exactly as on its decision lines), run_id, `rows` (positions of
the request's decisions, in the order they were logged) and `reasons` (feature names per row).
Logs written before reasons files existed have no null reasons and read as before.

A log folder holds `decisions-YYYY-MM-DD.jsonl` files; each line is one JSON object with the
keys in LOG_KEYS, in that order: time (ISO-8601, UTC), request_id, run_id, threshold,
applicant_id (or null), probability_of_default, decision (approve | decline), reasons (feature
names), warnings (sentences), features (feature name -> value, null when missing); then the
OPTIONAL_KEYS when known: client_id (the OAuth2 client of the request's bearer JWT). Readers
need only LOG_KEYS.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]

import orjson

FILE_PREFIX = "decisions-"
FILE_SUFFIX = ".jsonl"
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
OPTIONAL_KEYS = ("client_id",)
META_COLUMNS = ("time", "request_id", "run_id", "threshold", "applicant_id")
SCORE = "probability_of_default"
DECISION = "decision"
APPROVE = "approve"
DECLINE = "decline"
DECISIONS = (APPROVE, DECLINE)


def log_file_name(day: str | dt.date, writer: str = "", prefix: str = FILE_PREFIX) -> str:
    """The file name for a UTC day (a date, or YYYY-MM-DD) and writer ('' or '.w<N>')."""
    text = day.isoformat() if isinstance(day, dt.date) else day
    return f"{prefix}{text}{writer}{FILE_SUFFIX}"


def writer_suffix(worker: int | None) -> str:
    """The file-name part of a service worker's own log files ('' for a single writer)."""
    return "" if worker is None else f".w{worker}"


def log_day(name: str) -> dt.date | None:
    """The UTC day a file name is the log of, or None for any other file."""
    match = LOG_FILE.match(name)
    return dt.date.fromisoformat(match.group(1)) if match else None


def time_stamp(time: dt.datetime) -> str:
    """A decision's time as the contract writes it (ISO-8601 to the microsecond)."""
    return time.isoformat(timespec="microseconds")


def json_value(value: object) -> object:
    """A feature value as JSON: None for missing, plain numbers and strings otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()  # type: ignore[union-attr]
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, bool | int | float | str):
        return value
    return None if str(value) in ("<NA>", "NaT") else str(value)


def decision_record(
    *,
    time: str,
    request_id: str,
    run_id: str,
    threshold: float,
    applicant_id: str | None,
    probability: float,
    decision: str,
    reasons: Sequence[str] | None = (),
    warnings: Sequence[str] = (),
    features: Mapping[str, object],
    client_id: str | None = None,
) -> dict[str, object]:
    """One decision as the contract's record, keys in LOG_KEYS order, then client_id when
    the request came with a client's JWT (reasons None: in the day's reasons file)."""
    record: dict[str, object] = {
        "time": time,
        "request_id": request_id,
        "run_id": run_id,
        "threshold": float(threshold),
        "applicant_id": applicant_id,
        "probability_of_default": float(probability),
        "decision": decision,
        "reasons": None if reasons is None else list(reasons),
        "warnings": list(warnings),
        "features": dict(features),
    }
    if client_id:
        record["client_id"] = client_id
    return record


def _line_encoder() -> Callable[[object, int], Iterable[str]] | None:
    """json's own C encoder with json.dumps(ensure_ascii=False, allow_nan=False)'s settings,
    built once (json.dumps builds it on every call with these settings), or None without it."""
    if c_make_encoder is None:
        return None
    default = json.JSONEncoder().default
    return c_make_encoder(None, default, encode_basestring, None, ": ", ", ", False, False, False)


_ENCODE = _line_encoder()


def record_line(record: Mapping[str, object]) -> str:
    """One record as its log line (UTF-8 JSON, no NaN, newline-terminated)."""
    if _ENCODE is None:
        return json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
    return "".join(_ENCODE(record, 0)) + "\n"


def record_bytes(record: Mapping[str, object]) -> bytes:
    """One record as its log line in UTF-8, by orjson (about 3.5x faster than json): compact,
    the same values and key order; where orjson refuses a value (an integer beyond 64 bits, a
    lone surrogate), record_line's, whose encoding then raises as before."""
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return record_line(record).encode("utf-8")


REASONS_PREFIX = "reasons-"
REASONS_FILE = re.compile(r"^reasons-(\d{4}-\d{2}-\d{2})(\.w\d+)?\.jsonl$")
REASON_KEYS = ("time", "request_id", "run_id", "rows", "reasons")


def reasons_record(
    *,
    time: str,
    request_id: str,
    run_id: str,
    rows: Sequence[int],
    reasons: Sequence[Sequence[str]],
) -> dict[str, object]:
    """The reason codes of some of one request's decisions, computed after its answer."""
    return {
        "time": time,
        "request_id": request_id,
        "run_id": run_id,
        "rows": [int(r) for r in rows],
        "reasons": [list(r) for r in reasons],
    }


# Several service workers each write their own day files (decisions-YYYY-MM-DD.w<N>.jsonl), and
# `python -m core compact-log` turns a day file into Parquet beside it (same name, .parquet).
DAY_FILE = re.compile(r"^decisions-(\d{4}-\d{2}-\d{2})(\.w\d+)?\.(jsonl|parquet)$")
PARQUET_SUFFIX = ".parquet"


@dataclass(frozen=True)
class DayFile:
    """A log file's UTC day, its writer ('' for a single writer) and format."""

    day: dt.date
    writer: str
    parquet: bool

    @property
    def stem(self) -> str:
        """The name without its format: one (day, writer) log, as JSONL and/or Parquet."""
        return f"{FILE_PREFIX}{self.day.isoformat()}{self.writer}"


def day_file(name: str) -> DayFile | None:
    """What a file name says about the log it holds, None for any other file."""
    match = DAY_FILE.match(name)
    if not match:
        return None
    day, writer, suffix = match.groups()
    return DayFile(dt.date.fromisoformat(day), writer or "", suffix == "parquet")
