"""Coalesce the scoring requests that arrive in the same event-loop turn into one Scorer call.

Under concurrent load most of a one-applicant request's cost is fixed per call (pandas
preparation, LightGBM's start-up), so requests that are ready together are scored with one
`Scorer.score` on one frame of their rows and the result is split back by position, as arrays
(Decided). A lone request is scored alone, one loop turn later. Requests holding different
models (during a hot swap) are never mixed, and a request that fails is retried alone so it
cannot fail the others.
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


def _score_alone(item: _Pending) -> None:
    """Score one request, handing its result or its error to its future."""
    try:
        result = decided_with(item.loaded, [item.columns])
    except Exception as exc:  # the handler re-raises it and answers 4xx/500
        if not item.future.done():
            item.future.set_exception(exc)
        return
    if not item.future.done():
        item.future.set_result(result)


def _score_group(items: list[_Pending]) -> None:
    """Score a group in one call and split the result; on failure, score each alone."""
    if len(items) == 1:
        _score_alone(items[0])
        return
    try:
        result = decided_with(items[0].loaded, [item.columns for item in items])
    except Exception:
        for item in items:
            _score_alone(item)
        return
    start = 0
    for item in items:
        stop = start + item.count
        if not item.future.done():
            item.future.set_result(result.rows(start, stop))
        start = stop


class ScoringBatcher:
    """Collects requests during a loop turn and scores them together on the next."""

    def __init__(self) -> None:
        """No request pending."""
        self._pending: list[_Pending] = []
        self._scheduled = False

    async def score(
        self, loaded: ServedModel, columns: dict[str, list[object]], count: int
    ) -> Decided:
        """The Scorer's probabilities and decisions for count applicants' validated columns
        with this model (scored with its neighbours in one frame)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._pending.append(_Pending(loaded, columns, count, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        """Score everything pending."""
        pending, self._pending, self._scheduled = self._pending, [], False
        for group in _groups(pending):
            _score_group(group)
