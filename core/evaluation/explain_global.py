"""Global explanations: LightGBM importance (gain or split) and exact TreeSHAP on a sample."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.scoring.loaded_model import LoadedModel
from core.scoring.scorer import scorer_for

ImportanceType = Literal["gain", "split"]
DEFAULT_SHAP_SAMPLE = 2_000
SHAP_SEED = 0


def feature_importance(model: LoadedModel, kind: ImportanceType = "gain") -> pd.DataFrame:
    """Importance per feature (gain or split count) with its share, largest first."""
    if kind not in ("gain", "split"):
        raise DataValidationError(f"Unknown importance type '{kind}'.", fix="Use gain or split.")
    values = model.classifier.booster_.feature_importance(importance_type=kind).astype(float)
    total = values.sum()
    frame = pd.DataFrame(
        {
            "feature": model.feature_names,
            "importance": values,
            "share": values / total if total else 0.0,
        }
    )
    return frame.sort_values("importance", ascending=False, ignore_index=True)


@dataclass(frozen=True, eq=False)
class GlobalShap:
    """SHAP values (log-odds) of a sample of rows, the sample's feature values and its size."""

    values: pd.DataFrame
    features: pd.DataFrame
    base_value: float
    n_total: int

    @property
    def n_sample(self) -> int:
        """Rows explained."""
        return len(self.values)

    @property
    def is_sample(self) -> bool:
        """True when fewer rows were explained than the data holds."""
        return self.n_sample < self.n_total

    def mean_abs(self) -> pd.DataFrame:
        """Mean |SHAP| per feature, largest first."""
        series = self.values.abs().mean().sort_values(ascending=False)
        return pd.DataFrame({"feature": series.index, "mean_abs_shap": series.to_numpy()})


def sample_rows(frame: pd.DataFrame, size: int, seed: int = SHAP_SEED) -> pd.DataFrame:
    """A reproducible random sample of at most size rows (all rows when the frame is small)."""
    if len(frame) <= size:
        return frame
    index = np.sort(np.random.default_rng(seed).choice(len(frame), size, replace=False))
    return frame.iloc[index]


def global_shap(
    model: LoadedModel, features: pd.DataFrame, sample_size: int = DEFAULT_SHAP_SAMPLE
) -> GlobalShap:
    """Exact TreeSHAP (the Scorer's: equal to LightGBM's pred_contrib and shap.TreeExplainer)
    on a row sample."""
    if features.empty:
        raise DataValidationError("No rows to explain.", fix="Evaluate on data with rows.")
    scorer = scorer_for(model)
    sample = scorer.prepare(sample_rows(features, sample_size)).frame
    contributions = scorer.contributions(sample)
    return GlobalShap(
        values=contributions.values,
        features=sample,
        base_value=contributions.base_value,
        n_total=len(features),
    )


def dependence(shap: GlobalShap, feature: str) -> pd.DataFrame:
    """Feature value against its SHAP value for the explained rows (one dependence plot)."""
    if feature not in shap.values.columns:
        raise DataValidationError(f"'{feature}' is not a model feature.")
    values = shap.features[feature]
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("string").fillna("(missing)")
    return pd.DataFrame({"value": values.to_numpy(), "shap": shap.values[feature].to_numpy()})


def beeswarm_frame(shap: GlobalShap, top: int = 10, seed: int = SHAP_SEED) -> pd.DataFrame:
    """Long frame for a beeswarm-like plot: feature, SHAP value, jitter, value rank in [0, 1].

    Nominal categories have no order, so no rank: their rows carry NaN and nominal=True (a
    category code's order is the data's, not high or low).
    """
    order = shap.mean_abs()["feature"].head(top).tolist()
    rng = np.random.default_rng(seed)
    parts = []
    for position, name in enumerate(order):
        column = shap.features[name]
        nominal = not pd.api.types.is_numeric_dtype(column) or isinstance(
            column.dtype, pd.CategoricalDtype
        )
        colour = (
            np.full(len(column), np.nan)
            if nominal
            else column.astype(float).rank(pct=True).to_numpy()
        )
        parts.append(
            pd.DataFrame(
                {
                    "feature": name,
                    "position": position + rng.uniform(-0.3, 0.3, len(column)),
                    "shap": shap.values[name].to_numpy(),
                    "value_rank": colour,
                    "nominal": nominal,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
