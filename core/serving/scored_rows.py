"""The Scorer's numbers as plain arrays, cheap to split between the requests of one batch.

ScoredRows is the whole path (batch scoring's `explain=all`).
The request path computes probabilities and decisions only (`probabilities_with`); exact SHAP
and reason codes are computed on the rows that need them (`explained`): declines for /predict,
every row for /explain and `reasons=all`, none for /invocations (its log's reasons are computed
after the answer, core.serving.background_reasons).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.scoring.grouped_shap import GROUPING_MIN_ROWS
from core.scoring.reason_codes import (
    DEFAULT_REASON_COUNT,
    ReasonCodeBook,
    reason_texts,
    top_reason_features,
    top_reasons_of,
)
from core.scoring.scorer import DECLINE, Scorer, ScoringResult, contributions_matrix, decide
from core.serving.request_parsing import applicant_frame

# For a model whose SHAP is not tabled (core.scoring.fast_shap), the service computes it through
# the grouped path (core.scoring.grouped_shap) from this many rows in one call: from here it
# costs less CPU than LightGBM's own pred_contrib on the demo model (300 distinct rows: about
# equal; rows that repeat path patterns: cheaper from 100).
SERVICE_GROUPING_MIN_ROWS = 256


@dataclass(frozen=True)
class Decided:
    """Per applicant: probability, raw score, decision and the prepared features (no SHAP).

    `source` is the prepared frame, or for a model without categorical features the float64
    matrix it would hold (a frame is built only for the rows that need SHAP).
    """

    features: tuple[str, ...]
    probability: np.ndarray
    raw_score: np.ndarray
    decision: np.ndarray
    source: pd.DataFrame | np.ndarray

    def __len__(self) -> int:
        """Number of applicants."""
        return len(self.probability)

    def rows(self, start: int, stop: int) -> Decided:
        """The applicants start:stop (array views)."""
        source = self.source
        return Decided(
            self.features,
            self.probability[start:stop],
            self.raw_score[start:stop],
            self.decision[start:stop],
            source.iloc[start:stop] if isinstance(source, pd.DataFrame) else source[start:stop],
        )

    def take(self, at: np.ndarray) -> pd.DataFrame:
        """The prepared features of the applicants at positions `at`."""
        if isinstance(self.source, pd.DataFrame):
            return self.source.iloc[at]
        return pd.DataFrame(self.source[at], columns=list(self.features))

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


def decided_columns(
    scorer: Scorer, parts: Sequence[dict[str, list[object]]], threshold: float
) -> Decided:
    """probabilities_with on the validated columns of one or more requests. A model without
    categorical features needs no preparation (the columns are already the float64 values
    prepare would give), so its matrix is stacked directly."""
    spec = scorer.spec
    if any(feature.is_categorical for feature in spec.features):
        return probabilities_with(scorer, applicant_frame(parts, spec), threshold)
    matrix = np.column_stack(
        [
            np.concatenate([np.asarray(part[name], dtype="float64") for part in parts])
            for name in spec.names
        ]
    )
    if np.isinf(matrix).any():  # not validated: prepare names the cells it cannot score
        return probabilities_with(scorer, applicant_frame(parts, spec), threshold)
    raw = scorer.raw_scores_of_matrix(matrix)
    probability = scorer.probability_from_raw(raw)
    return Decided(
        tuple(spec.names),
        probability,
        raw,
        decide(probability, threshold).astype(object),
        matrix,
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


def _empty(features: tuple[str, ...], at: np.ndarray) -> Explained:
    """The Explained of no rows."""
    none = np.empty((0, DEFAULT_REASON_COUNT), dtype=object)
    return Explained(features, at, np.empty((0, len(features))), float("nan"), none, none)


def _shap_of_matrix(
    scorer: Scorer, wanted: list[tuple[Decided, np.ndarray]], grouping_min_rows: int
) -> tuple[np.ndarray, float, np.ndarray]:
    """SHAP, base value and missing cells of a numeric model's rows, from the decided matrix
    itself (the frame path's numbers: its feature matrix is this matrix, its missing cells
    the NaNs)."""
    matrix = np.vstack([np.asarray(rows.source)[at] for rows, at in wanted])
    full = contributions_matrix(scorer.booster, matrix, grouping_min_rows)
    return np.ascontiguousarray(full[:, :-1]), float(full[0, -1]), np.isnan(matrix)


def _shap_of_frames(
    scorer: Scorer, wanted: list[tuple[Decided, np.ndarray]], grouping_min_rows: int
) -> tuple[np.ndarray, float, np.ndarray]:
    """The same from the prepared frames (models with categorical features)."""
    frames = [rows.take(at) for rows, at in wanted]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    contrib = scorer.contributions(frame, grouping_min_rows)
    values = contrib.values.to_numpy(dtype="float64")
    return values, contrib.base_value, frame.isna().to_numpy()


def explained_together(
    scorer: Scorer,
    parts: Sequence[tuple[Decided, np.ndarray]],
    book: ReasonCodeBook,
    grouping_min_rows: int = GROUPING_MIN_ROWS,
) -> list[Explained]:
    """SHAP (the Scorer's exact TreeSHAP) and reason codes of the rows at positions `at` of
    each part, computed in one call over all of them (the grouped path from
    `grouping_min_rows` rows); per part, the same numbers Scorer.score gives for its rows."""
    wanted = [(rows, at) for rows, at in parts if len(at)]
    if not wanted:
        return [_empty(rows.features, at) for rows, at in parts]
    declined = np.concatenate([rows.declined[at] for rows, at in wanted])
    numeric = all(isinstance(rows.source, np.ndarray) for rows, _ in wanted)
    shap_of = _shap_of_matrix if numeric else _shap_of_frames
    values, base, missing = shap_of(scorer, wanted, grouping_min_rows)
    names = list(wanted[0][0].features)
    chosen = top_reasons_of(values, names, DEFAULT_REASON_COUNT, book.withheld)
    text_values = reason_texts(chosen, missing, declined, names, book)
    out: list[Explained] = []
    start = 0
    for rows, at in parts:
        stop = start + len(at)
        out.append(
            Explained(
                rows.features,
                at,
                values[start:stop],
                base if len(at) else float("nan"),
                chosen[start:stop],
                text_values[start:stop],
            )
        )
        start = stop
    return out


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
