"""Exact path-dependent TreeSHAP from per-leaf tables, compiled with Numba.

For one leaf whose path splits on the unique features P (d of them), the row's contribution to
feature i is  v * (a_i - z_i) * sum over S subset of A minus i of w(|S|, d) * prod of z_j over
P minus i minus S,  where v is the leaf value, z_j the share of training rows that follow the
path at feature j's splits, a_j whether the row follows them (A: the set with a_j = 1) and
w(k, d) = k! (d - k - 1)! / d!. That sum depends on the row only through A, so it is tabled
once per leaf and feature (2^(d-1) values, Yang 2021 "Fast TreeSHAP" v2). Per row, each tree
then costs one pass over its nodes and leaves instead of LightGBM's O(leaves x depth^2).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numba
import numpy as np

from core.scoring.tree_arrays import ZERO_THRESHOLD


def compiled(**options: object) -> Callable[[Callable], Callable]:
    """numba.njit with its machine code cached on disk (beside this file, else in the user's
    cache folder); where neither is writable, compiled once per process instead."""

    def wrap(function: Callable) -> Callable:
        try:
            return numba.njit(cache=True, **options)(function)
        except RuntimeError:  # numba: "cannot cache function ...: no locator available"
            return numba.njit(**options)(function)

    return wrap


@compiled()
def _child_count(child: int, node_count: np.ndarray, leaf_count: np.ndarray) -> float:
    """Training rows that reached a child (a node index, or -(leaf + 1))."""
    return node_count[child] if child >= 0 else leaf_count[-child - 1]


@compiled()
def _weights(d: int) -> np.ndarray:
    """w(k, d) = k! (d - k - 1)! / d! for k = 0 .. d - 1."""
    out = np.empty(max(d, 1))
    for k in range(d):
        out[k] = math.exp(math.lgamma(k + 1) + math.lgamma(d - k) - math.lgamma(d + 1))
    return out


@compiled()
def _fill_table(
    table: np.ndarray, z: np.ndarray, weights: np.ndarray, d: int, i: int, value: float
) -> None:
    """v * sum over S subset of B of w(|S|) * prod of z over (P minus i minus S), for every B
    (weights: _weights(d))."""
    size = 1 << (d - 1)
    for s in range(size):
        product = 1.0
        ones = 0
        for b in range(d - 1):
            if (s >> b) & 1:
                ones += 1
            else:
                product *= z[b if b < i else b + 1]
        table[s] = weights[ones] * product
    for b in range(d - 1):
        bit = 1 << b
        for s in range(size):
            if s & bit:
                table[s] += table[s ^ bit]
    for s in range(size):
        table[s] *= value


@compiled()
def _path_features(
    depth: int,
    path_node: np.ndarray,
    path_left: np.ndarray,
    feature: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    node_count: np.ndarray,
    leaf_count: np.ndarray,
    unique: np.ndarray,
    zeros: np.ndarray,
) -> int:
    """A path's unique features (in order of first split) and each one's zero fraction: the
    share of training rows that follow the path at all of that feature's splits."""
    d = 0
    for k in range(depth):
        f = feature[path_node[k]]
        u = 0
        while u < d and unique[u] != f:
            u += 1
        if u == d:
            unique[d], zeros[d] = f, 1.0
            d += 1
        child = left[path_node[k]] if path_left[k] else right[path_node[k]]
        zeros[u] *= _child_count(child, node_count, leaf_count) / node_count[path_node[k]]
    return d


@compiled()
def build_tables(
    left: np.ndarray,
    right: np.ndarray,
    feature: np.ndarray,
    node_count: np.ndarray,
    leaf_value: np.ndarray,
    leaf_count: np.ndarray,
    tree_root: np.ndarray,
    fill: bool,
    leaf_first: np.ndarray,
    leaf_d: np.ndarray,
    entry_feature: np.ndarray,
    entry_zero: np.ndarray,
    entry_table: np.ndarray,
    entry_steps: np.ndarray,
    step_node: np.ndarray,
    step_left: np.ndarray,
    tables: np.ndarray,
) -> tuple[int, int, int, int]:
    """Walk every root-to-leaf path; count (fill=False) or fill the entries, steps and tables.

    An entry is one (leaf, unique path feature) pair, its bit in the leaf's pattern being its
    order among the leaf's entries. Returns how many entries, steps and table values there are,
    and the most unique features on one path (the table count overflows past 63 of them: the
    caller refuses such a model before filling).
    """
    n_entries = n_steps = n_table = most = 0
    size = 2 * len(left) + 2
    stack = np.empty((size, 4), dtype=np.int64)  # node, depth, parent, went left
    path_node = np.empty(len(left) + 1, dtype=np.int64)
    path_left = np.empty(len(left) + 1, dtype=np.bool_)
    unique = np.empty(len(left) + 1, dtype=np.int64)
    zeros = np.empty(len(left) + 1)
    for root in tree_root:
        if root < 0:
            continue
        top = 0
        stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3] = root, 0, -1, 0
        while top >= 0:
            node, depth = stack[top, 0], stack[top, 1]
            if depth > 0:  # the path above depth - 1 is this node's (depth-first order)
                path_node[depth - 1], path_left[depth - 1] = stack[top, 2], stack[top, 3] == 1
            top -= 1
            if node >= 0:
                for child, went_left in ((right[node], 0), (left[node], 1)):
                    top += 1
                    stack[top, 0], stack[top, 1] = child, depth + 1
                    stack[top, 2], stack[top, 3] = node, went_left
                continue
            leaf = -node - 1
            d = _path_features(
                depth, path_node, path_left, feature, left, right, node_count, leaf_count,
                unique, zeros,
            )  # fmt: skip
            most = max(most, d)
            weights = _weights(min(d, 63))
            if fill:
                leaf_first[leaf], leaf_d[leaf] = n_entries, d
            for u in range(d):
                if fill:
                    entry_feature[n_entries], entry_zero[n_entries] = unique[u], zeros[u]
                    entry_table[n_entries], entry_steps[n_entries] = n_table, n_steps
                    _fill_table(tables[n_table:], zeros[:d], weights, d, u, leaf_value[leaf])
                for k in range(depth):
                    if feature[path_node[k]] == unique[u]:
                        if fill:
                            step_node[n_steps], step_left[n_steps] = path_node[k], path_left[k]
                        n_steps += 1
                n_table += 1 << (d - 1)
                n_entries += 1
    if fill:
        entry_steps[n_entries] = n_steps
    return n_entries, n_steps, n_table, most


@compiled()
def category_left(value: float, start: int, end: int, words: np.ndarray) -> bool:
    """LightGBM's categorical decision (tree.h CategoricalDecision): left when the value's
    integer part is in the split's bitset; NaN, negative and out-of-range values go right
    (values within ZERO_THRESHOLD are read as 0.0, as LightGBM's predictor reads them)."""
    if -ZERO_THRESHOLD <= value <= ZERO_THRESHOLD:
        value = 0.0
    if math.isnan(value) or value < 0.0 or value >= 2147483648.0:
        return False
    category = int(value)
    word = start + category // 32
    if word >= end:
        return False
    return (words[word] >> np.uint32(category % 32)) & np.uint32(1) == np.uint32(1)


@compiled(inline="always")
def _pattern_by_steps(
    go_left: np.ndarray,
    first: int,
    d: int,
    entry_steps: np.ndarray,
    step_node: np.ndarray,
    step_left: np.ndarray,
    base: int,
) -> int:
    """A leaf's pattern (bit u: the row follows the path at every split on its u-th feature),
    split by split, for trees with more than 64 internal nodes."""
    pattern = 0
    for u in range(d):
        e = first + u
        agree = True
        for s in range(entry_steps[e], entry_steps[e + 1]):
            if go_left[step_node[s] - base] != step_left[s]:
                agree = False
                break
        if agree:
            pattern |= 1 << u
    return pattern


@compiled()
def numeric_left(value: float, threshold: float, nan_left: bool, zero_left: bool) -> bool:
    """Whether a value goes left at a numeric node (LightGBM's tree.h NumericalDecision), its
    NaN and zero sides decided beforehand (fast_shap.node_missing_sides). Scalars only: a
    helper taking the node arrays ran 3x slower in the kernels' loops."""
    if value != value:
        return nan_left
    if -ZERO_THRESHOLD <= value <= ZERO_THRESHOLD:
        return zero_left
    return value <= threshold


@compiled()
def _decisions(
    row: np.ndarray,
    base: int,
    end: int,
    feature: np.ndarray,
    threshold: np.ndarray,
    categorical: np.ndarray,
    nan_left: np.ndarray,
    zero_left: np.ndarray,
    words_start: np.ndarray,
    words_end: np.ndarray,
    words: np.ndarray,
    go_left: np.ndarray,
) -> np.uint64:
    """One row's side at each node of one tree (LightGBM's decisions, tree.h
    NumericalDecision / CategoricalDecision) into go_left and, for the first 64 nodes, as the
    bits of one word (1: left). NaN and zero sides are decided per node beforehand
    (fast_shap.node_missing_sides)."""
    word = np.uint64(0)
    for node in range(base, end):
        value = row[feature[node]]
        if categorical[node]:
            goes = category_left(value, words_start[node], words_end[node], words)
        else:
            goes = numeric_left(value, threshold[node], nan_left[node], zero_left[node])
        go_left[node - base] = goes
        if goes and node - base < 64:
            word |= np.uint64(1) << np.uint64(node - base)
    return word


@compiled(nogil=True)
def row_contributions(
    matrix: np.ndarray, out: np.ndarray, bias: float, nodes: tuple, trees: tuple, entries: tuple
) -> None:
    """Exact TreeSHAP of every row into out (rows x (features + 1), the base value last).

    `trees`: tree_root, tree_nodes, tree_leaves; `entries`: leaf_first, leaf_d,
    entry_feature, entry_zero, entry_table, entry_steps, entry_mask, entry_want, step_node,
    step_left, tables (fast_shap.LeafTables). Tree by tree, so one tree's tables stay in
    cache across the rows. NaN and zero sides are decided per node beforehand
    (fast_shap.node_missing_sides). In a tree of at most 64 internal nodes an entry agrees
    when the row's decision word matches the entry's wanted directions under its mask;
    larger trees are checked split by split.
    """
    feature, threshold, categorical, nan_left, zero_left, words_start, words_end, words = nodes
    tree_root, tree_nodes, tree_leaves = trees
    leaf_first, leaf_d, entry_feature, entry_zero, entry_table, entry_steps = entries[:6]
    entry_mask, entry_want, step_node, step_left, tables = entries[6:]
    go_left = np.empty(len(feature) + 1, dtype=np.bool_)
    n_features = out.shape[1] - 1
    out[:, :n_features] = 0.0
    out[:, n_features] = bias
    for t in range(len(tree_root)):
        if tree_root[t] < 0:
            continue
        base, end = tree_nodes[t], tree_nodes[t + 1]
        for r in range(matrix.shape[0]):
            word = _decisions(
                matrix[r], base, end, feature, threshold, categorical, nan_left, zero_left,
                words_start, words_end, words, go_left,
            )  # fmt: skip
            for leaf in range(tree_leaves[t], tree_leaves[t + 1]):
                first, d = leaf_first[leaf], leaf_d[leaf]
                if end - base <= 64:
                    pattern = 0
                    for u in range(d):
                        e = first + u
                        pattern |= int((word & entry_mask[e]) == entry_want[e]) << u
                else:
                    pattern = _pattern_by_steps(
                        go_left, first, d, entry_steps, step_node, step_left, base
                    )
                for u in range(d):
                    e = first + u
                    rest = (pattern & ((1 << u) - 1)) | ((pattern >> (u + 1)) << u)
                    share = ((pattern >> u) & 1) - entry_zero[e]
                    out[r, entry_feature[e]] += tables[entry_table[e] + rest] * share
