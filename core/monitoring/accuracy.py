"""Accuracy on labelled recent decisions: AUC, KS and Gini with intervals, score-band tests."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest, norm

CONFIDENCE = 0.95
_KS_C = {0.95: 1.358, 0.99: 1.628}


@dataclass(frozen=True)
class Discrimination:
    """AUC (Hanley-McNeil interval), KS (two-sample critical band) and Gini, on n labelled rows."""

    n: int
    n_bads: int
    auc: float
    auc_low: float
    auc_high: float
    ks: float
    ks_low: float
    ks_high: float

    @property
    def gini(self) -> float:
        """2 * AUC - 1."""
        return 2 * self.auc - 1

    @property
    def gini_low(self) -> float:
        """Lower bound of the Gini interval."""
        return 2 * self.auc_low - 1

    @property
    def gini_high(self) -> float:
        """Upper bound of the Gini interval."""
        return 2 * self.auc_high - 1


def hanley_mcneil_se(auc: float, n_bads: int, n_goods: int) -> float:
    """Standard error of an AUC (Hanley & McNeil, 1982)."""
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_bads - 1) * (q1 - auc**2) + (n_goods - 1) * (q2 - auc**2)) / (
        n_bads * n_goods
    )
    return math.sqrt(max(variance, 0.0))


def auc_and_ks(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """AUC (ties count half, as sklearn) and KS from one sort of the scores."""
    order = np.argsort(scores, kind="stable")
    s_sorted, bad = scores[order], labels[order] == 1
    ends = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
    cum_bads = np.cumsum(bad)[ends]
    cum_goods = (ends + 1) - cum_bads
    n_bads, n_goods = cum_bads[-1], cum_goods[-1]
    goods_in = np.diff(cum_goods, prepend=0)
    bads_below = np.r_[0, cum_bads[:-1]]
    bads_in = np.diff(cum_bads, prepend=0)
    auc = float(np.sum(goods_in * (n_bads - bads_below - bads_in) + 0.5 * goods_in * bads_in))
    ks = float(np.max(np.abs(cum_bads / n_bads - cum_goods / n_goods)))
    return auc / (n_bads * n_goods), ks


def discrimination(labels: np.ndarray, scores: np.ndarray) -> Discrimination | None:
    """AUC, KS and Gini with 95% intervals, or None without both classes."""
    y = np.asarray(labels, dtype=float)
    n_bads = int(y.sum())
    n_goods = int(y.size - n_bads)
    if n_bads == 0 or n_goods == 0:
        return None
    auc, ks = auc_and_ks(y, np.asarray(scores, dtype=float))
    half = norm.ppf(0.5 + CONFIDENCE / 2) * hanley_mcneil_se(auc, n_bads, n_goods)
    ks_half = _KS_C[CONFIDENCE] * math.sqrt((n_bads + n_goods) / (n_bads * n_goods))
    return Discrimination(
        n=int(y.size),
        n_bads=n_bads,
        auc=auc,
        auc_low=max(auc - half, 0.0),
        auc_high=min(auc + half, 1.0),
        ks=ks,
        ks_low=max(ks - ks_half, 0.0),
        ks_high=min(ks + ks_half, 1.0),
    )


def band_test(n: int, bads: int, expected_rate: float | None) -> float | None:
    """Two-sided binomial p-value of bads in n against the band's expected bad rate."""
    if n == 0 or expected_rate is None:
        return None
    rate = min(max(expected_rate, 1e-9), 1 - 1e-9)
    return float(binomtest(int(bads), int(n), rate).pvalue)
