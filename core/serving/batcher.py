"""Coalesce concurrent scoring requests into one Scorer call, off the event loop.

Under concurrent load most of a one-applicant request's cost is fixed per call (preparation,
LightGBM's start-up), so requests that are ready together are scored in one call on one
matrix of their rows and the result is split back by position, as arrays (Decided). One call
at a time runs on a worker thread (LightGBM releases the GIL, so the event loop keeps parsing
and answering meanwhile); requests that arrive while it runs join the next call. A lone
request is scored alone. Requests holding different models (during a hot swap) are never
mixed, and a request that fails is retried alone so it cannot fail the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from core.scoring.scorer import SINGLE_THREAD_MAX_ROWS
from core.serving.model_groups import by_model
from core.serving.model_holder import ServedModel
from core.serving.scored_rows import Decided, ScoredRows, decided_columns

COALESCE_MAX_ROWS = SINGLE_THREAD_MAX_ROWS


@dataclass(frozen=True)
class _Pending:
    """One request waiting to be scored: its validated columns and applicant count."""

    loaded: ServedModel
    columns: dict[str, list[object]]
    count: int
    future: asyncio.Future


def score_with(loaded: ServedModel, frame: pd.DataFrame) -> ScoredRows:
    """The whole scoring path, with the manifest's threshold and the reason-code texts."""
    result = loaded.scorer.score(frame, loaded.threshold, reason_book=loaded.book)
    return ScoredRows.from_result(result)


def decided_with(loaded: ServedModel, parts: Sequence[dict[str, list[object]]]) -> Decided:
    """The Scorer's probabilities and decisions at the manifest's threshold of the validated
    columns of one or more requests (SHAP comes later, for the rows that need it:
    core.serving.explain_coalescer)."""
    return decided_columns(loaded.scorer, parts, loaded.threshold)


def _groups(pending: list[_Pending]) -> list[list[_Pending]]:
    """Requests grouped by model, then cut so a group holds at most COALESCE_MAX_ROWS rows."""
    groups: list[list[_Pending]] = []
    for items in by_model(pending):
        current: list[_Pending] = []
        rows = 0
        for item in items:
            if current and rows + item.count > COALESCE_MAX_ROWS:
                groups.append(current)
                current, rows = [], 0
            current.append(item)
            rows += item.count
        groups.append(current)
    return groups


def _score_alone(item: _Pending) -> Decided | Exception:
    """One request's result, or its error (the handler re-raises it and answers 4xx/500)."""
    try:
        return decided_with(item.loaded, [item.columns])
    except Exception as exc:
        return exc


def _score_group(items: list[_Pending]) -> list[Decided | Exception]:
    """A group's results from one call, split by request; on failure, each request alone."""
    if len(items) == 1:
        return [_score_alone(items[0])]
    try:
        result = decided_with(items[0].loaded, [item.columns for item in items])
    except Exception:
        return [_score_alone(item) for item in items]
    parts: list[Decided | Exception] = []
    start = 0
    for item in items:
        parts.append(result.rows(start, start + item.count))
        start += item.count
    return parts


def _score_all(pending: list[_Pending]) -> list[tuple[_Pending, Decided | Exception]]:
    """Every pending request with its result or error (run on a worker thread)."""
    return [
        pair for group in _groups(pending) for pair in zip(group, _score_group(group), strict=True)
    ]


class ScoringBatcher:
    """Scores pending requests together, one call at a time on a worker thread; requests that
    arrive meanwhile join the next call."""

    def __init__(self) -> None:
        """No request pending, none running."""
        self._pending: list[_Pending] = []
        self._running = False

    async def score(
        self, loaded: ServedModel, columns: dict[str, list[object]], count: int
    ) -> Decided:
        """The Scorer's probabilities and decisions for count applicants' validated columns
        with this model (scored with its neighbours in one frame)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._pending.append(_Pending(loaded, columns, count, future))
        if not self._running:
            self._running = True
            loop.call_soon(self._start, loop)
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Score everything pending off the loop; settle the futures and go again when done."""
        pending, self._pending = self._pending, []
        job = loop.run_in_executor(None, _score_all, pending)

        def settle(done: asyncio.Future) -> None:
            error = asyncio.CancelledError() if done.cancelled() else done.exception()
            pairs = [(item, error) for item in pending] if error else done.result()
            for item, result in pairs:
                if item.future.done():
                    continue
                if isinstance(result, BaseException):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)
            if self._pending:
                self._start(loop)
            else:
                self._running = False

        job.add_done_callback(settle)
