"""The cross-check of a scoring path: LightGBM's own output on the Scorer's prepared rows.

The promotion smoke gate and the service smoke test both hold an export's scores against the
run model's own `predict_proba` (then its calibrator), within the tolerances here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.scoring.loaded_model import LoadedModel
from core.scoring.scorer import scorer_for

PROBABILITY_TOLERANCE = 1e-9
RAW_SCORE_TOLERANCE = 1e-6


def reference_probability(model: LoadedModel, prepared: pd.DataFrame) -> np.ndarray:
    """A model's output on prepared rows without the Scorer: LightGBM's own predict_proba, or
    the model's calibrator on LightGBM's own raw score."""
    if model.calibrator is None:
        return np.asarray(model.classifier.predict_proba(prepared)[:, 1])
    return model.calibrator.apply(model.classifier.predict(prepared, raw_score=True))


def reference_probabilities(model: LoadedModel, applicants: pd.DataFrame) -> np.ndarray:
    """The reference output on raw applicants, prepared by the model's own Scorer."""
    return reference_probability(model, scorer_for(model).prepare(applicants).frame)
