"""Batch scoring: read an uploaded applicants file safely and build the downloadable results."""

from __future__ import annotations

import io

import pandas as pd

from core.errors import DataValidationError
from core.scoring.scorer import ScoringResult

MAX_BATCH_ROWS = 100_000
MAX_BATCH_BYTES = 150 * 1024 * 1024


def read_applicants_csv(
    data: bytes, name: str = "upload", max_rows: int = MAX_BATCH_ROWS
) -> pd.DataFrame:
    """Parse an uploaded CSV of applicants, refusing empty, unreadable or too large files."""
    if not data or not data.strip():
        raise DataValidationError(f"'{name}' is empty.", fix="Upload a CSV with a header and rows.")
    if len(data) > MAX_BATCH_BYTES:
        raise DataValidationError(
            f"'{name}' is {len(data) / 1e6:.0f} MB; the page scores files up to "
            f"{MAX_BATCH_BYTES / 1e6:.0f} MB.",
            fix=f"Split it into files of at most {max_rows:,} rows.",
        )
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - 1
    if lines > max_rows:
        raise DataValidationError(
            f"'{name}' has about {lines:,} rows; the page scores at most {max_rows:,} at a time.",
            fix=f"Split it into files of at most {max_rows:,} rows and score them one by one.",
        )
    try:
        frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataValidationError(
            f"'{name}' could not be read as CSV ({str(exc).splitlines()[0][:160]}).",
            fix="Save it as comma-separated UTF-8 text with one header row.",
        ) from exc
    if frame.empty:
        raise DataValidationError(
            f"'{name}' has a header but no rows.", fix="Add at least one applicant row."
        )
    if len(frame) > max_rows:
        raise DataValidationError(
            f"'{name}' has {len(frame):,} rows; the page scores at most {max_rows:,} at a time.",
            fix=f"Split it into files of at most {max_rows:,} rows.",
        )
    return frame


def batch_table(
    applicants: pd.DataFrame, result: ScoringResult, id_columns: list[str] | None = None
) -> pd.DataFrame:
    """Results to download: ids, probability, decision, distance to threshold, top reasons."""
    keep = [c for c in (id_columns or []) if c in applicants.columns]
    table = applicants.loc[:, keep].copy()
    table["probability_of_default"] = result.scores["probability"].round(6)
    table["decision"] = result.scores["decision"]
    table["distance_to_threshold"] = result.scores["distance_to_threshold"].round(6)
    table["threshold"] = result.threshold
    for column in result.reasons.columns:
        table[column] = result.reasons[column]
    return table.reset_index(drop=True)
