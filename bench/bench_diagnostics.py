"""Benchmark Model diagnostics on 1,000,000 synthetic applicants against a naive baseline.

First render: ROC, AUC, KS, score bands, calibration and the policy at the business threshold.
Threshold change: the policy (approval rate, bad rate, confusion matrix) at a new threshold.
Baseline (same data, same run): sklearn roc_curve / roc_auc_score, scipy ks_2samp, pandas
qcut bands, and a fresh sklearn confusion matrix per threshold.
Goals: first render < 3 s, threshold change < 100 ms.

Run: python bench/bench_diagnostics.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp
from sklearn.metrics import confusion_matrix, roc_auc_score, roc_curve

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.charts import diagnostics as charts
from core.evaluation.curves import calibration, evaluate, score_bands
from core.evaluation.threshold_policy import build_score_table, policy_at
from core.settings import DEFAULT_DECISION_THRESHOLD

FIRST_RENDER_GOAL_S = 3.0
THRESHOLD_GOAL_MS = 100.0
THRESHOLD_CHANGES = 50


def synthetic(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """About 15% bads; scores are float32-precision probabilities, like a model's output."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(rows) < 0.15).astype(np.int64)
    logit = rng.normal(0.0, 1.0, rows) + 1.3 * labels - 1.6
    scores = (1.0 / (1.0 + np.exp(-logit))).astype(np.float32).astype(np.float64)
    return labels, scores


def verdict(value: float, goal: float) -> str:
    """'met' or 'MISSED' against a goal."""
    return "met" if value < goal else "MISSED"


def timed(work: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time in seconds over repeats, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def fast_first_render(labels: np.ndarray, scores: np.ndarray) -> dict[str, object]:
    """What the page computes on first render, from one sort."""
    table = build_score_table(labels, scores)
    return {
        "table": table,
        "evaluation": evaluate(table),
        "bands": score_bands(table),
        "calibration": calibration(table),
        "policy": policy_at(table, DEFAULT_DECISION_THRESHOLD),
    }


def naive_first_render(labels: np.ndarray, scores: np.ndarray) -> dict[str, object]:
    """The same numbers the usual way: sklearn ROC and AUC, scipy KS, pandas qcut bands."""
    fpr, _tpr, _thresholds = roc_curve(labels, scores)
    frame = pd.DataFrame({"label": labels, "score": scores})
    frame["band"] = pd.qcut(frame["score"], 10, labels=False, duplicates="drop")
    bands = frame.groupby("band")["label"].agg(["count", "sum", "mean"])
    return {
        "auc": roc_auc_score(labels, scores),
        "ks": ks_2samp(scores[labels == 1], scores[labels == 0]).statistic,
        "roc_points": len(fpr),
        "bands": bands,
        "confusion": confusion_matrix(labels, (scores >= DEFAULT_DECISION_THRESHOLD).astype(int)),
    }


def main(argv: list[str] | None = None) -> int:
    """Time both approaches, check they agree, print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    labels, scores = synthetic(args.rows)
    print(
        f"Evaluation set: {args.rows:,} rows, {labels.mean():.2%} bads, "
        f"{len(np.unique(scores)):,} distinct scores; {os.cpu_count()} CPU(s), "
        f"load average {os.getloadavg()[0]:.1f}; median of {args.repeats} repeat(s)"
    )

    fast_s, fast = timed(lambda: fast_first_render(labels, scores), args.repeats)
    naive_s, naive = timed(lambda: naive_first_render(labels, scores), args.repeats)
    evaluation = fast["evaluation"]
    assert abs(evaluation.auc - naive["auc"]) < 1e-9, "AUC disagrees with sklearn"
    assert abs(evaluation.ks - naive["ks"]) < 1e-12, "KS disagrees with scipy"

    table = fast["table"]
    rng = np.random.default_rng(1)
    thresholds = rng.uniform(0.05, 0.95, THRESHOLD_CHANGES)
    change_times, naive_times, figure_times = [], [], []
    for threshold in thresholds:
        start = time.perf_counter()
        point = policy_at(table, float(threshold))
        change_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        charts.roc_figure({"model": evaluation}, {"model": point})
        charts.ks_figure({"model": evaluation}, point.threshold)
        charts.distribution_figure(evaluation, point.threshold)
        charts.precision_recall_figure(evaluation, point)
        figure_times.append(time.perf_counter() - start)
    for threshold in thresholds[:10]:
        start = time.perf_counter()
        matrix = confusion_matrix(labels, (scores >= threshold).astype(int))
        naive_times.append(time.perf_counter() - start)
        point = policy_at(table, float(threshold))
        assert matrix[1, 1] == point.bads_declined and matrix[0, 1] == point.goods_declined

    change_ms = statistics.median(change_times) * 1e3
    worst_ms = max(change_times) * 1e3
    naive_ms = statistics.median(naive_times) * 1e3
    figures_ms = statistics.median(figure_times) * 1e3
    print(f"ROC AUC {evaluation.auc:.6f} (sklearn agrees to 1e-9), KS {evaluation.ks:.6f}")
    print(
        f"First render (ROC, KS, 10 bands, calibration, policy): {fast_s:.3f} s "
        f"vs naive {naive_s:.3f} s -> {naive_s / fast_s:.1f}x faster "
        f"(goal < {FIRST_RENDER_GOAL_S:.0f} s: {verdict(fast_s, FIRST_RENDER_GOAL_S)})"
    )
    print(
        f"Threshold change (policy lookup, median of {THRESHOLD_CHANGES}): {change_ms:.3f} ms "
        f"(worst {worst_ms:.3f} ms) vs naive confusion matrix {naive_ms:.1f} ms -> "
        f"{naive_ms / change_ms:,.0f}x faster "
        f"(goal < {THRESHOLD_GOAL_MS:.0f} ms: {verdict(worst_ms, THRESHOLD_GOAL_MS)})"
    )
    print(
        f"Threshold change incl. rebuilding the 4 marked figures: "
        f"{change_ms + figures_ms:.1f} ms (figures {figures_ms:.1f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
