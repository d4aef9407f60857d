"""Test helper: a decision log of applications scored by a run's real model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.decision_log.writer import records_from_frames, write_records


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
    threshold: float = 0.4542,
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
    records = records_from_frames(
        frame[model.feature_names],
        scores,
        frame["application_date"],
        run_id,
        threshold,
        applicant_ids=frame["applicant_id"].tolist(),
    )
    write_records(folder, records)
    return frame
