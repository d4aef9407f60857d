"""Tabled TreeSHAP (core.scoring.fast_shap) equals LightGBM's pred_contrib, or is not used."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from core.scoring import fast_shap
from core.scoring.scorer import contributions_matrix

ROWS = 600


def _frame(seed: int = 3, categories: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric columns with NaN, exact zeros and a heavy tail, plus categorical columns."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.lognormal(10, 1, ROWS),
            "ratio": np.where(rng.random(ROWS) < 0.2, 0.0, rng.random(ROWS)),
            "score": np.where(rng.random(ROWS) < 0.15, np.nan, rng.normal(650, 80, ROWS)),
            "count": rng.integers(0, 6, ROWS).astype(float),
        }
    )
    for c in range(categories):
        values = rng.choice([f"c{i}" for i in range(12)], ROWS).astype(object)
        values[rng.random(ROWS) < 0.1] = None
        frame[f"cat{c}"] = pd.Categorical(values)
    logit = (frame["ratio"] * 3 - 1.5 + np.nan_to_num(frame["score"] - 650) / 100).to_numpy()
    if categories:
        logit = logit + frame["cat0"].cat.codes.to_numpy() % 3 - 1
    target = (rng.random(ROWS) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, target


def _booster(frame: pd.DataFrame, target: np.ndarray, **params: object) -> lgb.Booster:
    """A small fitted booster."""
    settings = {"objective": "binary", "verbose": -1, "num_leaves": 15, "min_data_in_leaf": 5}
    settings.update(params)
    rounds = int(settings.pop("rounds", 30))  # type: ignore[call-overload]
    return lgb.train(settings, lgb.Dataset(frame, target), num_boost_round=rounds)


def _probe_matrix(frame: pd.DataFrame, booster: lgb.Booster) -> np.ndarray:
    """The training rows as LightGBM reads them, with hostile values mixed in."""
    matrix = frame.apply(
        lambda col: col.cat.codes.replace(-1, np.nan) if col.dtype == "category" else col
    ).to_numpy(dtype="float64")
    trees = fast_shap.tree_arrays(booster.model_to_string(), matrix.shape[1])
    hostile = fast_shap.probe_rows(trees)
    return np.vstack([matrix, hostile, -matrix[:50], matrix[:50] * 1e-40])


def _assert_lightgbm_values(booster: lgb.Booster, frame: pd.DataFrame) -> None:
    """The product's SHAP of an untabled model is LightGBM's own, bit for bit."""
    matrix = _probe_matrix(frame, booster)
    np.testing.assert_array_equal(
        contributions_matrix(booster, matrix),
        booster.predict(matrix, pred_contrib=True, num_threads=1),
    )


MODELS = {
    "numeric, NaN as missing": ({}, 0),
    "zero as missing": ({"zero_as_missing": True}, 0),
    "missing values off": ({"use_missing": False}, 0),
    "categorical": ({"max_cat_to_onehot": 2, "cat_smooth": 1}, 3),
    "one-hot categorical": ({"max_cat_to_onehot": 16}, 2),
    "stumps": ({"num_leaves": 2}, 0),
    "deep trees (over 64 nodes)": ({"num_leaves": 120, "min_data_in_leaf": 2}, 1),
    "constant trees": ({"min_data_in_leaf": 400, "rounds": 5}, 0),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_tabled_shap_equals_lightgbm_pred_contrib(name: str) -> None:
    """Every model shape: the tables are used and equal LightGBM's exact SHAP row by row."""
    params, categories = MODELS[name]
    frame, target = _frame(categories=categories)
    booster = _booster(frame, target, **params)
    assert fast_shap.fast_shap_status(booster) == "tabled"
    trees = fast_shap.tree_arrays(booster.model_to_string(), booster.num_feature())
    if name.startswith("deep"):  # the split-by-split path, not the 64-bit word
        assert np.diff(trees.tree_nodes).max() > 64
    if name.startswith("constant"):
        assert (trees.tree_root < 0).any()
    matrix = _probe_matrix(frame, booster)
    expected = booster.predict(matrix, pred_contrib=True, num_threads=1)
    got = contributions_matrix(booster, matrix)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    # contributions add up to the raw score, as LightGBM's do
    raw = booster.predict(matrix, raw_score=True, num_threads=1)
    np.testing.assert_allclose(got.sum(axis=1), raw, rtol=1e-10, atol=1e-10)
    # and the tree walk's raw scores are LightGBM's sums, bit for bit, as the Scorer uses them
    tables = fast_shap.built_leaf_tables(booster)
    assert tables is not None
    np.testing.assert_array_equal(tables.raw_scores(matrix), raw)
    spread = matrix[np.arange(len(matrix)) % 7 == 0]
    np.testing.assert_array_equal(
        tables.raw_scores(spread), booster.predict(spread, raw_score=True, num_threads=1)
    )


def test_model_over_the_table_budget_keeps_lightgbm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables that would be too large are not built; SHAP still comes out exact."""
    frame, target = _frame()
    booster = _booster(frame, target)
    monkeypatch.setattr(fast_shap, "MAX_TABLE_VALUES", 10)
    assert fast_shap.leaf_tables_for(booster) is None
    assert "tables would hold" in fast_shap.fast_shap_status(booster)
    _assert_lightgbm_values(booster, frame)


def test_paths_on_too_many_features_keep_lightgbm(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model whose paths split on more features than the tables index keeps LightGBM."""
    frame, target = _frame(seed=4)
    booster = _booster(frame, target)
    monkeypatch.setattr(fast_shap, "MAX_PATH_FEATURES", 1)
    assert fast_shap.leaf_tables_for(booster) is None
    assert "splits on more than 1 features" in fast_shap.fast_shap_status(booster)
    _assert_lightgbm_values(booster, frame)


@pytest.mark.parametrize(
    ("method", "says"),
    [("contributions", "tabled values differ"), ("raw_scores", "tree walk's raw scores differ")],
)
def test_tables_or_a_walk_that_disagree_with_lightgbm_are_never_used(
    monkeypatch: pytest.MonkeyPatch, method: str, says: str
) -> None:
    """The probe at build time refuses tables whose SHAP, or whose tree walk's raw scores,
    drift from LightGBM's: both then come from LightGBM."""
    frame, target = _frame(seed=5)
    booster = _booster(frame, target)
    exact = getattr(fast_shap.LeafTables, method)
    monkeypatch.setattr(fast_shap.LeafTables, method, lambda self, m: exact(self, m) + 1e-7)
    assert fast_shap.leaf_tables_for(booster) is None
    assert fast_shap.built_leaf_tables(booster) is None
    assert says in fast_shap.fast_shap_status(booster)
    _assert_lightgbm_values(booster, frame)


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"linear_tree": True}, "linear trees"),
        ({"boosting": "rf", "bagging_freq": 1, "bagging_fraction": 0.7}, "random forest"),
    ],
)
def test_models_the_tables_cannot_hold_keep_lightgbm(params: dict, why: str) -> None:
    """Linear leaves and averaged (random-forest) trees are not tabled, and say why."""
    frame, target = _frame()
    booster = _booster(frame[["income", "ratio", "count"]], target, rounds=5, **params)
    assert fast_shap.leaf_tables_for(booster) is None
    assert why in fast_shap.fast_shap_status(booster)
    if not params.get("linear_tree"):  # LightGBM itself refuses SHAP of linear trees
        _assert_lightgbm_values(booster, frame[["income", "ratio", "count"]])


def test_repeated_rows_are_computed_once_with_the_same_values() -> None:
    """A batch that repeats rows (a re-decided queue) gets each repeat's exact SHAP."""
    frame, target = _frame(seed=9, categories=1)
    booster = _booster(frame, target, max_cat_to_onehot=2)
    matrix = _probe_matrix(frame, booster)[:200]
    repeated = np.vstack([matrix, matrix[::-1], matrix[:7]])
    tables = fast_shap.leaf_tables_for(booster)
    got = tables.contributions(repeated)
    # below DEDUPLICATE_FROM_ROWS nothing is deduplicated: the reference, row for row
    single = np.vstack([tables.contributions(matrix[i : i + 50]) for i in range(0, 200, 50)])
    np.testing.assert_array_equal(got[:200], single)
    np.testing.assert_array_equal(got[200:400], single[::-1])
    np.testing.assert_array_equal(got[400:], single[:7])
    expected = booster.predict(repeated, pred_contrib=True, num_threads=1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
