"""Exact TreeSHAP of a booster from per-leaf tables (core.scoring.leaf_tables), or nothing.

Built once per booster. A model is tabled only when the tables fit MAX_TABLE_VALUES and, on
probe rows that cross every split (missing values and categories included), the tabled SHAP
equals LightGBM's own `pred_contrib`; otherwise `leaf_tables_for` answers None and says why
(`fast_shap_status`), and the caller keeps LightGBM's exact path. SHAP equals LightGBM's up to
floating-point summation order (the probe's tolerance: PROBE_TOLERANCE).
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from core.scoring.tree_arrays import (
    MISSING_NAN,
    MISSING_ZERO,
    ZERO_THRESHOLD,
    TreeArrays,
    tree_arrays,
)

MAX_TABLE_VALUES = 1 << 22
MAX_PATH_FEATURES = 30
PROBE_ROWS = 256
PROBE_TOLERANCE = 1e-9
# From this many rows a batch's repeated rows are found first (np.unique costs ~1% of the SHAP).
DEDUPLICATE_FROM_ROWS = 64
_LOG = logging.getLogger(__name__)
_BUILT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_STATUS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


@dataclass(frozen=True)
class LeafTables:
    """One model's trees and per-leaf SHAP tables, ready for `contributions`."""

    trees: TreeArrays
    bias: float
    leaf_first: np.ndarray
    leaf_d: np.ndarray
    entry_feature: np.ndarray
    entry_zero: np.ndarray
    entry_table: np.ndarray
    entry_steps: np.ndarray
    entry_mask: np.ndarray
    entry_want: np.ndarray
    step_node: np.ndarray
    step_left: np.ndarray
    tables: np.ndarray
    nan_left: np.ndarray
    zero_left: np.ndarray

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Exact TreeSHAP (last column: base value) of a float64 feature matrix; a row that
        repeats (bit for bit) is computed once."""
        rows = np.ascontiguousarray(matrix, dtype="float64")
        if len(rows) >= DEDUPLICATE_FROM_ROWS:
            keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))
            _, first, inverse = np.unique(keys.ravel(), return_index=True, return_inverse=True)
            if len(first) < len(rows):
                return self._computed(rows[first])[inverse.ravel()]
        return self._computed(rows)

    def _computed(self, rows: np.ndarray) -> np.ndarray:
        """The compiled kernel on C-contiguous float64 rows."""
        out = np.empty((len(rows), self.trees.n_features + 1))
        t = self.trees
        entries = (
            self.leaf_first, self.leaf_d, self.entry_feature, self.entry_zero,
            self.entry_table, self.entry_steps, self.entry_mask, self.entry_want,
            self.step_node, self.step_left, self.tables,
        )  # fmt: skip
        trees = (t.tree_root, t.tree_nodes, t.tree_leaves)
        from core.scoring.leaf_tables import row_contributions  # numba: imported when used

        row_contributions(rows, out, self.bias, self.nodes, trees, entries)
        return out

    def raw_scores(self, matrix: np.ndarray) -> np.ndarray:
        """LightGBM's raw scores (log-odds) of a float64 feature matrix, by walking the trees
        (core.scoring.tree_walk; a tabled model sums its trees: averaging ones are refused)."""
        rows = np.ascontiguousarray(matrix, dtype="float64")
        out = np.empty(len(rows))
        t = self.trees
        from core.scoring.tree_walk import walk_raw_scores  # numba: imported when used

        walk_raw_scores(rows, out, self.nodes, t.tree_root, t.node_left, t.node_right, t.leaf_value)
        return out

    @property
    def nodes(self) -> tuple:
        """What a node's decision reads (leaf_tables._decisions, tree_walk.walk_raw_scores)."""
        t = self.trees
        return (
            t.node_feature, t.node_threshold, t.node_categorical, self.nan_left,
            self.zero_left, t.node_words_start, t.node_words_end, t.category_words,
        )  # fmt: skip


def _expected_value(trees: TreeArrays) -> float:
    """The model's base value: each tree's leaves weighted by their training rows, summed."""
    total = 0.0
    for t, root in enumerate(trees.tree_root):
        leaves = slice(trees.tree_leaves[t], trees.tree_leaves[t + 1])
        values = trees.leaf_value[leaves]
        if root < 0:
            total += float(values[0])
            continue
        counts = trees.leaf_count[leaves]
        total += float(np.sum(counts / trees.node_count[root] * values))
    return total


def _tables_call(trees: TreeArrays, fill: bool, arrays: dict[str, np.ndarray]) -> tuple:
    """One call of the compiled path walk (counting, or filling the given arrays)."""
    from core.scoring.leaf_tables import build_tables  # numba: imported when first tabling

    return build_tables(
        trees.node_left, trees.node_right, trees.node_feature, trees.node_count,
        trees.leaf_value, trees.leaf_count, trees.tree_root, fill, arrays["leaf_first"],
        arrays["leaf_d"], arrays["entry_feature"], arrays["entry_zero"], arrays["entry_table"],
        arrays["entry_steps"], arrays["step_node"], arrays["step_left"], arrays["tables"],
    )  # fmt: skip


def _arrays(leaves: int, entries: int, steps: int, values: int) -> dict[str, np.ndarray]:
    """The output arrays of the path walk, sized by its counting pass."""
    return {
        "leaf_first": np.zeros(leaves, dtype="int64"),
        "leaf_d": np.zeros(leaves, dtype="int64"),
        "entry_feature": np.zeros(entries, dtype="int64"),
        "entry_zero": np.zeros(entries),
        "entry_table": np.zeros(entries, dtype="int64"),
        "entry_steps": np.zeros(entries + 1, dtype="int64"),
        "step_node": np.zeros(steps, dtype="int64"),
        "step_left": np.zeros(steps, dtype=np.bool_),
        "tables": np.zeros(values),
    }


def _unsupported(booster: lgb.Booster, trees: TreeArrays) -> str | None:
    """Why this model cannot be tabled, or None."""
    if booster.num_model_per_iteration() != 1:
        return "it has several trees per iteration (multi-class)"
    if trees.linear:
        return "it has linear trees"
    if trees.average_output:
        return "it averages its trees (random forest)"
    if trees.n_trees == 0:
        return "it has no trees"
    if not np.all(trees.node_count > 0):
        return "a split has no training rows recorded"
    return None


def build_leaf_tables(booster: lgb.Booster) -> tuple[LeafTables | None, str]:
    """The booster's tables and 'tabled', or None and why not (no probe: see leaf_tables_for)."""
    trees = tree_arrays(booster.model_to_string(), booster.num_feature())
    reason = _unsupported(booster, trees)
    if reason:
        return None, reason
    empty = _arrays(0, 0, 0, 0)
    entries, steps, values, most = _tables_call(trees, False, empty)
    if most > MAX_PATH_FEATURES:
        return None, f"a path splits on more than {MAX_PATH_FEATURES} features"
    if values > MAX_TABLE_VALUES:
        return None, f"its tables would hold {values:,} values (limit {MAX_TABLE_VALUES:,})"
    arrays = _arrays(len(trees.leaf_value), entries, steps, values)
    _tables_call(trees, True, arrays)
    mask, want = _entry_words(trees, arrays)
    nan_left, zero_left = node_missing_sides(trees)
    tables = LeafTables(
        trees, _expected_value(trees), entry_mask=mask, entry_want=want, nan_left=nan_left,
        zero_left=zero_left, **arrays,
    )  # fmt: skip
    return tables, "tabled"


def node_missing_sides(trees: TreeArrays) -> tuple[np.ndarray, np.ndarray]:
    """Per numeric node, whether NaN and whether zero (|x| <= 1e-35, which LightGBM's predictor
    reads as 0.0) go left: NaN is the default side with missing type NaN, else it is read as
    zero; zero is the default side with missing type Zero, else it is compared as 0.0."""
    zero_compared = trees.node_threshold >= 0.0
    zero_left = np.where(trees.node_missing == MISSING_ZERO, trees.node_default_left, zero_compared)
    nan_left = np.where(trees.node_missing == MISSING_NAN, trees.node_default_left, zero_left)
    return nan_left.astype(np.bool_), zero_left.astype(np.bool_)


def _entry_words(trees: TreeArrays, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per entry, the bits of its splits among its tree's nodes and the directions it wants
    (meaningful in trees of at most 64 internal nodes; others are walked split by split)."""
    steps, starts = arrays["step_node"], arrays["entry_steps"][:-1]
    if not len(starts):
        return np.zeros(0, dtype="uint64"), np.zeros(0, dtype="uint64")
    tree_of = np.searchsorted(trees.tree_nodes, steps, side="right") - 1
    local = steps - trees.tree_nodes[tree_of]
    shifted = np.left_shift(np.uint64(1), np.minimum(local, 63).astype("uint64"))
    bits = np.where(local < 64, shifted, np.uint64(0)).astype("uint64")
    wanted = np.where(arrays["step_left"], bits, np.uint64(0)).astype("uint64")
    return np.bitwise_or.reduceat(bits, starts), np.bitwise_or.reduceat(wanted, starts)


def probe_rows(trees: TreeArrays, rows: int = PROBE_ROWS, seed: int = 0) -> np.ndarray:
    """Rows whose values sit on, just below and just above every threshold, plus zero,
    NaN, tiny and huge values and every category of the bitsets (and ones outside them)."""
    rng = np.random.default_rng(seed)
    probe = np.empty((rows, trees.n_features))
    for feature in range(trees.n_features):
        nodes = trees.node_feature == feature
        numeric = trees.node_threshold[nodes & ~trees.node_categorical]
        edge = ZERO_THRESHOLD  # the largest value LightGBM reads as zero
        candidates = [0.0, np.nan, 1e-40, -1e-40, edge, -edge, -1e300, 1e300, -1.0, 1.5]
        for t in numeric:
            candidates += [t, np.nextafter(t, -np.inf), np.nextafter(t, np.inf)]
        if np.any(nodes & trees.node_categorical):
            candidates += [float(c) for c in range(33 * 2)]
        probe[:, feature] = rng.choice(np.asarray(candidates), size=rows)
    return probe


def _difference(got: np.ndarray, expected: np.ndarray) -> float:
    """The largest difference relative to max(1, |expected|); inf where NaNs differ."""
    if not np.array_equal(np.isnan(got), np.isnan(expected)):
        return float("inf")
    difference = np.abs(got - expected) / np.maximum(1.0, np.abs(expected))
    return float(np.nanmax(difference)) if difference.size else 0.0


def _probe(booster: lgb.Booster, tables: LeafTables) -> str | None:
    """None when the tables equal LightGBM's pred_contrib, and the tree walk its raw_score, on
    probe rows; else the difference."""
    rows = probe_rows(tables.trees)
    shap = np.asarray(booster.predict(rows, pred_contrib=True, num_threads=1))
    worst = _difference(tables.contributions(rows), shap)
    if worst > PROBE_TOLERANCE:
        return f"its tabled values differ from LightGBM's by {worst:.3g} on probe rows"
    raw = np.asarray(booster.predict(rows, raw_score=True, num_threads=1), dtype="float64")
    worst = _difference(tables.raw_scores(rows), raw)
    if worst > PROBE_TOLERANCE:
        return f"its tree walk's raw scores differ from LightGBM's by {worst:.3g} on probe rows"
    return None


def leaf_tables_for(booster: lgb.Booster) -> LeafTables | None:
    """The booster's checked tables, built once (None: keep LightGBM's pred_contrib)."""
    with _LOCK:
        if booster in _STATUS:
            return _BUILT.get(booster)
        tables, status = build_leaf_tables(booster)
        if tables is not None:
            mismatch = _probe(booster, tables)
            if mismatch:
                tables, status = None, mismatch
        if tables is None:
            _LOG.warning("SHAP from LightGBM's pred_contrib for this model: %s", status)
        else:
            _BUILT[booster] = tables
        _STATUS[booster] = status
        return tables


def built_leaf_tables(booster: lgb.Booster) -> LeafTables | None:
    """The booster's checked tables if some SHAP call has built them already, else None
    (raw scoring never builds them: it must not pay for SHAP it was not asked for)."""
    return _BUILT.get(booster)


def fast_shap_status(booster: lgb.Booster) -> str:
    """'tabled', or why this booster's SHAP comes from LightGBM's pred_contrib."""
    leaf_tables_for(booster)
    return _STATUS[booster]
