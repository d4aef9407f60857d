"""What a batch scoring job is asked to do, and what every engine hands back."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.batch.rows import Explain

ENGINES = ("local", "spark")
DEFAULT_BATCH_ROWS = 100_000
DEFAULT_CHECK_SAMPLE = 10_000


@dataclass(frozen=True)
class BatchOptions:
    """The command's options (see `python -m core score-batch --help`)."""

    input: Path
    output: Path
    engine: str = "local"
    workers: int = os.cpu_count() or 1
    batch_rows: int = DEFAULT_BATCH_ROWS
    explain: Explain = "declines"
    check_sample: int = DEFAULT_CHECK_SAMPLE
    run_id: str | None = None
    threshold: float | None = None
    spark_master: str | None = None


@dataclass(frozen=True)
class EngineResult:
    """Counts of a finished engine run, and the sampled input rows beside their output rows."""

    input_rows: int
    output_rows: int
    declines: int
    sample_inputs: pd.DataFrame
    sample_outputs: pd.DataFrame
