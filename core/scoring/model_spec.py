"""What a fitted LightGBM classifier knows about its inputs, read from its own model text.

Feature order, which features are categorical (and their categories), the range each numeric
feature had in training, monotone directions, and every split threshold per numeric feature
(the only places where a single-feature change can move the score).
"""

from __future__ import annotations

import json
import math
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from core.errors import DataValidationError

if TYPE_CHECKING:  # a model passed in has imported LightGBM already; readers of specs need not
    import lightgbm as lgb

FeatureKind = Literal["numeric", "categorical"]
# The fitted model every part of the product scores with (what a run logs under "model").
_SPEC_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PARAM_LINE = re.compile(r"^\[(?P<name>[a-z_]+): (?P<value>.*)\]$")


@dataclass(frozen=True)
class FeatureSpec:
    """One model input: its kind, categories, training range and monotone direction."""

    name: str
    kind: FeatureKind
    categories: tuple[object, ...] = ()
    low: float | None = None
    high: float | None = None
    monotone: int = 0

    @property
    def is_categorical(self) -> bool:
        """True for a pandas-categorical input."""
        return self.kind == "categorical"

    @property
    def has_range(self) -> bool:
        """True when the training range of a numeric feature is known."""
        return self.low is not None and self.high is not None


@dataclass(frozen=True)
class ModelSpec:
    """Every input of a model, in the model's order, plus its numeric split thresholds."""

    features: tuple[FeatureSpec, ...]
    split_thresholds: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Feature names in model order."""
        return [f.name for f in self.features]

    @property
    def categorical(self) -> dict[str, list[object]]:
        """The categories of each categorical feature, in model order."""
        return {f.name: list(f.categories) for f in self.features if f.is_categorical}

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        """The training range (min, max) of each numeric feature that has one."""
        return {f.name: (f.low, f.high) for f in self.features if f.has_range}  # type: ignore[misc]

    def feature(self, name: str) -> FeatureSpec:
        """The spec of one feature by name."""
        for spec in self.features:
            if spec.name == name:
                return spec
        raise KeyError(name)


def _parameters(text: str) -> dict[str, str]:
    """The '[name: value]' lines of the model text's parameters section."""
    found: dict[str, str] = {}
    for line in text[text.rfind("\nparameters:") :].splitlines():
        match = _PARAM_LINE.match(line.strip())
        if match:
            found[match["name"]] = match["value"]
    return found


def _header_value(text: str, key: str) -> str | None:
    """The value of a 'key=value' line in the model header, or None."""
    prefix = f"{key}="
    for line in text.splitlines():
        if line.startswith(prefix):
            return line[len(prefix) :]
        if line.startswith("Tree="):
            return None
    return None


def _int_list(raw: str | None) -> list[int]:
    """Parse '1,2,3' (or '') into integers."""
    return [int(part) for part in (raw or "").split(",") if part.strip()]


def _categorical_indices(text: str, params: dict[str, str], n_features: int) -> list[int]:
    """Positions of the categorical features, from the saved parameters or feature_infos.

    The parameters section names them even when a category column was constant in training
    (feature_infos then reads 'none', which a heuristic would take for a numeric feature).
    """
    if params.get("categorical_feature"):
        return _int_list(params["categorical_feature"])
    infos = (_header_value(text, "feature_infos") or "").split(" ")
    return [
        i
        for i, info in enumerate(infos[:n_features])
        if info and not (info.startswith("[") or info == "none")
    ]


def _numeric_range(info: str) -> tuple[float | None, float | None]:
    """'[low:high]' from feature_infos as floats, or (None, None)."""
    if not info.startswith("["):
        return None, None
    low, _, high = info.strip("[]").partition(":")
    try:
        return float(low), float(high)
    except ValueError:
        return None, None


@dataclass(frozen=True)
class TreeSplits:
    """The features one tree splits on: numeric thresholds per feature, categorical features."""

    numeric: dict[int, np.ndarray]
    categorical: tuple[int, ...]


def parse_tree_splits(text: str) -> list[TreeSplits]:
    """Per tree, its numeric thresholds by feature index and its categorical feature indices."""
    trees: list[TreeSplits] = []
    features: list[int] = []
    thresholds: list[float] = []
    for line in text.splitlines():
        if line.startswith("Tree="):
            features, thresholds = [], []
        elif line.startswith("split_feature="):
            features = [int(v) for v in line[len("split_feature=") :].split()]
        elif line.startswith("threshold="):
            thresholds = [float(v) for v in line[len("threshold=") :].split()]
        elif line.startswith("decision_type="):
            kinds = [int(v) for v in line[len("decision_type=") :].split()]
            numeric: dict[int, list[float]] = {}
            categorical: set[int] = set()
            for feature, threshold, kind in zip(features, thresholds, kinds, strict=False):
                if kind & 1:
                    categorical.add(feature)
                else:
                    numeric.setdefault(feature, []).append(threshold)
            trees.append(
                TreeSplits(
                    {f: np.unique(np.asarray(t, dtype="float64")) for f, t in numeric.items()},
                    tuple(sorted(categorical)),
                )
            )
        elif line.startswith("num_leaves=1") and line.strip() == "num_leaves=1":
            trees.append(TreeSplits({}, ()))
    return trees


def _split_thresholds(text: str, n_features: int) -> list[np.ndarray]:
    """Sorted unique numeric split thresholds per feature index, over all trees."""
    collected: list[list[np.ndarray]] = [[] for _ in range(n_features)]
    for tree in parse_tree_splits(text):
        for feature, thresholds in tree.numeric.items():
            collected[feature].append(thresholds)
    return [
        np.unique(np.concatenate(parts)) if parts else np.array([], dtype="float64")
        for parts in collected
    ]


def build_model_spec(model: lgb.LGBMClassifier) -> ModelSpec:
    """Read a fitted classifier's input specification from its model text."""
    from lightgbm.compat import LGBMNotFittedError  # loaded already: the model is LightGBM's

    try:
        booster = model.booster_
    except (AttributeError, LGBMNotFittedError) as exc:
        raise DataValidationError(
            "The model is not a fitted LightGBM classifier.",
            fix="Log a fitted LGBMClassifier with mlflow.lightgbm.log_model.",
        ) from exc
    names = list(model.feature_name_)
    text = booster.model_to_string()
    params = _parameters(text)
    categorical = _categorical_indices(text, params, len(names))
    categories = booster.pandas_categorical or []
    infos = (_header_value(text, "feature_infos") or "").split(" ")
    monotone = _int_list(params.get("monotone_constraints")) or [0] * len(names)
    thresholds = _split_thresholds(text, len(names))
    specs: list[FeatureSpec] = []
    category_of = dict(zip(categorical, categories, strict=False))
    for index, name in enumerate(names):
        direction = monotone[index] if index < len(monotone) else 0
        if index in category_of:
            specs.append(FeatureSpec(name, "categorical", tuple(category_of[index])))
            continue
        low, high = _numeric_range(infos[index] if index < len(infos) else "none")
        specs.append(FeatureSpec(name, "numeric", (), low, high, int(direction)))
    numeric_thresholds = {
        name: thresholds[i] for i, name in enumerate(names) if i not in category_of
    }
    return ModelSpec(tuple(specs), numeric_thresholds)


def model_spec(model: lgb.LGBMClassifier) -> ModelSpec:
    """The model's input specification, computed once per loaded model object."""
    cached = _SPEC_CACHE.get(model)
    if cached is None:
        cached = build_model_spec(model)
        _SPEC_CACHE[model] = cached
    return cached


def monotone_from_params(raw: str | None, features: list[str]) -> dict[str, int]:
    """Monotone directions by name from a run's monotone_constraints JSON param ({} if unusable)."""
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except (json.JSONDecodeError, TypeError):
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {
        str(k): int(v)
        for k, v in parsed.items()
        if k in features and isinstance(v, int | float) and not math.isnan(v) and v in (-1, 0, 1)
    }


def with_monotone(spec: ModelSpec, directions: Mapping[str, int]) -> ModelSpec:
    """The spec with monotone directions by name filled in where the model text had none."""
    if not directions:
        return spec
    features = tuple(
        replace(f, monotone=int(directions.get(f.name, 0)))
        if not f.is_categorical and f.monotone == 0
        else f
        for f in spec.features
    )
    return ModelSpec(features, spec.split_thresholds)
