"""Static PNG figures logged with each governed run, for reviewers using the MLflow UI."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from core.evaluation.metrics import auc_score, ks_statistic


def write_run_figures(
    folder: Path, labels: np.ndarray, scores: np.ndarray, importance: pd.Series
) -> list[Path]:
    """Write roc.png, ks.png and feature_importance.png into folder; return their paths."""
    paths = [folder / "roc.png", folder / "ks.png", folder / "feature_importance.png"]
    fpr, tpr, _ = roc_curve(labels, scores)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.plot(fpr, tpr, label=f"AUC = {auc_score(labels, scores):.4f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC (validation)")
    ax.legend(loc="lower right")
    fig.savefig(paths[0], dpi=90, bbox_inches="tight")
    plt.close(fig)

    order = np.argsort(scores)
    grid = scores[order]
    bads = np.cumsum(labels[order]) / max(labels.sum(), 1)
    goods = np.cumsum(1 - labels[order]) / max((1 - labels).sum(), 1)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.plot(grid, bads, label="bads")
    ax.plot(grid, goods, label="goods")
    ax.set(
        xlabel="Score (probability of default)",
        ylabel="Cumulative share",
        title=f"KS = {ks_statistic(labels, scores):.4f}",
    )
    ax.legend(loc="lower right")
    fig.savefig(paths[1], dpi=90, bbox_inches="tight")
    plt.close(fig)

    ranked = importance.sort_values()
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(ranked) + 1))
    ax.barh(ranked.index, ranked.to_numpy())
    ax.set(xlabel="Gain", title="Feature importance (gain)")
    fig.savefig(paths[2], dpi=90, bbox_inches="tight")
    plt.close(fig)
    return paths
