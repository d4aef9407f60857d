"""Compact past day files of the decision log to Parquet (about ten times smaller, read faster).

Each JSONL day file before a day becomes a Parquet file beside it (same name), written to a
temporary name and renamed. The Parquet's metadata records the JSONL's size, sha256 and row
count, and a `<name>.jsonl.sha256` file beside it keeps the sha256 for audit. The JSONL is kept
unless asked to delete it, and then only after the Parquet's row count is read back and equals
the JSONL's. A file with a corrupt line stays JSONL (the reader counts its skipped lines).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from core.decision_log.contract import PARQUET_SUFFIX, day_file
from core.decision_log.reader import (
    SOURCE_BYTES_KEY,
    compacted_current,
    log_files,
    well_formed_table,
)
from core.errors import DataValidationError


@dataclass(frozen=True)
class CompactedFile:
    """One day file turned into Parquet: its rows, the JSONL's sha256, whether it was deleted."""

    name: str
    rows: int
    sha256: str
    jsonl_bytes: int
    parquet_bytes: int
    deleted: bool


@dataclass(frozen=True)
class Compaction:
    """What a compaction did: the files compacted and those left as JSONL, with why."""

    compacted: tuple[CompactedFile, ...]
    left: tuple[str, ...]


def _lines(data: bytes) -> int:
    """Non-blank lines of a JSONL file."""
    return sum(1 for line in data.split(b"\n") if line.strip())


def _write(path: Path, target: Path, data: bytes) -> CompactedFile | None:
    """Write one day file's Parquet copy atomically; None when a line is not well formed."""
    table = well_formed_table(data)
    if table is None or table.num_rows != _lines(data):
        return None
    digest = hashlib.sha256(data).hexdigest()
    metadata = {
        **(table.schema.metadata or {}),
        SOURCE_BYTES_KEY: str(len(data)).encode(),
        b"decision_log.source_sha256": digest.encode(),
        b"decision_log.source_rows": str(table.num_rows).encode(),
    }
    temporary = target.with_name(f".{target.name}.tmp")
    pq.write_table(table.replace_schema_metadata(metadata), temporary, compression="zstd")
    os.replace(temporary, target)
    (path.parent / f"{path.name}.sha256").write_text(f"{digest}  {path.name}\n", "utf-8")
    return CompactedFile(path.name, table.num_rows, digest, len(data), target.stat().st_size, False)


def _delete_verified(path: Path, target: Path, done: CompactedFile) -> CompactedFile:
    """Delete the JSONL once the Parquet read back holds as many rows."""
    rows = pq.read_metadata(target).num_rows
    if rows != done.rows:
        raise DataValidationError(
            f"'{target.name}' holds {rows:,} rows but '{path.name}' {done.rows:,}; "
            "the JSONL was kept.",
            fix="Delete the Parquet file and compact again.",
        )
    path.unlink()
    return CompactedFile(**{**done.__dict__, "deleted": True})


def compact_log(folder: Path, before: dt.date, delete_jsonl: bool = False) -> Compaction:
    """Compact every JSONL day file of folder older than `before` (today's is still written)."""
    log_files(folder)  # a missing folder is named
    compacted, left = [], []
    for path in sorted(folder.iterdir()):
        info = day_file(path.name)
        if info is None or info.parquet or info.day >= before or not path.is_file():
            continue
        target = path.with_suffix(PARQUET_SUFFIX)
        if target.exists() and compacted_current(target, path) and not delete_jsonl:
            continue
        done = _write(path, target, path.read_bytes())
        if done is None:
            left.append(f"{path.name} (a corrupt or truncated line: kept as JSONL)")
            continue
        compacted.append(_delete_verified(path, target, done) if delete_jsonl else done)
    return Compaction(tuple(compacted), tuple(left))
