"""Score applicants with a loaded LightGBM model: probability, decision, SHAP contributions.

Shared by what-if scoring, the promotion smoke test and a scoring API. Contributions are
LightGBM's exact TreeSHAP (`pred_contrib=True`), in log-odds, identical to shap.TreeExplainer.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from core.errors import DataValidationError

_CATEGORY_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
APPROVE = "approve"
DECLINE = "decline"


@dataclass(frozen=True)
class PreparedFeatures:
    """Applicants aligned to the model: columns in model order, categories cast to the model's."""

    frame: pd.DataFrame
    unseen_categories: dict[str, list[str]] = field(default_factory=dict)
    out_of_range: dict[str, int] = field(default_factory=dict)
    missing_values: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoringResult:
    """Per applicant: probability of default, log-odds, decision and SHAP contributions."""

    scores: pd.DataFrame
    contributions: pd.DataFrame
    base_value: float
    threshold: float
    prepared: PreparedFeatures

    def top_risk_drivers(self, n: int = 3) -> list[list[str]]:
        """For each applicant, the n features that pushed the default risk up the most."""
        values = self.contributions.to_numpy()
        names = np.asarray(self.contributions.columns)
        order = np.argsort(-values, axis=1)[:, :n]
        return [[str(names[j]) for j in row if values[i, j] > 0] for i, row in enumerate(order)]


def model_categories(model: lgb.LGBMClassifier) -> dict[str, list[object]]:
    """The categories the model was trained with, by categorical feature name (cached per model)."""
    cached = _CATEGORY_CACHE.get(model)
    if cached is not None:
        return cached
    flags = _categorical_flags(model.booster_)
    names = [name for name, is_cat in zip(model.feature_name_, flags, strict=True) if is_cat]
    cats = model.booster_.pandas_categorical or []
    result = {name: list(values) for name, values in zip(names, cats, strict=False)}
    _CATEGORY_CACHE[model] = result
    return result


def _categorical_flags(booster: lgb.Booster) -> list[bool]:
    """Which features are categorical, read from the model's feature_infos line.

    Numeric features read '[min:max]' (or 'none' when never split); categorical ones list
    their category codes ('0:1:2').
    """
    text = booster.model_to_string(num_iteration=0)
    line = next(ln for ln in text.splitlines() if ln.startswith("feature_infos="))
    infos = line.removeprefix("feature_infos=").split(" ")
    return [not (info.startswith("[") or info == "none") for info in infos]


def prepare_features(
    model: lgb.LGBMClassifier,
    applicants: pd.DataFrame,
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> PreparedFeatures:
    """Reindex to the model's features and cast categoricals, reporting what LightGBM would hide."""
    features = list(model.feature_name_)
    missing = [f for f in features if f not in applicants.columns]
    if missing:
        raise DataValidationError(
            f"Missing model features: {', '.join(missing)}.",
            fix="Add these columns (empty values are allowed, absent columns are not).",
        )
    frame = applicants.loc[:, features].copy()
    categories = model_categories(model)
    unseen: dict[str, list[str]] = {}
    for name, cats in categories.items():
        raw = frame[name].astype("string")
        known = raw.isin([str(c) for c in cats]) | raw.isna()
        if not known.all():
            unseen[name] = sorted(set(raw[~known].dropna().tolist()))
        frame[name] = pd.Categorical(raw.where(known), categories=[str(c) for c in cats])
    for name in features:
        if name in categories:
            continue
        if not pd.api.types.is_numeric_dtype(frame[name]):
            converted = pd.to_numeric(frame[name], errors="coerce")
            bad = converted.isna() & frame[name].notna()
            if bad.any():
                raise DataValidationError(
                    f"Column '{name}' has non-numeric values: "
                    f"{', '.join(map(str, frame.loc[bad, name].unique()[:5]))}.",
                    fix="Enter numbers (leave empty for missing).",
                )
            frame[name] = converted
        frame[name] = frame[name].astype("float64")
    out_of_range: dict[str, int] = {}
    for name, (low, high) in (ranges or {}).items():
        if name in frame.columns and name not in categories:
            outside = ((frame[name] < low) | (frame[name] > high)).sum()
            if outside:
                out_of_range[name] = int(outside)
    missing_values = {c: int(n) for c, n in frame.isna().sum().items() if n}
    return PreparedFeatures(frame, unseen, out_of_range, missing_values)


def decide(probability: np.ndarray, threshold: float) -> np.ndarray:
    """Approve below the threshold, decline at or above it."""
    return np.where(np.asarray(probability) >= threshold, DECLINE, APPROVE)


def score_applicants(
    model: lgb.LGBMClassifier,
    applicants: pd.DataFrame,
    threshold: float,
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> ScoringResult:
    """Score applicants: probability of default, log-odds, decision and exact SHAP values."""
    if not 0.0 < threshold < 1.0:
        raise DataValidationError(
            f"Threshold {threshold} is outside (0, 1).", fix="Pick a probability like 0.4542."
        )
    prepared = prepare_features(model, applicants, ranges)
    booster = model.booster_
    contrib = booster.predict(prepared.frame, pred_contrib=True)
    raw = contrib.sum(axis=1)
    probability = 1.0 / (1.0 + np.exp(-raw))
    features = list(model.feature_name_)
    scores = pd.DataFrame(
        {
            "probability": probability,
            "raw_score": raw,
            "decision": decide(probability, threshold),
            "distance_to_threshold": probability - threshold,
        },
        index=applicants.index,
    )
    contributions = pd.DataFrame(contrib[:, :-1], columns=features, index=applicants.index)
    base_value = float(contrib[0, -1]) if len(contrib) else float("nan")
    return ScoringResult(scores, contributions, base_value, threshold, prepared)
