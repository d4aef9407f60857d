"""Join the reasons computed after the answer (reasons files) onto the decisions they explain.

A decision line with `reasons: null` has its reason codes in a reasons record of the same
folder (core.decision_log.contract REASONS_FILE), keyed by the request's time and request_id
and the decision's position within the request.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from core.decision_log.contract import DECISION, DECLINE, REASONS_FILE

_KEY = ["time", "request_id", "row"]


def reasons_files(folders: Sequence[Path], since: dt.date | None = None) -> list[Path]:
    """Every reasons file of the folders (from `since` on), by day."""
    found = []
    for folder in folders:
        for path in folder.iterdir() if folder.is_dir() else ():
            match = REASONS_FILE.match(path.name)
            if match and (since is None or dt.date.fromisoformat(match.group(1)) >= since):
                found.append((match.group(1), path))
    return [path for _, path in sorted(found)]


def read_reason_records(paths: Sequence[Path]) -> pd.DataFrame:
    """(time, request_id, row, reasons) of every well-formed reasons record."""
    rows: list[tuple[str, str, int, list[str]]] = []
    for path in paths:
        for line in path.read_bytes().split(b"\n"):
            try:
                record = json.loads(line) if line.strip() else None
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue  # a torn last line: its request's reasons count as missing
            if not isinstance(record, dict):
                continue
            positions, names = record.get("rows"), record.get("reasons")
            if not isinstance(positions, list) or not isinstance(names, list):
                continue
            for position, reasons in zip(positions, names, strict=False):
                rows.append((str(record.get("time")), str(record.get("request_id")), position,
                             [str(n) for n in reasons]))  # fmt: skip
    records = pd.DataFrame(rows, columns=[*_KEY, "reasons"])
    records["time"] = _utc(records["time"])
    return records


def _utc(times: pd.Series) -> pd.Series:
    """Times as UTC timestamps to the nanosecond (the reader's own conversion)."""
    stamps = pd.to_datetime(times, utc=True, format="ISO8601", errors="coerce")
    return stamps.astype("datetime64[ns, UTC]")


def joined_reasons(meta: pd.DataFrame, inline: pd.Series, records: pd.DataFrame) -> pd.Series:
    """Per decision, its reasons: on its line, else from a reasons record, else None."""
    reasons = inline.map(lambda r: None if r is None else [str(n) for n in r])
    pending = reasons.isna().to_numpy()
    if not pending.any() or records.empty:
        return reasons
    keys = pd.DataFrame({"time": _utc(meta["time"]), "request_id": meta["request_id"].astype(str)})
    keys["row"] = keys.groupby(["time", "request_id"], sort=False).cumcount()
    found = keys.loc[pending].merge(records.drop_duplicates(_KEY, keep="last"), on=_KEY, how="left")
    reasons.loc[pending] = found["reasons"].to_numpy()
    return reasons


def missing_reasons_note(meta: pd.DataFrame, reasons: pd.Series) -> str | None:
    """A sentence when some declines have no reasons yet (computed after the answer)."""
    missing = int(((meta[DECISION] == DECLINE) & reasons.isna()).sum())
    if not missing:
        return None
    return (
        f"{missing} decline(s) have no reason codes in the log yet: they are written shortly "
        "after the answer, and are lost only if the service was killed before writing them."
    )
