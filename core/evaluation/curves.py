"""Discrimination and calibration on a ScoreTable: ROC, KS, precision-recall, bands, calibration.

Everything here reads the precomputed cumulative counts, so it costs O(distinct scores) at most;
curves are thinned for plotting, the headline numbers use every point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.evaluation.calibration import CalibrationCheck, calibration_check
from core.evaluation.threshold_policy import ScoreTable

DEFAULT_BANDS = 10
DEFAULT_BAND_EDGES = "0.1, 0.2, 0.3, 0.5"
MAX_CURVE_POINTS = 600
HISTOGRAM_BINS = 50


@dataclass(frozen=True)
class Evaluation:
    """Headline metrics and plot-ready curves for one model on one labelled data set."""

    n: int
    n_bads: int
    auc: float
    ks: float
    ks_score: float
    brier: float
    average_precision: float
    roc: pd.DataFrame
    ks_curve: pd.DataFrame
    precision_recall: pd.DataFrame
    distribution: pd.DataFrame
    calibration: CalibrationCheck

    @property
    def gini(self) -> float:
        """Gini coefficient, 2 * AUC - 1."""
        return 2.0 * self.auc - 1.0

    @property
    def bad_rate(self) -> float:
        """Share of bads."""
        return self.n_bads / self.n


def require_both_classes(table: ScoreTable) -> None:
    """Raise when one class is absent: AUC, KS and the ROC curve are undefined."""
    if not table.has_both_classes:
        only = "bads (1)" if table.n_goods == 0 else "goods (0)"
        raise DataValidationError(
            f"The evaluation data holds only {only}: AUC, Gini, KS and the ROC curve are "
            "undefined.",
            fix="Evaluate on labelled data with both goods (0) and bads (1).",
        )


def _decline_counts(table: ScoreTable) -> tuple[np.ndarray, np.ndarray]:
    """Bads and goods declined at each threshold from above the maximum down to the minimum."""
    true_pos = (table.n_bads - table.cum_bads)[::-1]
    false_pos = (table.n_goods - table.cum_goods)[::-1]
    return true_pos, false_pos


def auc_from_table(table: ScoreTable) -> float:
    """Exact ROC AUC (ties counted half) by the trapezoid rule over integer counts."""
    require_both_classes(table)
    true_pos, false_pos = _decline_counts(table)
    twice_area = np.sum(np.diff(false_pos) * (true_pos[1:] + true_pos[:-1]))
    return float(twice_area) / (2.0 * table.n_bads * table.n_goods)


def ks_from_table(table: ScoreTable) -> tuple[float, float]:
    """The KS statistic and the score at which it is reached (both classes' ECDFs at <= score)."""
    require_both_classes(table)
    gap = np.abs(table.cum_bads[1:] / table.n_bads - table.cum_goods[1:] / table.n_goods)
    best = int(np.argmax(gap))
    return float(gap[best]), float(table.scores[best])


def _thin(n: int, keep: Sequence[int] = (), max_points: int = MAX_CURVE_POINTS) -> np.ndarray:
    """Up to max_points indices spread over range(n), always with the ends and `keep`."""
    base = np.linspace(0, n - 1, min(n, max_points)).round().astype(int)
    return np.unique(np.concatenate([base, np.asarray(keep, dtype=int)]))


def _roc_frame(table: ScoreTable) -> pd.DataFrame:
    """ROC points from (0, 0) to (1, 1) with the threshold that declines at or above it."""
    true_pos, false_pos = _decline_counts(table)
    thresholds = np.concatenate([[np.inf], table.scores[::-1]])
    index = _thin(len(true_pos))
    return pd.DataFrame(
        {
            "fpr": false_pos[index] / table.n_goods,
            "tpr": true_pos[index] / table.n_bads,
            "threshold": thresholds[index],
        }
    )


def _ks_frame(table: ScoreTable, ks_score: float) -> pd.DataFrame:
    """Cumulative shares of bads and goods scoring at or below each score."""
    keep = [int(np.searchsorted(table.scores, ks_score))]
    index = _thin(len(table.scores), keep)
    return pd.DataFrame(
        {
            "score": table.scores[index],
            "cum_bads": table.cum_bads[index + 1] / table.n_bads,
            "cum_goods": table.cum_goods[index + 1] / table.n_goods,
        }
    )


def _precision_recall(table: ScoreTable) -> tuple[pd.DataFrame, float]:
    """Precision and recall of 'decline' for bads at each threshold, and average precision."""
    true_pos, false_pos = _decline_counts(table)
    true_pos, false_pos = true_pos[1:], false_pos[1:]
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / table.n_bads
    average_precision = float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))
    index = _thin(len(recall))
    frame = pd.DataFrame(
        {
            "recall": recall[index],
            "precision": precision[index],
            "threshold": table.scores[::-1][index],
        }
    )
    return frame, average_precision


def score_distribution(table: ScoreTable, bins: int = HISTOGRAM_BINS) -> pd.DataFrame:
    """Counts of goods and bads per equal-width score bin over [0, 1]."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    cuts = np.searchsorted(table.scores, edges[1:-1], side="left")
    cuts = np.concatenate([[0], cuts, [len(table.scores)]])
    return pd.DataFrame(
        {
            "bin_left": edges[:-1],
            "bin_right": edges[1:],
            "goods": np.diff(table.cum_goods[cuts]),
            "bads": np.diff(table.cum_bads[cuts]),
        }
    )


def evaluate(table: ScoreTable) -> Evaluation:
    """AUC, KS (and where), Brier, average precision and thinned curves for plotting."""
    auc = auc_from_table(table)
    ks, ks_score = ks_from_table(table)
    precision_recall, average_precision = _precision_recall(table)
    return Evaluation(
        n=table.n,
        n_bads=table.n_bads,
        auc=auc,
        ks=ks,
        ks_score=ks_score,
        brier=table.brier,
        average_precision=average_precision,
        roc=_roc_frame(table),
        ks_curve=_ks_frame(table, ks_score),
        precision_recall=precision_recall,
        distribution=score_distribution(table),
        calibration=calibration_check(table),
    )


def _quantile_cuts(table: ScoreTable, n_bands: int) -> np.ndarray:
    """Cut indices into the distinct scores that split the rows into n_bands near-equal bands."""
    if not 1 <= n_bands <= 100:
        raise DataValidationError(
            f"{n_bands} bands requested.", fix="Choose between 1 and 100 bands."
        )
    targets = np.linspace(0, table.n, n_bands + 1)[1:-1]
    inner = np.searchsorted(table.cum_total, targets, side="left")
    return np.unique(np.concatenate([[0], inner, [len(table.scores)]]))


def parse_band_edges(text: str) -> list[float]:
    """Parse '0.1, 0.2, 0.5' into sorted distinct score edges strictly inside (0, 1)."""
    try:
        edges = sorted({float(part) for part in text.replace(";", ",").split(",") if part.strip()})
    except ValueError:
        raise DataValidationError(
            f"Band edges '{text}' are not numbers.", fix="Write them as 0.1, 0.2, 0.5."
        ) from None
    if not edges or edges[0] <= 0.0 or edges[-1] >= 1.0:
        raise DataValidationError(
            f"Band edges '{text}' must be probabilities strictly between 0 and 1.",
            fix="Write them as 0.1, 0.2, 0.5.",
        )
    return edges


def score_bands(
    table: ScoreTable, n_bands: int = DEFAULT_BANDS, edges: Sequence[float] | None = None
) -> pd.DataFrame:
    """Score-band table, riskiest band first: counts, bad rate, cumulative captures and KS.

    Bands are quantiles of the score (deciles by default) or the score intervals between the
    given edges, each band holding scores in [lower edge, upper edge).
    """
    if edges is None:
        cuts = _quantile_cuts(table, n_bands)
    else:
        inner = np.searchsorted(table.scores, np.asarray(edges, dtype=float), side="left")
        cuts = np.unique(np.concatenate([[0], inner, [len(table.scores)]]))
    cuts = cuts[::-1]
    upper, lower = cuts[:-1], cuts[1:]
    bads = table.cum_bads[upper] - table.cum_bads[lower]
    goods = table.cum_goods[upper] - table.cum_goods[lower]
    count = bads + goods
    score_sum = table.cum_score_sum[upper] - table.cum_score_sum[lower]
    cum_bad = np.cumsum(bads) / max(table.n_bads, 1)
    cum_good = np.cumsum(goods) / max(table.n_goods, 1)
    overall = table.n_bads / table.n if table.n else float("nan")
    cum_share = np.cumsum(count) / table.n
    return pd.DataFrame(
        {
            "band": np.arange(1, len(count) + 1),
            "score_min": table.scores[lower],
            "score_max": table.scores[upper - 1],
            "count": count,
            "share": count / table.n,
            "bads": bads,
            "goods": goods,
            "bad_rate": bads / count,
            "mean_score": score_sum / count,
            "cum_bad_capture": cum_bad,
            "cum_good_capture": cum_good,
            "ks": np.abs(cum_bad - cum_good),
            "lift": (bads / count) / overall if overall else np.nan,
            "cum_share": cum_share,
            "cum_lift": cum_bad / cum_share,
        }
    )


def calibration(table: ScoreTable, n_bins: int = DEFAULT_BANDS) -> pd.DataFrame:
    """Reliability curve on score quantile bins: mean predicted PD against observed bad rate."""
    bands = score_bands(table, n_bins).iloc[::-1].reset_index(drop=True)
    return bands[["mean_score", "bad_rate", "count"]].rename(
        columns={"mean_score": "mean_predicted", "bad_rate": "observed_bad_rate"}
    )
