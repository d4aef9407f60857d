"""A LightGBM model's trees as flat arrays, read from its own model text.

Every internal node of every tree gets one global index, every leaf another. A child is a
global node index when >= 0, and `-(leaf + 1)` for a global leaf index. Categorical splits
keep their category bitsets (32-bit words) as LightGBM stores them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CATEGORICAL_MASK = 1
DEFAULT_LEFT_MASK = 2
MISSING_ZERO = 1
MISSING_NAN = 2
# LightGBM's kZeroThreshold is the float 1e-35f, compared as a double: its predictor reads
# values within it as 0.0.
ZERO_THRESHOLD = float(np.float32(1e-35))


@dataclass(frozen=True)
class TreeArrays:
    """All trees of one model: nodes, leaves, categorical bitsets and where each tree starts."""

    n_features: int
    node_feature: np.ndarray
    node_threshold: np.ndarray
    node_categorical: np.ndarray
    node_default_left: np.ndarray
    node_missing: np.ndarray
    node_left: np.ndarray
    node_right: np.ndarray
    node_count: np.ndarray
    node_words_start: np.ndarray
    node_words_end: np.ndarray
    category_words: np.ndarray
    leaf_value: np.ndarray
    leaf_count: np.ndarray
    tree_root: np.ndarray
    tree_nodes: np.ndarray
    tree_leaves: np.ndarray
    linear: bool
    average_output: bool = False

    @property
    def n_trees(self) -> int:
        """How many trees the model has."""
        return len(self.tree_root)


def _tree_blocks(text: str) -> list[dict[str, str]]:
    """Each 'Tree=' block of the model text as its key=value lines."""
    blocks: list[dict[str, str]] = []
    for line in text.splitlines():
        if line.startswith("end of trees"):
            break
        if line.startswith("Tree="):
            blocks.append({})
        elif blocks and "=" in line:
            key, _, value = line.partition("=")
            blocks[-1][key] = value
    return blocks


def _numbers(block: dict[str, str], key: str, dtype: str) -> np.ndarray:
    """One space-separated line of a tree block as an array (empty when absent)."""
    raw = block.get(key, "").split()
    values = [float(v) for v in raw] if dtype == "float64" else [int(v) for v in raw]
    return np.asarray(values, dtype)


def _children(raw: np.ndarray, node_offset: int, leaf_offset: int) -> np.ndarray:
    """A tree's child pointers made global (nodes shifted, leaves as -(global leaf + 1))."""
    return np.where(raw >= 0, raw + node_offset, raw - leaf_offset).astype("int64")


def tree_arrays(text: str, n_features: int) -> TreeArrays:
    """Parse every tree of a model text into flat global arrays."""
    parts: dict[str, list[np.ndarray]] = {key: [] for key in _PART_KEYS}
    roots, node_starts, leaf_starts = [], [0], [0]
    words: list[np.ndarray] = []
    word_offset, linear = 0, False
    for block in _tree_blocks(text):
        nodes, leaves = node_starts[-1], leaf_starts[-1]
        linear = linear or block.get("is_linear", "0").strip() == "1"
        kinds = _numbers(block, "decision_type", "int64")
        feature = _numbers(block, "split_feature", "int64")
        threshold = _numbers(block, "threshold", "float64")
        categorical = (kinds & CATEGORICAL_MASK) != 0
        bounds = _numbers(block, "cat_boundaries", "int64")
        cat_index = np.where(categorical, threshold, 0).astype("int64")
        starts = ends = np.zeros(len(feature), dtype="int64")
        if len(bounds) > 1:
            starts = np.where(categorical, word_offset + bounds[cat_index], 0)
            ends = np.where(categorical, word_offset + bounds[cat_index + 1], 0)
        block_words = _numbers(block, "cat_threshold", "int64")
        words.append(block_words)
        word_offset += len(block_words)
        parts["feature"].append(feature)
        parts["threshold"].append(threshold)
        parts["categorical"].append(categorical)
        parts["default_left"].append((kinds & DEFAULT_LEFT_MASK) != 0)
        parts["missing"].append((kinds >> 2) & 3)
        parts["left"].append(_children(_numbers(block, "left_child", "int64"), nodes, leaves))
        parts["right"].append(_children(_numbers(block, "right_child", "int64"), nodes, leaves))
        parts["count"].append(_numbers(block, "internal_count", "float64"))
        parts["words_start"].append(starts)
        parts["words_end"].append(ends)
        values = _numbers(block, "leaf_value", "float64")
        counts = _numbers(block, "leaf_count", "float64")
        parts["leaf_value"].append(values)
        parts["leaf_count"].append(np.resize(counts, len(values)) if len(counts) else values * 0)
        roots.append(nodes if len(feature) else -(leaves + 1))
        node_starts.append(nodes + len(feature))
        leaf_starts.append(leaves + len(parts["leaf_value"][-1]))
    joined = {key: _joined(values, _PART_KEYS[key]) for key, values in parts.items()}
    return TreeArrays(
        n_features=n_features,
        node_feature=joined["feature"],
        node_threshold=joined["threshold"],
        node_categorical=joined["categorical"],
        node_default_left=joined["default_left"],
        node_missing=joined["missing"],
        node_left=joined["left"],
        node_right=joined["right"],
        node_count=joined["count"],
        node_words_start=joined["words_start"],
        node_words_end=joined["words_end"],
        category_words=_joined(words, "uint32"),
        leaf_value=joined["leaf_value"],
        leaf_count=joined["leaf_count"],
        tree_root=np.asarray(roots, "int64"),
        tree_nodes=np.asarray(node_starts, "int64"),
        tree_leaves=np.asarray(leaf_starts, "int64"),
        linear=linear,
        average_output="\naverage_output" in text[: text.find("Tree=")],
    )


_PART_KEYS = {
    "feature": "int64",
    "threshold": "float64",
    "categorical": "bool",
    "default_left": "bool",
    "missing": "int64",
    "left": "int64",
    "right": "int64",
    "count": "float64",
    "words_start": "int64",
    "words_end": "int64",
    "leaf_value": "float64",
    "leaf_count": "float64",
}


def _joined(values: list[np.ndarray], dtype: str) -> np.ndarray:
    """Concatenate per-tree arrays (an empty array of the type when there are none)."""
    if not values:
        return np.empty(0, dtype=dtype)
    return np.concatenate([np.asarray(v) for v in values]).astype(dtype)
