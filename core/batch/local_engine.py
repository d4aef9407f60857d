"""The local engine: batches scored by worker processes, each loading the model once itself;
each batch is written as one Parquet part file into the job's staging folder."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.batch.model import ModelFolder
from core.batch.rows import Explain, score_rows
from core.batch.worker import worker_model
from core.scoring.scorer import DECLINE
from core.serving.model_holder import ServedModel

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Batch:
    """One slice of the input and where its output goes."""

    first_row: int
    frame: pd.DataFrame
    sample: np.ndarray
    out_file: Path


@dataclass(frozen=True)
class BatchDone:
    """What a scored batch reports back: rows, declines and its output rows of the sample."""

    rows: int
    declines: int
    sample: pd.DataFrame


def score_batch(
    served: ServedModel, model: ModelFolder, batch: Batch, explain: Explain, id_column: str | None
) -> BatchDone:
    """Score one batch with a loaded model and write its part file."""
    out = score_rows(served, model.promoted, batch.frame, explain, id_column, batch.first_row)
    out.to_parquet(batch.out_file, index=False)
    declines = int((out["decision"] == DECLINE).sum())
    return BatchDone(len(out), declines, out.iloc[batch.sample].reset_index(drop=True))


def _in_worker(
    model: ModelFolder, batch: Batch, explain: Explain, id_column: str | None
) -> BatchDone:
    """A worker process's job: its own model (loaded once), then the batch."""
    return score_batch(worker_model(model), model, batch, explain, id_column)


def batches(
    frame: pd.DataFrame, batch_rows: int, sample: np.ndarray, folder: Path
) -> Iterator[Batch]:
    """The input cut into batches of batch_rows, each with its sampled positions."""
    for index, start in enumerate(range(0, len(frame), batch_rows)):
        stop = min(start + batch_rows, len(frame))
        inside = sample[(sample >= start) & (sample < stop)] - start
        part = folder / f"part-{index:05d}.parquet"
        yield Batch(start, frame.iloc[start:stop], inside, part)


@contextlib.contextmanager
def _one_thread_each() -> Iterator[None]:
    """Worker processes start with one OpenMP thread each (the processes share the cores)."""
    previous = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = previous


def run_local(
    served: ServedModel,
    model: ModelFolder,
    jobs: list[Batch],
    explain: Explain,
    id_column: str | None,
    workers: int,
    on_progress: Progress | None = None,
) -> list[BatchDone]:
    """Score every batch: in this process with one worker, else in `workers` spawned processes
    (at most two batches in flight per worker); results in batch order."""
    total = sum(len(b.frame) for b in jobs)
    done_rows = 0
    if workers <= 1:
        results = []
        for batch in jobs:
            results.append(score_batch(served, model, batch, explain, id_column))
            done_rows += results[-1].rows
            if on_progress:
                on_progress(done_rows, total)
        return results
    context = multiprocessing.get_context("spawn")
    results_by_index: dict[int, BatchDone] = {}
    with _one_thread_each(), ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: dict[Future, int] = {}
        queue = list(enumerate(jobs))
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                index, batch = queue.pop(0)
                pending[pool.submit(_in_worker, model, batch, explain, id_column)] = index
            finished = next(iter(_first_done(pending)))
            index = pending.pop(finished)
            try:
                results_by_index[index] = finished.result()
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            done_rows += results_by_index[index].rows
            if on_progress:
                on_progress(done_rows, total)
    return [results_by_index[i] for i in range(len(jobs))]


def _first_done(pending: dict[Future, int]) -> set[Future]:
    """The futures finished first (waits for at least one)."""
    done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
    return done
