"""Batch scoring: read an uploaded applicants file safely and build the downloadable results."""

from __future__ import annotations

import pandas as pd

from core.data.tables import read_table_bytes
from core.scoring.calibrator import CALIBRATED_PD, RISK_SCORE
from core.scoring.scorer import ScoringResult

MAX_BATCH_ROWS = 100_000
MAX_BATCH_BYTES = 150 * 1024 * 1024
SCORE_COLUMNS = {RISK_SCORE: "risk_score", CALIBRATED_PD: "probability_of_default"}


def read_applicants_csv(
    data: bytes, name: str = "upload", max_rows: int = MAX_BATCH_ROWS
) -> pd.DataFrame:
    """Parse an uploaded applicants file (CSV or Parquet) within the batch size limits."""
    return read_table_bytes(name, data, max_rows=max_rows, max_bytes=MAX_BATCH_BYTES)


def batch_table(
    applicants: pd.DataFrame, result: ScoringResult, id_columns: list[str] | None = None
) -> pd.DataFrame:
    """Results to download: ids, score, decision, distance to threshold, top reasons.

    The score column is named for its scale: `risk_score`, or `probability_of_default` for a
    calibrated run.
    """
    keep = [c for c in (id_columns or []) if c in applicants.columns]
    table = applicants.loc[:, keep].copy()
    table[SCORE_COLUMNS[result.scale]] = result.scores["probability"].round(6)
    table["decision"] = result.scores["decision"]
    table["distance_to_threshold"] = result.scores["distance_to_threshold"].round(6)
    table["threshold"] = result.threshold
    for column in result.reasons.columns:
        table[column] = result.reasons[column]
    return table.reset_index(drop=True)
