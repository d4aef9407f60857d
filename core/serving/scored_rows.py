"""The Scorer's numbers as plain arrays, cheap to split between the requests of one batch.

ScoredRows is the whole path (batch scoring's `explain=all`).
The request path computes probabilities and decisions only (`probabilities_with`); exact SHAP
and reason codes are computed on the rows that need them (`explained`): declines for /predict,
every row for /explain and `reasons=all`, none for /invocations (its log's reasons are computed
after the answer, core.serving.background_reasons).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.scoring.reason_codes import (
    DEFAULT_REASON_COUNT,
    ReasonCodeBook,
    reason_table,
    top_reason_features,
)
from core.scoring.scorer import DECLINE, Scorer, ScoringResult, decide


@dataclass(frozen=True)
class Decided:
    """Per applicant: probability, raw score, decision and the prepared features (no SHAP)."""

    features: tuple[str, ...]
    probability: np.ndarray
    raw_score: np.ndarray
    decision: np.ndarray
    prepared: pd.DataFrame

    def __len__(self) -> int:
        """Number of applicants."""
        return len(self.probability)

    def rows(self, start: int, stop: int) -> Decided:
        """The applicants start:stop (array views)."""
        return Decided(
            self.features,
            self.probability[start:stop],
            self.raw_score[start:stop],
            self.decision[start:stop],
            self.prepared.iloc[start:stop],
        )

    @property
    def declined(self) -> np.ndarray:
        """True for each declined applicant."""
        return self.decision == DECLINE


def probabilities_with(scorer: Scorer, frame: pd.DataFrame, threshold: float) -> Decided:
    """The Scorer's probability, raw score and decision of applicant rows (no SHAP)."""
    prepared = scorer.prepare(frame).frame
    raw = scorer.raw_scores(prepared)
    probability = scorer.probability_from_raw(raw)
    return Decided(
        tuple(str(c) for c in prepared.columns),
        probability,
        raw,
        decide(probability, threshold).astype(object),
        prepared,
    )


@dataclass(frozen=True)
class Explained:
    """Exact SHAP and adverse reasons of some rows of a Decided (positions `at`)."""

    features: tuple[str, ...]
    at: np.ndarray
    contributions: np.ndarray
    base_value: float
    reason_features: np.ndarray
    reason_texts: np.ndarray


def explained(scorer: Scorer, rows: Decided, at: np.ndarray, book: ReasonCodeBook) -> Explained:
    """SHAP (the Scorer's exact TreeSHAP) and reason codes of the rows at positions `at`,
    the same numbers Scorer.score gives for them."""
    frame = rows.prepared.iloc[at]
    if not len(frame):
        empty = np.empty((0, DEFAULT_REASON_COUNT), dtype=object)
        return Explained(
            rows.features, at, np.empty((0, len(rows.features))), float("nan"), empty, empty
        )
    contrib = scorer.contributions(frame)
    chosen = top_reason_features(contrib.values, DEFAULT_REASON_COUNT, book.withheld)
    texts = reason_table(contrib.values, frame, rows.declined[at], book, DEFAULT_REASON_COUNT)
    return Explained(
        rows.features,
        at,
        contrib.values.to_numpy(dtype="float64"),
        contrib.base_value,
        chosen,
        texts.to_numpy(dtype=object),
    )


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
