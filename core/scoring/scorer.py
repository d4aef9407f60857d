"""The one scoring path: prepare -> raw score -> probability -> decision -> SHAP -> reason codes.

Every consumer scores through a `Scorer`: What-if, batch scoring, diagnostics' evaluation data,
global SHAP, monotonicity, counterfactuals, monitoring, the promotion smoke gate, training's
logged validation scores and the scoring service. The probability is the sigmoid of LightGBM's
raw score on the prepared feature matrix, passed through the run's calibrator when it has one
(core.scoring.calibrator; otherwise the output is a risk score, not a PD), so every consumer
gives the same number for the same rows. Contributions are exact path-dependent TreeSHAP, equal
to LightGBM's `pred_contrib=True` (computed from per-leaf tables when the model allows it:
core.scoring.fast_shap), in raw log-odds (never calibrated), identical to shap.TreeExplainer;
they add up to the raw score.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.scoring.calibrator import (
    RISK_SCORE,
    Calibrator,
    ScoreScale,
    scale_label,
    sigmoid,
)
from core.scoring.fast_shap import built_leaf_tables, leaf_tables_for
from core.scoring.grouped_shap import GROUPING_MIN_ROWS, grouped_contributions
from core.scoring.loaded_model import LoadedModel
from core.scoring.model_spec import ModelSpec, model_spec
from core.scoring.prepare import (
    PreparedFeatures,
    UnseenPolicy,
    feature_matrix,
    prepare_features,
)
from core.scoring.reason_codes import DEFAULT_REASON_COUNT, ReasonCodeBook, reason_table
from core.threshold import Threshold

APPROVE = "approve"
DECLINE = "decline"
# Below this many rows LightGBM's thread start-up costs more than the work: score on one thread.
SINGLE_THREAD_MAX_ROWS = 512
_SCORERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# Up to here tabled SHAP costs least whatever the trees; on larger batches the grouped path's
# cost per row falls with the distinct path patterns a tree has (CPU per row, tables / grouped:
# depth-5 demo model 0.092 / 0.44 ms at 2,000 rows, 0.099 / 0.14 ms at 100,000; depth-3
# 500-tree model 0.051 / 0.069 ms at 2,000, 0.053 / 0.020 ms at 100,000).
TABLED_MAX_ROWS = 8_000


@dataclass(frozen=True)
class ScoringResult:
    """Per applicant: probability of default, log-odds, decision, SHAP and reason codes."""

    scores: pd.DataFrame
    contributions: pd.DataFrame
    base_value: float
    threshold: Threshold
    prepared: PreparedFeatures
    reasons: pd.DataFrame = field(default_factory=pd.DataFrame)
    scale: ScoreScale = RISK_SCORE
    # Features never given as a reason (the feature policy's protected ones).
    withheld: frozenset[str] = frozenset()

    @property
    def output_label(self) -> str:
        """What the 'probability' column is: 'risk score' unless it is a calibrated PD."""
        return scale_label(self.scale)

    def top_risk_drivers(self, n: int = 3) -> list[list[str]]:
        """For each applicant, the n features that pushed the default risk up the most."""
        values = self.contributions.to_numpy()
        names = np.asarray(self.contributions.columns)
        order = np.argsort(-values, axis=1)[:, :n]
        return [[str(names[j]) for j in row if values[i, j] > 0] for i, row in enumerate(order)]


@dataclass(frozen=True)
class Contributions:
    """Exact TreeSHAP values in log-odds (rows x features) and the model's base value."""

    values: pd.DataFrame
    base_value: float


def decide(probability: np.ndarray, threshold: float) -> np.ndarray:
    """Approve below the threshold, decline at or above it."""
    return np.where(np.asarray(probability) >= threshold, DECLINE, APPROVE)


def _threads(rows: int) -> int:
    """One thread for small batches, LightGBM's default (0) otherwise."""
    return 1 if rows <= SINGLE_THREAD_MAX_ROWS else 0


def contributions_matrix(
    booster: lgb.Booster, matrix: np.ndarray, grouping_min_rows: int = GROUPING_MIN_ROWS
) -> np.ndarray:
    """Exact TreeSHAP in log-odds, one row per applicant, the base value in the last column.

    Below TABLED_MAX_ROWS rows, from the model's per-leaf tables (core.scoring.fast_shap: 4-6x
    cheaper than LightGBM's pred_contrib per row, checked equal to it when built). Larger
    batches, and models that are not tabled, are computed once per distinct path pattern of
    each tree (core.scoring.grouped_shap) from `grouping_min_rows` (the service, whose batches
    repeat patterns, starts lower), else by LightGBM on one thread (its thread start-up costs
    ~6 ms on a single row). Same values on every path.
    """
    if len(matrix) < max(TABLED_MAX_ROWS, grouping_min_rows):
        tables = leaf_tables_for(booster)
        if tables is not None:
            return tables.contributions(matrix)
    if len(matrix) >= grouping_min_rows:
        return grouped_contributions(booster, matrix)
    return np.asarray(booster.predict(matrix, pred_contrib=True, num_threads=1))


class Scorer:
    """The scoring path of one loaded model; build it with `scorer_for(model)`."""

    def __init__(self, model: LoadedModel) -> None:
        """Read the model's input spec once (raises DataValidationError for an unfitted model)."""
        self.loaded = model
        self.spec: ModelSpec = model_spec(model.classifier)
        self.model = model.classifier
        self.booster: lgb.Booster = model.classifier.booster_
        self.calibrator: Calibrator | None = model.calibrator
        self.scale: ScoreScale = model.scale
        self.output_label: str = model.output_label

    def raw_threshold(self, threshold: float) -> float:
        """The raw log-odds at which the output reaches the threshold (for log-odds charts)."""
        if self.calibrator is None:
            return math.log(threshold / (1.0 - threshold))
        return self.calibrator.raw_at(threshold)

    def probability_from_raw(self, raw: np.ndarray) -> np.ndarray:
        """The output of raw log-odds: sigmoid, then the calibrator when the model has one."""
        if self.calibrator is None:
            return sigmoid(raw)
        return self.calibrator.apply(raw)

    @property
    def features(self) -> list[str]:
        """The model's features, in model order."""
        return self.spec.names

    def prepare(
        self,
        applicants: pd.DataFrame,
        ranges: Mapping[str, tuple[float, float]] | None = None,
        on_unseen: UnseenPolicy = "report",
    ) -> PreparedFeatures:
        """Reindex and cast applicants to the model, reporting what LightGBM would hide."""
        return prepare_features(self.model, applicants, ranges, on_unseen)

    def raw_scores(self, prepared: PreparedFeatures | pd.DataFrame) -> np.ndarray:
        """Log-odds of default of prepared rows."""
        frame = prepared.frame if isinstance(prepared, PreparedFeatures) else prepared
        return self.raw_scores_of_matrix(feature_matrix(frame))

    def raw_scores_of_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Log-odds of default of a feature matrix as LightGBM sees it (feature_matrix)."""
        if not len(matrix):
            return np.empty(0)
        # Where LightGBM would run on one thread, the tables' tree walk (one thread too, its
        # sums checked on probe rows); larger batches keep LightGBM's threads.
        small = len(matrix) <= SINGLE_THREAD_MAX_ROWS
        tables = built_leaf_tables(self.booster) if small else None
        if tables is not None:
            return tables.raw_scores(matrix)
        raw = self.booster.predict(matrix, raw_score=True, num_threads=_threads(len(matrix)))
        return np.asarray(raw, dtype="float64")

    def probabilities(self, prepared: PreparedFeatures | pd.DataFrame) -> np.ndarray:
        """Output of prepared rows: the sigmoid of the raw score, calibrated when possible."""
        return self.probability_from_raw(self.raw_scores(prepared))

    def probability_of(self, applicants: pd.DataFrame) -> np.ndarray:
        """Probability of default of raw applicant rows (prepared first)."""
        return self.probabilities(self.prepare(applicants))

    def contributions(
        self,
        prepared: PreparedFeatures | pd.DataFrame,
        grouping_min_rows: int = GROUPING_MIN_ROWS,
    ) -> Contributions:
        """Exact TreeSHAP per feature of prepared rows (log-odds) and the model's base value."""
        frame = prepared.frame if isinstance(prepared, PreparedFeatures) else prepared
        values = contributions_matrix(self.booster, feature_matrix(frame), grouping_min_rows)
        base = float(values[0, -1]) if len(values) else float("nan")
        return Contributions(
            pd.DataFrame(values[:, :-1], columns=list(frame.columns), index=frame.index), base
        )

    def score(
        self,
        applicants: pd.DataFrame,
        threshold: float,
        ranges: Mapping[str, tuple[float, float]] | None = None,
        *,
        on_unseen: UnseenPolicy = "report",
        reason_book: ReasonCodeBook | None = None,
        n_reasons: int = DEFAULT_REASON_COUNT,
    ) -> ScoringResult:
        """The whole path: probability, log-odds, decision, exact SHAP and reason codes."""
        threshold = Threshold(threshold)
        if applicants.empty:
            raise DataValidationError(
                "There are no applicants to score.", fix="Give at least one row."
            )
        prepared = self.prepare(applicants, ranges, on_unseen)
        raw = self.raw_scores(prepared)
        probability = self.probability_from_raw(raw)
        decisions = decide(probability, threshold)
        contrib = self.contributions(prepared)
        scores = pd.DataFrame(
            {
                "probability": probability,
                "raw_score": raw,
                "decision": decisions,
                "distance_to_threshold": probability - threshold,
            },
            index=applicants.index,
        )
        contributions = contrib.values.set_axis(applicants.index)
        book = reason_book or ReasonCodeBook()
        reasons = reason_table(
            contributions,
            prepared.frame,
            decisions == DECLINE,
            book,
            n_reasons,
        )
        return ScoringResult(
            scores,
            contributions,
            contrib.base_value,
            threshold,
            prepared,
            reasons,
            self.scale,
            book.withheld,
        )


def scorer_for(model: LoadedModel) -> Scorer:
    """The Scorer of a loaded model, built once per loaded model."""
    scorer = _SCORERS.get(model)
    if scorer is None:
        scorer = Scorer(model)
        _SCORERS[model] = scorer
    return scorer


def _same(left: object, right: object) -> bool:
    """Equality that treats two missing values as equal."""
    if pd.isna(left) and pd.isna(right):
        return True
    return bool(left == right)


COMPARISON_COLUMNS = [
    "feature",
    "original_value",
    "edited_value",
    "value_changed",
    "original",
    "edited",
    "delta",
]


# What-if prints contributions to 4 decimals: a smaller move of an unchanged value is not shown.
SHOWN_MOVE = 5e-5


def compare_applicants(
    original: ScoringResult, edited: ScoringResult, tolerance: float = 1e-9
) -> pd.DataFrame:
    """Features whose value or contribution moved between two one-row results, largest first."""
    before = original.prepared.frame.iloc[0]
    after = edited.prepared.frame.iloc[0]
    old = original.contributions.iloc[0]
    new = edited.contributions.iloc[0]
    rows = []
    for name in original.contributions.columns:
        changed_value = not _same(before[name], after[name])
        delta = float(new[name] - old[name])
        if changed_value or abs(delta) > tolerance:
            rows.append(
                {
                    "feature": name,
                    "original_value": before[name],
                    "edited_value": after[name],
                    "value_changed": changed_value,
                    "original": float(old[name]),
                    "edited": float(new[name]),
                    "delta": delta,
                }
            )
    table = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    return table.sort_values("delta", key=np.abs, ascending=False, kind="stable").reset_index(
        drop=True
    )
