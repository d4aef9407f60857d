"""Benchmark the tabled TreeSHAP (core.scoring.fast_shap) against LightGBM's own pred_contrib.

Both on one thread, on the demo models trained here (the numeric demo model the service bench
uses, and the categorical demo model), per batch size: CPU milliseconds per row, the ratio,
and the largest difference from pred_contrib. Also what building a model's tables costs.
Run: python bench/bench_shap.py [--seconds 0.5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.data.synthetic import demo_dataset  # noqa: E402
from core.scoring import fast_shap  # noqa: E402
from core.scoring.prepare import feature_matrix, prepare_features  # noqa: E402
from core.training.configs import DEMO_CONFIGS  # noqa: E402
from core.training.model_config import build_model  # noqa: E402

SIZES = (1, 30, 100, 1_000, 20_000)


def cpu_per_call(call: Callable[[], object], seconds: float) -> float:
    """CPU seconds of one call, averaged over at least `seconds` of CPU."""
    call()
    start, calls = time.process_time(), 0
    while time.process_time() - start < seconds:
        call()
        calls += 1
    return (time.process_time() - start) / calls


def models() -> dict[str, tuple[object, np.ndarray]]:
    """The numeric and the categorical demo model with their feature matrices."""
    dataset = demo_dataset()
    features, target = dataset.features, dataset.target
    scored = demo_dataset(n_rows=max(SIZES), seed=99).features  # distinct rows, none repeated
    config = next(c for c in DEMO_CONFIGS if c.run_name == "lgb_baseline")
    numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]
    plain = build_model(replace(config, monotone_constraints=None), numeric)
    plain.fit(features[numeric], target)
    demo = build_model(config, list(features.columns)).fit(features, target)
    return {
        f"numeric demo ({len(numeric)} features)": (
            plain,
            scored[numeric].to_numpy(dtype="float64"),
        ),
        f"categorical demo ({features.shape[1]} features)": (
            demo,
            feature_matrix(prepare_features(demo, scored).frame),
        ),
    }


def main() -> int:
    """Print per-row CPU of both paths per batch size, their ratio and the largest difference."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=0.5, help="CPU seconds per figure")
    args = parser.parse_args()
    for name, (model, matrix) in models().items():
        booster = model.booster_
        start = time.process_time()
        tables, status = fast_shap.build_leaf_tables(booster)
        built = time.process_time() - start
        if tables is None:
            print(f"{name}: not tabled ({status})")
            continue
        size = len(tables.tables)
        print(f"{name}, {booster.num_trees()} trees: tables in {built:.2f} CPU-s, {size:,} values")
        for rows in SIZES:
            batch = np.ascontiguousarray(matrix[:rows])
            contrib = booster.predict
            base = cpu_per_call(
                lambda b=batch, f=contrib: f(b, pred_contrib=True, num_threads=1), args.seconds
            )
            ours = cpu_per_call(lambda b=batch, t=tables: t.contributions(b), args.seconds)
            expected = booster.predict(batch, pred_contrib=True, num_threads=1)
            worst = float(np.abs(tables.contributions(batch) - expected).max())
            print(
                f"  {rows:>6,} rows: pred_contrib {1e3 * base / rows:.4f} ms/row, "
                f"tabled {1e3 * ours / rows:.4f} ms/row ({base / ours:.1f}x), "
                f"largest difference {worst:.1e}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
