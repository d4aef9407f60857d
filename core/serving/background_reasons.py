"""Reason codes for the log, computed after the answer, batched across requests.

/invocations answers probabilities only. Its declines still need reason codes in the decision
log (adverse-action notices, monitoring): the handler logs each decision with `reasons: null`
before answering, then hands the declined rows here. A worker thread takes everything queued
(waiting up to GATHER_SECONDS for GATHER_ROWS rows), scores SHAP for all of it in one call per
model (the grouped path, whose cost per row falls as the batch grows), picks the reasons and
writes one reasons record per request through the same decision log (core.decision_log.contract
REASONS_FILE). `close()` drains the queue before the decision log closes, so a graceful stop
(SIGTERM) loses none.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from core.decision_log.writer import DecisionLog, ReasonsBatch, take_all
from core.scoring.reason_codes import DEFAULT_REASON_COUNT, top_reason_features
from core.serving.model_groups import by_model
from core.serving.model_holder import ServedModel
from core.serving.scored_rows import SERVICE_GROUPING_MIN_ROWS, Decided

CLOSE_TIMEOUT_SECONDS = 60.0
# How long the worker waits for more declines before computing a batch smaller than GATHER_ROWS
# (the most the log's reasons lag the answer, plus that batch's SHAP). The grouped path's CPU
# per distinct row on the demo model: 0.31 ms at 2,000 rows, 0.14 ms at 16,000, 0.076 ms at
# 48,000 (3.5 s on 2 threads).
GATHER_SECONDS = 5.0
GATHER_ROWS = 48_000
_STOP = object()
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Pending:
    """The declined rows of one answered request, waiting for their reasons."""

    loaded: ServedModel
    time: datetime
    request_id: str
    rows: np.ndarray
    decided: Decided


def reason_names(loaded: ServedModel, prepared: pd.DataFrame) -> list[list[str]]:
    """Per row, the names of its adverse reasons (the Scorer's exact SHAP, policy applied)."""
    contributions = loaded.scorer.contributions(prepared, SERVICE_GROUPING_MIN_ROWS).values
    chosen = top_reason_features(contributions, DEFAULT_REASON_COUNT, loaded.book.withheld)
    return [[str(name) for name in row if name] for row in chosen.tolist()]


class BackgroundReasons:
    """A thread that writes the log's reason codes of answered requests, in batches."""

    def __init__(self, log: DecisionLog) -> None:
        """Write into log (which must outlive close())."""
        self.log = log
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._closed = False
        self.written = 0
        self.largest_batch = 0
        self._thread = threading.Thread(target=self._run, name="log-reasons", daemon=True)
        self._thread.start()

    def submit(self, loaded: ServedModel, time: datetime, request_id: str, rows: Decided) -> None:
        """Queue the declined rows of an answered request (nothing when none was declined)."""
        at = np.flatnonzero(rows.declined)
        if len(at) and not self._closed:
            self._queue.put(_Pending(loaded, time, request_id, at, rows))

    def _gather(self) -> tuple[list[_Pending], bool]:
        """Everything queued, waiting up to GATHER_SECONDS for GATHER_ROWS rows; True once the
        sentinel was taken."""
        items, stopping = take_all(self._queue, _STOP)
        rows = sum(len(item.rows) for item in items)
        deadline = time.monotonic() + GATHER_SECONDS
        while not stopping and rows < GATHER_ROWS:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                item = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if item is _STOP:
                stopping = True
            else:
                items.append(item)  # type: ignore[arg-type]
                rows += len(item.rows)  # type: ignore[union-attr]
        return items, stopping

    def _run(self) -> None:
        """Take everything queued, write its reasons; stop after the sentinel."""
        stopping = False
        while not stopping:
            items, stopping = self._gather()
            if items:
                try:
                    self._write(items)
                except Exception:  # a failure must not stop later batches
                    _LOG.exception("reason codes for %d request(s) were not logged", len(items))

    def _write(self, items: list[_Pending]) -> None:
        """Reasons of every queued request, one SHAP call per model, then wait for the log."""
        futures = []
        for group in by_model(items):
            parts = [item.decided.take(item.rows) for item in group]
            frame = pd.concat(parts, ignore_index=True)
            self.largest_batch = max(self.largest_batch, len(frame))
            names = reason_names(group[0].loaded, frame)
            start = 0
            for item in group:
                stop = start + len(item.rows)
                batch = ReasonsBatch(
                    item.time,
                    item.request_id,
                    item.loaded.identity.run_id,
                    item.rows.tolist(),
                    names[start:stop],
                )
                futures.append(self.log.append(batch))
                start = stop
        for future in futures:
            future.result()
            self.written += 1

    def close(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Write the reasons of everything queued so far and stop the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join(timeout)
