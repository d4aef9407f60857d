"""Exact SHAP for concurrent requests in one call, off the event loop.

/predict needs SHAP on its declines, /explain on every row. Each request hands its rows here;
one call at a time runs on a worker thread (LightGBM releases the GIL, so the event loop keeps
parsing and scoring the next requests meanwhile), and the requests that arrived while it ran
are computed together in the next call: under load a call covers many requests (the tabled
SHAP of core.scoring.fast_shap, or for a model it cannot table the grouped TreeSHAP path of
core.scoring.grouped_shap from SERVICE_GROUPING_MIN_ROWS rows, which computes each tree once
per distinct path pattern). The numba kernel and LightGBM release the GIL, so the event loop
keeps answering meanwhile. Each request gets exactly the numbers
`Scorer.score` gives for its rows. Requests holding different models (a hot swap) are
computed in separate calls.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np

from core.serving.model_groups import by_model
from core.serving.model_holder import ServedModel
from core.serving.scored_rows import (
    SERVICE_GROUPING_MIN_ROWS,
    Decided,
    Explained,
    explained_together,
)


@dataclass(frozen=True)
class _Pending:
    """One request's rows waiting for SHAP."""

    loaded: ServedModel
    rows: Decided
    at: np.ndarray
    future: asyncio.Future


def _compute(items: list[_Pending]) -> list[Explained]:
    """SHAP of every item, one call per model, in the items' order."""
    found: dict[int, Explained] = {}
    for group in by_model(items):
        loaded = group[0].loaded
        parts = [(item.rows, item.at) for item in group]
        results = explained_together(loaded.scorer, parts, loaded.book, SERVICE_GROUPING_MIN_ROWS)
        found.update(zip(map(id, group), results, strict=True))
    return [found[id(item)] for item in items]


class ExplainCoalescer:
    """Runs one SHAP call at a time on a worker thread; requests arriving meanwhile join the
    next call."""

    def __init__(self) -> None:
        """Nothing pending, nothing running."""
        self._pending: list[_Pending] = []
        self._running = False
        self.calls = 0
        self.largest_call = 0

    async def explain(self, loaded: ServedModel, rows: Decided, at: np.ndarray) -> Explained:
        """Exact SHAP and reason codes of the rows at positions `at` (computed with the
        rows of concurrent requests)."""
        if not len(at):
            return explained_together(loaded.scorer, [(rows, at)], loaded.book)[0]
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._pending.append(_Pending(loaded, rows, at, future))
        if not self._running:
            self._start(loop)
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Compute everything pending on a worker thread; start again when it is done."""
        items, self._pending = self._pending, []
        self._running = True
        self.calls += 1
        self.largest_call = max(self.largest_call, sum(len(item.at) for item in items))
        job = loop.run_in_executor(None, _compute, items)

        def settle(done: asyncio.Future) -> None:
            error = asyncio.CancelledError() if done.cancelled() else done.exception()
            results = None if error is not None else done.result()
            for k, item in enumerate(items):
                if item.future.done():
                    continue
                if results is None:
                    item.future.set_exception(error)  # type: ignore[arg-type]
                else:
                    item.future.set_result(results[k])
            self._running = False
            if self._pending:
                self._start(loop)

        job.add_done_callback(settle)
