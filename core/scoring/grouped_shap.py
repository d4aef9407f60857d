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
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from core.scoring.model_spec import parse_tree_splits

_TREE_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_WORKER_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MAX_KEY = 1 << 40
_DENSE_LIMIT = 1 << 21
_DENSE_PER_ROW = 16
THREADS = 2
GROUPING_MIN_ROWS = 2_000


@dataclass(frozen=True)
class GroupingPlan:
    """Per model: all numeric thresholds by feature, and per tree how to code a row's path.

    A row's global code for a numeric feature is its bin among all the model's thresholds of
    that feature (plus one code for exact zero and one for NaN); a tree's lookup table turns
    it into the bin among that tree's own thresholds.
    """

    union: dict[int, np.ndarray]
    tables: tuple[tuple[tuple[int, np.ndarray, int], ...], ...]
    categorical: tuple[tuple[int, ...], ...]


def _lookup(tree_thresholds: np.ndarray, union: np.ndarray) -> np.ndarray:
    """Global bin (including the zero and NaN codes) to the bin among one tree's thresholds."""
    size = len(tree_thresholds)
    table = np.empty(len(union) + 3, dtype="int64")
    table[: len(union)] = np.searchsorted(tree_thresholds, union, side="left")
    table[len(union) :] = (size, size + 1, size + 2)
    return table


def grouping_plan(booster: lgb.Booster) -> GroupingPlan:
    """The grouping plan of a booster, built once per booster."""
    cached = _TREE_CACHE.get(booster)
    if cached is None:
        trees = parse_tree_splits(booster.model_to_string())
        parts: dict[int, list[np.ndarray]] = {}
        for tree in trees:
            for feature, thresholds in tree.numeric.items():
                parts.setdefault(feature, []).append(thresholds)
        union = {f: np.unique(np.concatenate(v)) for f, v in parts.items()}
        tables = tuple(
            tuple((f, _lookup(t, union[f]), len(t) + 3) for f, t in tree.numeric.items())
            for tree in trees
        )
        cached = GroupingPlan(union, tables, tuple(tree.categorical for tree in trees))
        _TREE_CACHE[booster] = cached
    return cached


def _global_codes(matrix: np.ndarray, plan: GroupingPlan) -> dict[int, np.ndarray]:
    """Each row's global bin per numeric feature, and its category code per categorical one."""
    codes: dict[int, np.ndarray] = {}
    for feature, union in plan.union.items():
        column = matrix[:, feature]
        code = np.searchsorted(union, column, side="left").astype("int64")
        code[column == 0.0] = len(union) + 1
        code[np.isnan(column)] = len(union) + 2
        codes[feature] = code
    for feature in {f for tree in plan.categorical for f in tree}:
        _, code = np.unique(matrix[:, feature], return_inverse=True, equal_nan=True)
        codes[-1 - feature] = code.astype("int64")
    return codes


def _groups(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One representative row per distinct key, and each row's group (no sort when keys fit
    and the key range is not much wider than the rows: zeroing it would cost more)."""
    if size > min(_DENSE_LIMIT, _DENSE_PER_ROW * len(key)):
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return first, inverse
    present = np.zeros(size, dtype=bool)
    present[key] = True
    inverse = (np.cumsum(present) - 1)[key]
    first = np.empty(int(present.sum()), dtype="int64")
    first[inverse] = np.arange(len(key))
    return first, inverse


def _tree_groups(
    codes: dict[int, np.ndarray], plan: GroupingPlan, tree: int, rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Group the rows one tree cannot tell apart."""
    key = np.zeros(rows, dtype="int64")
    size = 1
    steps = [(table[codes[f]], radix) for f, table, radix in plan.tables[tree]]
    steps += [
        (codes[-1 - f], int(codes[-1 - f].max(initial=0)) + 1) for f in plan.categorical[tree]
    ]
    for code, radix in steps:
        if size * radix > _MAX_KEY:
            key = np.unique(key, return_inverse=True)[1].astype("int64")
            size = int(key.max(initial=0)) + 1
        key = key * radix + code
        size *= radix
    return _groups(key, size)


def _trees_contributions(
    booster: lgb.Booster,
    matrix: np.ndarray,
    trees: list[int],
    plan: GroupingPlan,
    codes: dict[int, np.ndarray],
) -> np.ndarray:
    """The summed contributions of some trees, each computed on one row per group."""
    total = np.zeros((len(matrix), matrix.shape[1] + 1))
    for tree in trees:
        first, inverse = _tree_groups(codes, plan, tree, len(matrix))
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
    plan = grouping_plan(booster)
    count = booster.num_trees()
    if len(plan.tables) != count:
        return np.asarray(booster.predict(matrix, pred_contrib=True, num_threads=1))
    codes = _global_codes(matrix, plan)
    workers = _worker_boosters(booster)
    shares = [list(range(start, count, THREADS)) for start in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        parts = list(
            pool.map(
                lambda job: _trees_contributions(job[0], matrix, job[1], plan, codes),
                zip(workers, shares, strict=True),
            )
        )
    return np.sum(parts, axis=0)
