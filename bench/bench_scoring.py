"""Benchmark what-if scoring: one rescore with explanation, and a 100,000-row batch with SHAP.

Baselines are measured in the same run: shap.TreeExplainer built from scratch plus
predict_proba per call, and LightGBM's plain `pred_contrib` on the same batch.
Run: python bench/bench_scoring.py [--calls 1000] [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data.synthetic import DEMO_MONOTONE, demo_dataset, make_synthetic_credit_data
from core.scoring.loaded_model import LoadedModel
from core.scoring.prepare import feature_matrix, prepare_features
from core.scoring.reason_codes import load_reason_codes
from core.scoring.scorer import scorer_for
from core.settings import DEFAULT_DECISION_THRESHOLD
from core.training.configs import DEMO_CONFIGS
from core.training.model_config import build_model


def _percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    values = np.asarray(samples) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def _timed(function, calls: int) -> list[float]:
    """Wall time of each of `calls` calls."""
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> int:
    """Train the demo baseline model, then time single rescoring and batch scoring."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--config", default="lgb_baseline", help="a demo run name to benchmark")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import shap

    config = next(c for c in DEMO_CONFIGS if c.run_name == args.config)
    dataset = demo_dataset()
    classifier = build_model(
        replace(config, monotone_constraints=DEMO_MONOTONE), list(dataset.features.columns)
    ).fit(dataset.features, dataset.target)
    model = LoadedModel(classifier)
    threshold = DEFAULT_DECISION_THRESHOLD
    book = load_reason_codes()
    print(
        f"model: {config.run_name} ({classifier.booster_.num_trees()} trees, "
        f"num_leaves {config.num_leaves}); {os.cpu_count()} CPU(s), "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    # One applicant as the form sends it: text for numbers, category names.
    form_row = dataset.features.iloc[[123]].astype(object).astype(str)

    scorer_for(model).score(form_row, threshold, reason_book=book)  # warm-up (parses the model)
    ours = _timed(
        lambda: scorer_for(model).score(form_row, threshold, reason_book=book), args.calls
    )
    row = dataset.features.iloc[[123]]

    def baseline() -> None:
        explainer = shap.TreeExplainer(classifier)
        explainer.shap_values(row)
        classifier.predict_proba(row)

    theirs = _timed(baseline, args.calls)
    ours_p50, ours_p95 = _percentiles(ours)
    base_p50, base_p95 = _percentiles(theirs)
    print(f"one rescore with explanation, {args.calls} calls:")
    print(f"  Scorer.score                  p50 {ours_p50:7.2f} ms   p95 {ours_p95:7.2f} ms")
    print(f"  TreeExplainer+predict_proba   p50 {base_p50:7.2f} ms   p95 {base_p95:7.2f} ms")
    print(f"  speed-up p50 x{base_p50 / ours_p50:.1f}   p95 x{base_p95 / ours_p95:.1f}")
    print(f"  goal p50 < 20 ms: {'met' if ours_p50 < 20 else 'NOT met'}")

    batch = make_synthetic_credit_data(n_rows=args.rows, seed=2026)
    start, cpu_start = time.perf_counter(), time.process_time()
    result = scorer_for(model).score(batch, threshold, reason_book=book)
    batch_seconds = time.perf_counter() - start
    batch_cpu = time.process_time() - cpu_start
    additivity = np.abs(
        result.contributions.sum(axis=1) + result.base_value - result.scores["raw_score"]
    ).max()
    sample = min(10_000, args.rows)
    matrix = feature_matrix(prepare_features(classifier, batch.head(sample)).frame)
    start = time.perf_counter()
    plain = classifier.booster_.predict(matrix, pred_contrib=True, num_threads=1)
    plain_seconds = time.perf_counter() - start
    plain_estimate = plain_seconds * args.rows / sample
    difference = np.abs(plain[:, :-1] - result.contributions.head(sample).to_numpy()).max()
    print(f"batch of {args.rows:,} rows with SHAP contributions and reasons:")
    print(f"  Scorer.score                  {batch_seconds:7.2f} s   (CPU time {batch_cpu:.2f} s)")
    print(
        f"  plain pred_contrib            {plain_estimate:7.2f} s "
        f"(measured {plain_seconds:.2f} s on {sample:,} rows, scaled)"
    )
    print(f"  speed-up x{plain_estimate / batch_seconds:.1f}")
    print(f"  max |difference| vs plain pred_contrib on {sample:,} rows: {difference:.2e}")
    print(f"  max |contributions + base - raw|: {additivity:.2e}")
    print(f"  goal < 10 s: {'met' if batch_seconds < 10 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
