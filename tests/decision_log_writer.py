"""Test helper: write decision logs in the contract's format (one JSONL file per UTC day)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from core.monitoring.decision_log import LOG_KEYS


def _json_value(value: object) -> object:
    """A feature value as JSON: None for missing, plain numbers and strings otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value if isinstance(value, int | float | str) else str(value)


def decision_records(
    features: pd.DataFrame,
    scores: np.ndarray,
    times: pd.Series,
    run_id: str | list[str],
    threshold: float = 0.4542,
    applicant_ids: list[str] | None = None,
) -> list[dict[str, object]]:
    """One contract record per row (request ids req-<n>)."""
    runs = [run_id] * len(features) if isinstance(run_id, str) else run_id
    stamps = pd.to_datetime(times, utc=True)
    records = []
    for i, (row, score) in enumerate(zip(features.to_dict(orient="records"), scores, strict=True)):
        records.append(
            {
                "time": stamps.iloc[i].isoformat(timespec="microseconds"),
                "request_id": f"req-{i}",
                "run_id": runs[i],
                "threshold": threshold,
                "applicant_id": applicant_ids[i] if applicant_ids else None,
                "probability_of_default": float(score),
                "decision": "approve" if score < threshold else "decline",
                "reasons": [],
                "warnings": [],
                "features": {k: _json_value(v) for k, v in row.items()},
            }
        )
    assert all(tuple(r) == LOG_KEYS for r in records[:1])
    return records


def write_decision_log(folder: Path, records: list[dict[str, object]]) -> dict[str, Path]:
    """Write records into decisions-YYYY-MM-DD.jsonl files by their UTC day."""
    folder.mkdir(parents=True, exist_ok=True)
    by_day: dict[str, list[str]] = {}
    for record in records:
        by_day.setdefault(str(record["time"])[:10], []).append(json.dumps(record))
    paths = {}
    for day, lines in by_day.items():
        path = folder / f"decisions-{day}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths[day] = path
    return paths


def write_scored_log(
    folder: Path,
    tracking_uri: str,
    run_id: str,
    *,
    n_rows: int = 900,
    months: int = 3,
    drift: float = 0.0,
    seed: int = 2026,
    frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Applications scored by the run's real model, written as a decision log.

    Simulated months by default, or the given frame (with an `application_date` column).
    Returns the applications (with their `default` outcomes and applicant ids).
    """
    from core.data.synthetic import make_recent_applications
    from core.evaluation.eval_data import score_frame
    from core.store.access import load_model

    model = load_model(tracking_uri, run_id)
    if frame is None:
        frame = make_recent_applications(n_rows=n_rows, seed=seed, months=months, max_drift=drift)
    scores, _unseen, _missing = score_frame(model, frame)
    features = frame[list(model.feature_name_)]
    records = decision_records(
        features, scores, frame["application_date"], run_id,
        applicant_ids=frame["applicant_id"].tolist(),
    )  # fmt: skip
    write_decision_log(folder, records)
    return frame
