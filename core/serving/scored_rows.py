"""The Scorer's result as plain arrays, cheap to split between the requests of one batch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.scoring.reason_codes import top_reason_features
from core.scoring.scorer import ScoringResult


@dataclass(frozen=True)
class ScoredRows:
    """Per applicant: probability, raw score, decision, SHAP row and adverse reasons."""

    features: tuple[str, ...]
    probability: np.ndarray
    raw_score: np.ndarray
    decision: np.ndarray
    contributions: np.ndarray
    base_value: float
    reason_features: np.ndarray
    reason_texts: np.ndarray

    @classmethod
    def from_result(cls, result: ScoringResult) -> ScoredRows:
        """Arrays of a ScoringResult; reason names come from the same ranking as its texts."""
        scores = result.scores
        return cls(
            features=tuple(str(c) for c in result.contributions.columns),
            probability=scores["probability"].to_numpy(dtype="float64"),
            raw_score=scores["raw_score"].to_numpy(dtype="float64"),
            decision=scores["decision"].to_numpy(dtype=object),
            contributions=result.contributions.to_numpy(dtype="float64"),
            base_value=float(result.base_value),
            reason_features=top_reason_features(
                result.contributions, result.reasons.shape[1], result.withheld
            ),
            reason_texts=result.reasons.to_numpy(dtype=object),
        )

    def __len__(self) -> int:
        """Number of applicants."""
        return len(self.probability)

    def rows(self, start: int, stop: int) -> ScoredRows:
        """The applicants start:stop (array views, no copy)."""
        return ScoredRows(
            self.features,
            self.probability[start:stop],
            self.raw_score[start:stop],
            self.decision[start:stop],
            self.contributions[start:stop],
            self.base_value,
            self.reason_features[start:stop],
            self.reason_texts[start:stop],
        )
