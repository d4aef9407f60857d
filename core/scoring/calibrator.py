"""A run's score calibrator and the scale its output is on ("risk score" or calibrated PD).

LightGBM's output (the sigmoid of its raw score) ranks applicants but, trained with
`is_unbalance=True`, is not a probability of default: it is a *risk score*. Training with
`--calibrate isotonic|sigmoid` fits a `Calibrator` on out-of-fold CV predictions
(core.training.calibration) and logs it as `calibration.json` inside the model folder, so the
export, its sha256 and every loader carry it. The Scorer applies it when the loaded model has
one: probability = calibrated(sigmoid(raw)). SHAP contributions stay in raw log-odds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeAlias

import numpy as np

from core.errors import ModelLoadError

CalibrationKind: TypeAlias = Literal["isotonic", "sigmoid"]
ScoreScale: TypeAlias = Literal["risk_score", "calibrated_pd"]
CALIBRATION_KINDS: tuple[CalibrationKind, ...] = ("isotonic", "sigmoid")
RISK_SCORE: ScoreScale = "risk_score"
CALIBRATED_PD: ScoreScale = "calibrated_pd"
SCORE_SCALES: tuple[ScoreScale, ...] = (RISK_SCORE, CALIBRATED_PD)
CALIBRATION_FILE = "calibration.json"
CALIBRATION_PARAM = "calibration"
SCALE_LABELS: dict[ScoreScale, str] = {
    RISK_SCORE: "risk score",
    CALIBRATED_PD: "probability of default (calibrated)",
}
# Isotonic steps can reach 0 or 1; a PD is kept strictly inside (0, 1).
_PD_FLOOR = 1e-6


def sigmoid(raw: np.ndarray) -> np.ndarray:
    """Log-odds to probability (very negative log-odds overflow exp to inf, giving 0)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(raw, dtype="float64")))


@dataclass(frozen=True)
class Calibrator:
    """Maps LightGBM's raw log-odds to a calibrated probability of default.

    isotonic: piecewise-linear through (x, y) knots on the sigmoid(raw) scale, clipped at the
    ends (sklearn's IsotonicRegression with out_of_bounds="clip").
    sigmoid (Platt): sigmoid(slope * raw + intercept).
    """

    kind: CalibrationKind
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    slope: float = 1.0
    intercept: float = 0.0
    fitted_on: int = 0

    def __post_init__(self) -> None:
        """Refuse an unusable calibrator (unknown kind, knots out of order or out of [0, 1])."""
        if self.kind not in CALIBRATION_KINDS:
            raise ValueError(f"unknown calibration kind {self.kind!r}")
        if self.kind == "isotonic":
            x, y = np.asarray(self.x), np.asarray(self.y)
            if not len(x) or len(x) != len(y) or np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0):
                raise ValueError("isotonic knots must be non-empty, paired and non-decreasing")
            if np.any((y < 0) | (y > 1)):
                raise ValueError("isotonic values must lie in [0, 1]")
        elif not (math.isfinite(self.slope) and math.isfinite(self.intercept)):
            raise ValueError("sigmoid calibration needs a finite slope and intercept")

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """The calibrated probability of default of raw log-odds."""
        raw = np.asarray(raw, dtype="float64")
        if self.kind == "sigmoid":
            calibrated = sigmoid(self.slope * raw + self.intercept)
        else:
            calibrated = np.interp(sigmoid(raw), self.x, self.y)
        return np.clip(calibrated, _PD_FLOOR, 1 - _PD_FLOOR)

    def raw_at(self, probability: float) -> float:
        """The smallest raw log-odds whose calibrated output reaches probability (±inf outside)."""
        if self.kind == "sigmoid":
            return (math.log(probability / (1 - probability)) - self.intercept) / self.slope
        x, y = np.asarray(self.x), np.clip(np.asarray(self.y), _PD_FLOOR, 1 - _PD_FLOOR)
        at = int(np.searchsorted(y, probability, side="left"))
        if at == 0:
            return -math.inf
        if at == len(y):
            return math.inf
        low, high = y[at - 1], y[at]
        share = (probability - low) / (high - low) if high > low else 1.0
        score = min(max(float(x[at - 1] + share * (x[at] - x[at - 1])), 1e-15), 1 - 1e-15)
        return math.log(score / (1 - score))

    def to_json_bytes(self) -> bytes:
        """The calibrator as JSON (what `calibration.json` holds)."""
        body = {
            "kind": self.kind,
            "x": list(self.x),
            "y": list(self.y),
            "slope": self.slope,
            "intercept": self.intercept,
            "fitted_on": self.fitted_on,
        }
        return (json.dumps(body, indent=1) + "\n").encode("utf-8")

    @classmethod
    def from_json_bytes(cls, data: bytes) -> Calibrator:
        """Read `calibration.json` (ValueError when it is not a calibrator)."""
        body = json.loads(data.decode("utf-8"))
        return cls(
            kind=body["kind"],
            x=tuple(float(v) for v in body.get("x", [])),
            y=tuple(float(v) for v in body.get("y", [])),
            slope=float(body.get("slope", 1.0)),
            intercept=float(body.get("intercept", 0.0)),
            fitted_on=int(body.get("fitted_on", 0)),
        )


def read_calibrator(model_folder: str | Path) -> Calibrator | None:
    """The calibrator inside a local model folder, None when the model has none."""
    path = Path(model_folder) / CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        return Calibrator.from_json_bytes(path.read_bytes())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(
            f"The model's calibrator '{path}' is unreadable ({exc}).",
            fix="Retrain the run with --calibrate, or log the model again; do not edit it.",
        ) from exc


def scale_of(calibrator: Calibrator | None) -> ScoreScale:
    """The scale a model's output is on."""
    return RISK_SCORE if calibrator is None else CALIBRATED_PD


def scale_label(scale: str | None) -> str:
    """What to call the output on a scale: 'risk score' unless it is a calibrated PD."""
    return SCALE_LABELS[CALIBRATED_PD] if scale == CALIBRATED_PD else SCALE_LABELS[RISK_SCORE]
