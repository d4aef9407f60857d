"""Exact TreeSHAP for large batches, computed once per distinct path pattern of each tree.

A tree's path-dependent SHAP values for a row depend only on which side of each split the row
falls. Per tree, rows are grouped by their position relative to that tree's thresholds (NaN,
exact zero and each category kept apart), LightGBM computes the tree's contributions for one
representative per group, and the result is scattered back. Same numbers as
`booster.predict(pred_contrib=True)` (up to summation order), without repeating the work
for rows the tree cannot tell apart. Trees are split between two threads.
"""

from __future__ import annotations

import weakref
from concurrent.futures import ThreadPoolExecutor

import lightgbm as lgb
import numpy as np

from core.model_spec import TreeSplits, parse_tree_splits

_TREE_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_WORKER_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MAX_KEY = 1 << 40
THREADS = 2
GROUPING_MIN_ROWS = 2_000


def tree_splits(booster: lgb.Booster) -> list[TreeSplits]:
    """The split features of every tree of a booster, parsed once per booster."""
    cached = _TREE_CACHE.get(booster)
    if cached is None:
        cached = parse_tree_splits(booster.model_to_string())
        _TREE_CACHE[booster] = cached
    return cached


def _densify(key: np.ndarray) -> np.ndarray:
    """Renumber keys 0..k-1 so the mixed-radix code never overflows."""
    return np.unique(key, return_inverse=True)[1].astype("int64")


def _group_keys(matrix: np.ndarray, splits: TreeSplits) -> np.ndarray:
    """One integer per row: equal for rows that take the same side of every split of the tree."""
    key = np.zeros(len(matrix), dtype="int64")
    for feature, thresholds in splits.numeric.items():
        column = matrix[:, feature]
        code = np.searchsorted(thresholds, column, side="left").astype("int64")
        code = np.where(column == 0.0, len(thresholds) + 1, code)
        code = np.where(np.isnan(column), len(thresholds) + 2, code)
        key = key * (len(thresholds) + 3) + code
        if key.max(initial=0) > _MAX_KEY:
            key = _densify(key)
    for feature in splits.categorical:
        _, code = np.unique(matrix[:, feature], return_inverse=True, equal_nan=True)
        key = key * (int(code.max(initial=0)) + 1) + code.astype("int64")
        if key.max(initial=0) > _MAX_KEY:
            key = _densify(key)
    return key


def _trees_contributions(
    booster: lgb.Booster, matrix: np.ndarray, trees: list[int], splits: list[TreeSplits]
) -> np.ndarray:
    """The summed contributions of some trees, each computed on one row per group."""
    total = np.zeros((len(matrix), matrix.shape[1] + 1))
    for tree in trees:
        _, first, inverse = np.unique(
            _group_keys(matrix, splits[tree]), return_index=True, return_inverse=True
        )
        values = booster.predict(
            matrix[first],
            pred_contrib=True,
            start_iteration=tree,
            num_iteration=1,
            num_threads=1,
        )
        total += np.asarray(values)[inverse]
    return total


def _worker_boosters(booster: lgb.Booster) -> list[lgb.Booster]:
    """One private copy of the booster per thread (a Booster must not predict concurrently)."""
    cached = _WORKER_CACHE.get(booster)
    if cached is None:
        text = booster.model_to_string()
        cached = [lgb.Booster(model_str=text) for _ in range(THREADS)]
        _WORKER_CACHE[booster] = cached
    return cached


def grouped_contributions(booster: lgb.Booster, matrix: np.ndarray) -> np.ndarray:
    """Exact TreeSHAP (last column: base value) for a float64 feature matrix, tree by tree."""
    splits = tree_splits(booster)
    count = booster.num_trees()
    if len(splits) != count:
        return np.asarray(booster.predict(matrix, pred_contrib=True, num_threads=1))
    workers = _worker_boosters(booster)
    shares = [list(range(start, count, THREADS)) for start in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        parts = list(
            pool.map(
                lambda job: _trees_contributions(job[0], matrix, job[1], splits),
                zip(workers, shares, strict=True),
            )
        )
    return np.sum(parts, axis=0)
