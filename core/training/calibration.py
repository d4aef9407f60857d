"""Fit a score calibrator on out-of-fold CV predictions (`python -m core train --calibrate`).

The folds' held-out raw scores are predictions of models that never saw those rows, so a
calibrator fitted on them transfers to the final model without the optimism of refitting on its
own training rows. Without CV folds there is nothing honest to fit on: training refuses.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from mlflow.tracking import MlflowClient
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from core.errors import DataValidationError
from core.scoring.calibrator import (
    CALIBRATION_FILE,
    CALIBRATION_KINDS,
    CalibrationKind,
    Calibrator,
    sigmoid,
)

# Platt scaling is a plain maximum-likelihood fit: next to no regularisation.
_PLATT_C = 1e6


def check_calibration(kind: str | None, cv_folds: int) -> None:
    """DataValidationError unless kind is None, or a known kind with at least 2 CV folds."""
    if kind is None:
        return
    if kind not in CALIBRATION_KINDS:
        raise DataValidationError(
            f"Unknown calibration '{kind}'.", fix=f"Use one of: {', '.join(CALIBRATION_KINDS)}."
        )
    if cv_folds < 2:
        raise DataValidationError(
            "Calibration is fitted on out-of-fold CV predictions, and this run has no CV folds.",
            fix="Train with --cv-folds 2 or more (5 is the default), or drop --calibrate.",
        )


def fit_calibrator(kind: CalibrationKind, raw: np.ndarray, labels: np.ndarray) -> Calibrator:
    """A calibrator of the given kind fitted on out-of-fold raw log-odds and 0/1 labels."""
    raw = np.asarray(raw, dtype="float64")
    labels = np.asarray(labels, dtype="int64")
    if len(raw) != len(labels) or len(np.unique(labels)) < 2:
        raise DataValidationError(
            "Calibration needs out-of-fold scores for both good and bad applicants."
        )
    if kind == "sigmoid":
        fit = LogisticRegression(C=_PLATT_C, max_iter=1000).fit(raw.reshape(-1, 1), labels)
        return Calibrator(
            "sigmoid",
            slope=float(fit.coef_[0, 0]),
            intercept=float(fit.intercept_[0]),
            fitted_on=len(raw),
        )
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(sigmoid(raw), labels)
    return Calibrator(
        "isotonic",
        x=tuple(float(v) for v in iso.X_thresholds_),
        y=tuple(float(v) for v in iso.y_thresholds_),
        fitted_on=len(raw),
    )


def log_calibrator(client: MlflowClient, model_id: str, calibrator: Calibrator) -> None:
    """Write calibration.json inside the logged model's folder (exported and hashed with it)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / CALIBRATION_FILE
        path.write_bytes(calibrator.to_json_bytes())
        client.log_model_artifact(model_id, str(path))
