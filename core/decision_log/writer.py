"""Write the decision log: every decision the service makes, appended to one file per UTC day.

Writing never blocks a response: requests put a batch on a queue and a background thread
wakes every FLUSH_SECONDS, serialises what is queued, appends and flushes it (waking once per
request instead would fight the request thread for the GIL). `close()` drains the queue,
flushes and fsyncs; the service calls it on a graceful stop (SIGTERM included), so nothing is
lost. The file names and the line format are core.decision_log.contract, which monitoring
reads; `write_records` writes whole records at once (simulated logs, tests, benches).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

import pandas as pd

from core.decision_log.contract import (
    APPROVE,
    DECLINE,
    decision_record,
    json_value,
    log_file_name,
    record_line,
    time_stamp,
)

CLOSE_TIMEOUT_SECONDS = 30.0
FLUSH_SECONDS = 0.1
_LOG = logging.getLogger(__name__)


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
    reasons: list[list[str]]
    warnings: list[list[str]]
    features: list[dict[str, object]]
    client_id: str | None = None

    def lines(self) -> list[str]:
        """One JSON line per decision."""
        stamp = time_stamp(self.time)
        return [
            record_line(
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
            )
            for i, probability in enumerate(self.probabilities)
        ]


class DecisionLog:
    """Appends decision batches from a background thread; `close()` flushes everything."""

    def __init__(self, folder: Path) -> None:
        """Log into folder (created on the first write)."""
        self.folder = Path(folder)
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._handle: IO[str] | None = None
        self._day: str | None = None
        self.written = 0
        self.failed = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="decision-log", daemon=True)
        self._thread.start()

    def append(self, batch: DecisionBatch) -> None:
        """Queue a batch; returns at once."""
        self._queue.put(batch)

    def _file_for(self, day: str) -> IO[str]:
        """The open file of a UTC day (the previous day's file is closed)."""
        if self._day != day or self._handle is None:
            self._close_file()
            self.folder.mkdir(parents=True, exist_ok=True)
            self._handle = (self.folder / log_file_name(day)).open("a", encoding="utf-8")
            self._day = day
        return self._handle

    def _close_file(self) -> None:
        """Flush, fsync and close the current file."""
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None

    def _write(self, batch: DecisionBatch) -> None:
        """Append one batch to its day's file."""
        try:
            handle = self._file_for(batch.time.date().isoformat())
            handle.writelines(batch.lines())
            self.written += len(batch.probabilities)
        except (OSError, ValueError, TypeError) as exc:
            self.failed += len(batch.probabilities)
            self.last_error = str(exc)
            _LOG.error("decision log write failed: %s", exc)

    def _drain(self) -> None:
        """Write every queued batch, then flush."""
        wrote = False
        while True:
            try:
                batch = self._queue.get_nowait()
            except queue.Empty:
                break
            self._write(batch)  # type: ignore[arg-type]
            wrote = True
        if wrote and self._handle is not None:
            try:
                self._handle.flush()
            except OSError as exc:
                self.last_error = str(exc)
                _LOG.error("decision log flush failed: %s", exc)

    def _run(self) -> None:
        """Drain the queue every FLUSH_SECONDS until stopped, then drain once more and close."""
        while not self._stop.wait(FLUSH_SECONDS):
            self._drain()
        self._drain()
        try:
            self._close_file()
        except OSError as exc:
            self.last_error = str(exc)
            _LOG.error("decision log close failed: %s", exc)

    def close(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Write everything queued so far, fsync and stop the writer thread."""
        self._stop.set()
        self._thread.join(timeout)


def write_records(folder: Path, records: list[dict[str, object]]) -> dict[str, Path]:
    """Write whole contract records into their UTC days' files (replacing them); paths by day."""
    folder.mkdir(parents=True, exist_ok=True)
    by_day: dict[str, list[str]] = {}
    for record in records:
        by_day.setdefault(str(record["time"])[:10], []).append(record_line(record))
    paths = {}
    for day, lines in by_day.items():
        path = folder / log_file_name(day)
        with path.open("w", encoding="utf-8") as handle:
            handle.writelines(lines)
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
