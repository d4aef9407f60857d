"""Inputs and the service's own answers for the batch scoring tests (local and Spark)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.batch.options import BatchOptions
from core.batch.rows import REASON_COLUMNS, scored_rows_frame
from core.data.synthetic import DEMO_TARGET, make_synthetic_credit_data
from core.serving.batcher import score_with
from core.serving.model_holder import load_promoted
from core.settings import Settings


def applicants(rows: int, seed: int = 5) -> pd.DataFrame:
    """Synthetic applicants with their applicant_id (no outcome column)."""
    return make_synthetic_credit_data(n_rows=rows, seed=seed).drop(columns=[DEMO_TARGET])


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """The frame as one Parquet file."""
    frame.to_parquet(path, index=False)
    return path


def options(input_path: Path, output: Path, **overrides: object) -> BatchOptions:
    """Options for a small, one-process job."""
    settings = {"workers": 1, "batch_rows": 1_000, "check_sample": 200, **overrides}
    return BatchOptions(input=input_path, output=output, **settings)  # type: ignore[arg-type]


def service_answers(settings: Settings, frame: pd.DataFrame) -> pd.DataFrame:
    """The service's own scoring of the rows: load_promoted, then score_with."""
    served = load_promoted(
        settings.promotion_manifest, settings.reason_codes_file, settings.feature_policy_file
    )
    return scored_rows_frame(score_with(served, frame.reset_index(drop=True)))


def assert_same_as_service(output: pd.DataFrame, expected: pd.DataFrame, score: str) -> None:
    """Every row agrees with the service: scores to 1e-12, decisions and reasons exactly."""
    assert len(output) == len(expected)
    assert np.max(np.abs(output[score].to_numpy() - expected["score"].to_numpy())) <= 1e-12
    assert (
        np.max(np.abs(output["raw_score"].to_numpy() - expected["raw_score"].to_numpy())) <= 1e-12
    )
    assert (output["decision"].to_numpy() == expected["decision"].to_numpy()).all()
    for column in REASON_COLUMNS:
        assert output[column].fillna("").tolist() == expected[column].fillna("").tolist(), column


def assert_nothing_written(folder: Path, output: Path) -> None:
    """Neither the output nor a staging folder is left behind."""
    assert not output.exists()
    assert not [p for p in folder.iterdir() if ".staging-" in p.name]
