"""Write the decision log: every decision the service makes, appended to one file per UTC day.

A request's decisions are written before its response is sent: the handler awaits
`commit(batch)`, which hands the batch to the writer thread and returns once the lines were
handed to the operating system (one `os.write` per file for everything queued meanwhile: a
group commit across concurrent requests). A SIGKILL then loses no answered decision; with
DECISION_LOG_FSYNC=batch each group is also fsynced (power loss). A batch that cannot be
written raises DecisionLogError, which the service answers 503. `close()` drains, fsyncs and
stops. The file names and the line format are core.decision_log.contract, which monitoring
reads; `write_records` writes whole records at once (simulated logs, tests, benches).
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import pandas as pd

from core.decision_log.contract import (
    APPROVE,
    DECLINE,
    FILE_PREFIX,
    REASONS_PREFIX,
    decision_record,
    json_value,
    log_file_name,
    reasons_record,
    record_bytes,
    time_stamp,
)
from core.errors import GovernanceError

CLOSE_TIMEOUT_SECONDS = 30.0
FsyncPolicy = Literal["batch", "off"]
_LOG = logging.getLogger(__name__)
_STOP = object()


class DecisionLogError(GovernanceError):
    """Decisions could not be written to the decision log (the service answers 503)."""


@dataclass(frozen=True)
class DecisionBatch:
    """The decisions of one request, as the request handler hands them over."""

    time: datetime
    request_id: str
    run_id: str
    threshold: float
    applicant_ids: list[str | None]
    probabilities: list[float]
    decisions: list[str]
    reasons: list[list[str] | None]
    warnings: list[list[str]]
    features: list[dict[str, object]]
    client_id: str | None = None
    prefix = FILE_PREFIX

    @property
    def count(self) -> int:
        """Decisions in the batch."""
        return len(self.probabilities)

    def records(self) -> list[dict[str, object]]:
        """One record per decision."""
        stamp = time_stamp(self.time)
        return [
            decision_record(
                time=stamp,
                request_id=self.request_id,
                run_id=self.run_id,
                threshold=self.threshold,
                applicant_id=self.applicant_ids[i],
                probability=probability,
                decision=self.decisions[i],
                reasons=self.reasons[i],
                warnings=self.warnings[i],
                features=self.features[i],
                client_id=self.client_id,
            )
            for i, probability in enumerate(self.probabilities)
        ]


@dataclass(frozen=True)
class ReasonsBatch:
    """Reason codes computed after a request was answered, for some of its decisions."""

    time: datetime
    request_id: str
    run_id: str
    rows: list[int]
    reasons: list[list[str]]
    prefix = REASONS_PREFIX

    @property
    def count(self) -> int:
        """Decisions whose reasons the batch holds."""
        return len(self.rows)

    def records(self) -> list[dict[str, object]]:
        """One record for the request."""
        record = reasons_record(
            time=time_stamp(self.time),
            request_id=self.request_id,
            run_id=self.run_id,
            rows=self.rows,
            reasons=self.reasons,
        )
        return [record]


Batch = DecisionBatch | ReasonsBatch


def take_all(source: queue.SimpleQueue, stop: object) -> tuple[list, bool]:
    """Wait for one item, then take everything queued meanwhile; True once `stop` was taken."""
    items: list = []
    stopping = False
    item = source.get()
    while True:
        if item is stop:
            stopping = True
        else:
            items.append(item)
        try:
            item = source.get_nowait()
        except queue.Empty:
            return items, stopping


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (a short write continues where it stopped)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class DecisionLog:
    """Writes decision batches from one thread, in groups; `commit` waits for its batch."""

    def __init__(self, folder: Path, fsync: FsyncPolicy = "off", writer: str = "") -> None:
        """Log into folder (created on the first write); fsync each group when "batch";
        writer: '' for a single writer, '.w<N>' for service worker N's own files."""
        self.folder = Path(folder)
        self.fsync = fsync
        self.writer = writer
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._fds: dict[str, int] = {}
        self._day: str | None = None
        self._closed = False
        self.written = 0
        self.failed = 0
        self.groups = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="decision-log", daemon=True)
        self._thread.start()

    def append(self, batch: Batch) -> Future:
        """Queue a batch; the future is done once it is written (or holds the error)."""
        future: Future = Future()
        if self._closed:
            future.set_exception(DecisionLogError("The decision log is closed."))
            return future
        self._queue.put((batch, future))
        return future

    async def commit(self, batch: Batch) -> None:
        """Return once batch is written to its day's file; DecisionLogError when it is not."""
        await asyncio.wrap_future(self.append(batch))

    def _fd_for(self, name: str, day: str) -> int:
        """The open descriptor of a day's file (the previous day's files are closed)."""
        if self._day != day:
            self._close_file()
            self._day = day
        fd = self._fds.get(name)
        if fd is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.folder / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._fds[name] = fd
        return fd

    def _close_file(self) -> None:
        """Fsync and close the open files."""
        fds, self._fds = self._fds, {}
        for fd in fds.values():
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _encode(self, batch: Batch) -> bytes:
        """A batch's lines as UTF-8 (DecisionLogError naming why they cannot be)."""
        try:
            return b"".join(record_bytes(record) for record in batch.records())
        except (ValueError, TypeError) as exc:  # UnicodeEncodeError is a ValueError
            raise DecisionLogError(
                f"The decisions cannot be written as JSON lines ({exc})."
            ) from exc

    def _write_group(self, items: list[tuple[Batch, Future]]) -> None:
        """Encode each batch, write each file's bytes with one os.write, then settle futures."""
        by_file: dict[tuple[str, str], list[tuple[bytes, Batch, Future]]] = {}
        for batch, future in items:
            try:
                data = self._encode(batch)
            except DecisionLogError as exc:
                self._settle(batch, future, exc)
                continue
            day = batch.time.date().isoformat()
            name = log_file_name(day, self.writer, batch.prefix)
            by_file.setdefault((name, day), []).append((data, batch, future))
        for (name, day), parts in by_file.items():
            error: Exception | None = None
            try:
                fd = self._fd_for(name, day)
                _write_all(fd, b"".join(data for data, _, _ in parts))
                if self.fsync == "batch":
                    os.fsync(fd)
            except OSError as exc:
                error = DecisionLogError(
                    f"The decision log '{self.folder}' cannot be written ({exc})."
                )
            for _, batch, future in parts:
                self._settle(batch, future, error)
        self.groups += 1

    def _settle(self, batch: Batch, future: Future, error: Exception | None) -> None:
        """Count the batch and complete its future."""
        if error is None:
            self.written += batch.count if batch.prefix == FILE_PREFIX else 0
            future.set_result(None)
            return
        self.failed += batch.count
        self.last_error = str(error)
        _LOG.error("decision log write failed: %s", error)
        future.set_exception(error)

    def _run(self) -> None:
        """Wait for a batch, write it with everything queued meanwhile; stop on the sentinel."""
        stopping = False
        while not stopping:
            items, stopping = take_all(self._queue, _STOP)
            if items:
                self._write_group(items)  # type: ignore[arg-type]
        self._refuse_late()
        try:
            self._close_file()
        except OSError as exc:
            self.last_error = str(exc)
            _LOG.error("decision log close failed: %s", exc)

    def _refuse_late(self) -> None:
        """Fail batches queued after the stop (they raced close): never leave one waiting."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                batch, future = item  # type: ignore[misc]
                self._settle(batch, future, DecisionLogError("The decision log is closed."))

    def close(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Write everything queued so far, fsync and stop the writer thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join(timeout)


def write_records(folder: Path, records: list[dict[str, object]]) -> dict[str, Path]:
    """Write whole contract records into their UTC days' files (replacing them); paths by day."""
    folder.mkdir(parents=True, exist_ok=True)
    by_day: dict[str, list[bytes]] = {}
    for record in records:
        by_day.setdefault(str(record["time"])[:10], []).append(record_bytes(record))
    paths = {}
    for day, lines in by_day.items():
        path = folder / log_file_name(day)
        path.write_bytes(b"".join(lines))
        paths[day] = path
    return paths


def records_from_frames(
    features: pd.DataFrame,
    scores: Sequence[float],
    times: pd.Series,
    run_id: str | Sequence[str],
    threshold: float,
    applicant_ids: Sequence[str | None] | None = None,
) -> list[dict[str, object]]:
    """Contract records of scored rows (request ids req-<n>), decided at the threshold."""
    runs = [run_id] * len(features) if isinstance(run_id, str) else list(run_id)
    stamps = [time_stamp(t) for t in pd.to_datetime(times, utc=True)]
    rows = features.to_dict(orient="records")
    return [
        decision_record(
            time=stamps[i],
            request_id=f"req-{i}",
            run_id=runs[i],
            threshold=threshold,
            applicant_id=applicant_ids[i] if applicant_ids is not None else None,
            probability=float(score),
            decision=DECLINE if score >= threshold else APPROVE,
            features={name: json_value(value) for name, value in row.items()},
        )
        for i, (row, score) in enumerate(zip(rows, scores, strict=True))
    ]
