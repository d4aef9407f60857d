"""Check that the model's partial dependence is monotone for the features the run declared so."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.evaluation.explain_global import sample_rows
from core.scoring.loaded_model import LoadedModel
from core.scoring.scorer import scorer_for

GRID_POINTS = 25
PD_SAMPLE = 500
TOLERANCE = 1e-9
AS_DECLARED = "monotone as declared"
AGAINST = "moves against the declared direction"
NOT_USED = "not used by the model"
SINGLE_VALUE = "one observed value: nothing to check"
SUMMARY_COLUMNS = ["feature", "declared", "monotone", "worst_violation", "grid_points", "verdict"]


def _parse_raw(raw: str) -> object:
    """JSON, or a Python-style list/tuple of integers, or None when it is neither."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        parts = [p.strip() for p in raw.strip("[]() ").split(",") if p.strip()]
        try:
            return [int(p) for p in parts]
        except ValueError:
            return None


def declared_constraints(raw: object, features: list[str]) -> dict[str, int]:
    """Monotone directions by name from a run's params.monotone_constraints (JSON dict or list)."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return {}
    parsed = _parse_raw(raw) if isinstance(raw, str) else raw
    if isinstance(parsed, dict):
        return {str(k): int(v) for k, v in parsed.items() if int(v) != 0 and k in features}
    if isinstance(parsed, list) and len(parsed) == len(features):
        return {f: int(v) for f, v in zip(features, parsed, strict=True) if int(v) != 0}
    return {}


@dataclass(frozen=True)
class MonotonicityCheck:
    """Per declared feature: direction, verdict and worst violation; plus the PD curves."""

    summary: pd.DataFrame
    curves: pd.DataFrame

    @property
    def unused(self) -> list[str]:
        """Declared features the model never splits on."""
        return self.summary.loc[self.summary["verdict"] == NOT_USED, "feature"].tolist()

    @property
    def checked(self) -> list[str]:
        """Declared features whose partial dependence was checked over a grid."""
        verdicts = self.summary["verdict"]
        return self.summary.loc[verdicts.isin([AS_DECLARED, AGAINST]), "feature"].tolist()

    @property
    def violations(self) -> list[str]:
        """Features whose partial dependence goes against the declared direction."""
        return self.summary.loc[~self.summary["monotone"], "feature"].tolist()


def _grid(values: pd.Series, points: int) -> np.ndarray:
    """Distinct quantiles of a feature over its whole observed range (minimum to maximum)."""
    clean = values.dropna().astype(float)
    if clean.empty:
        return np.array([])
    return np.unique(np.quantile(clean, np.linspace(0.0, 1.0, points)))


def unused_features(model: LoadedModel) -> set[str]:
    """Features no split of the model uses (zero gain): their curve is flat by construction."""
    gains = model.classifier.booster_.feature_importance(importance_type="gain")
    return {name for name, gain in zip(model.feature_names, gains, strict=True) if gain <= 0}


def partial_dependence(
    model: LoadedModel, sample: pd.DataFrame, feature: str, grid: np.ndarray
) -> np.ndarray:
    """Mean predicted probability of default with the feature set to each grid value."""
    stacked = pd.concat([sample] * len(grid), ignore_index=True)
    stacked[feature] = np.repeat(grid, len(sample))
    probability = scorer_for(model).probabilities(stacked)
    return probability.reshape(len(grid), len(sample)).mean(axis=1)


def check_monotonicity(
    model: LoadedModel,
    features: pd.DataFrame,
    constraints: dict[str, int],
    grid_points: int = GRID_POINTS,
    sample_size: int = PD_SAMPLE,
) -> MonotonicityCheck:
    """Partial dependence over a quantile grid for each constrained feature, with a verdict."""
    sample = scorer_for(model).prepare(sample_rows(features, sample_size)).frame
    unused = unused_features(model)
    rows, curves = [], []
    for feature, direction in constraints.items():
        grid = _grid(sample[feature], grid_points)
        if feature in unused:
            rows.append((feature, direction, True, 0.0, len(grid), NOT_USED))
            continue
        if len(grid) < 2:
            rows.append((feature, direction, True, 0.0, len(grid), SINGLE_VALUE))
            continue
        response = partial_dependence(model, sample, feature, grid)
        steps = np.diff(response) * direction
        worst = float(max(0.0, -steps.min()))
        monotone = worst <= TOLERANCE
        rows.append(
            (feature, direction, monotone, worst, len(grid), AS_DECLARED if monotone else AGAINST)
        )
        curves.append(pd.DataFrame({"feature": feature, "value": grid, "mean_pd": response}))
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    summary["declared"] = summary["declared"].map({1: "increasing", -1: "decreasing"})
    curve_frame = (
        pd.concat(curves, ignore_index=True)
        if curves
        else pd.DataFrame(columns=["feature", "value", "mean_pd"])
    )
    return MonotonicityCheck(summary, curve_frame)
