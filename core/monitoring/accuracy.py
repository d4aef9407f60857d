"""Accuracy on labelled recent decisions: AUC, KS and Gini with intervals, score-band tests."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, fisher_exact, norm

from core.decision_log.contract import SCORE
from core.monitoring.reference import ReferenceProfile
from core.monitoring.sources import OUTCOME
from core.settings import MONITOR_MIN_LABELLED

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
    return with_intervals(auc, ks, n_bads, n_goods)


def with_intervals(auc: float, ks: float, n_bads: int, n_goods: int) -> Discrimination:
    """95% intervals around an AUC (Hanley-McNeil) and a KS (two-sample critical band)."""
    half = norm.ppf(0.5 + CONFIDENCE / 2) * hanley_mcneil_se(auc, n_bads, n_goods)
    ks_half = _KS_C[CONFIDENCE] * math.sqrt((n_bads + n_goods) / (n_bads * n_goods))
    return Discrimination(
        n=n_bads + n_goods,
        n_bads=n_bads,
        auc=auc,
        auc_low=max(auc - half, 0.0),
        auc_high=min(auc + half, 1.0),
        ks=ks,
        ks_low=max(ks - ks_half, 0.0),
        ks_high=min(ks + ks_half, 1.0),
    )


SMALL_COUNT = 5


@dataclass(frozen=True)
class BandTest:
    """A two-sample test of one band's bad rate: the test used and its p-value."""

    test: str
    p_value: float


def band_test(n: int, bads: int, reference_n: int, reference_bads: int) -> BandTest | None:
    """Recent bads in n against the reference's bads in its own rows (both are samples).

    Fisher's exact test when any expected cell count is below 5, else the χ² test of the 2×2
    table; None when either side has no rows.
    """
    if n <= 0 or reference_n <= 0:
        return None
    table = np.array([[bads, n - bads], [reference_bads, reference_n - reference_bads]])
    margins = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    if (table.sum(axis=0) == 0).any():
        return BandTest("no test (one outcome only)", 1.0)
    if margins.min() < SMALL_COUNT:
        return BandTest("Fisher exact", float(fisher_exact(table).pvalue))
    return BandTest("χ²", float(chi2_contingency(table).pvalue))


def holm_adjusted(p_values: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN stays NaN): compare each with the alert level."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    present = np.flatnonzero(np.isfinite(p))
    order = present[np.argsort(p[present], kind="stable")]
    m = order.size
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min((m - rank) * p[i], 1.0))
        adjusted[i] = running
    return adjusted


def outcome_columns(
    decisions: pd.DataFrame, approved: np.ndarray, key: np.ndarray, n_keys: int
) -> pd.DataFrame:
    """Per group: labelled rows, bad rate, bad rate among approved, AUC/KS/Gini with intervals."""
    outcome = (
        decisions[OUTCOME].to_numpy(dtype=float)
        if OUTCOME in decisions.columns
        else np.full(len(decisions), np.nan)
    )
    labelled = ~np.isnan(outcome)
    y = np.where(labelled, outcome, 0.0)
    n_lab = np.bincount(key[labelled], minlength=n_keys)
    approved_lab = np.bincount(key[labelled & approved], minlength=n_keys)
    safe = np.maximum(n_lab, 1)
    table = pd.DataFrame(
        {
            "labelled": n_lab,
            "bad_rate": np.where(
                n_lab > 0, np.bincount(key, weights=y, minlength=n_keys) / safe, np.nan
            ),
            "mean_pd_labelled": np.where(
                n_lab > 0,
                np.bincount(
                    key[labelled], weights=decisions[SCORE].to_numpy()[labelled], minlength=n_keys
                )
                / safe,
                np.nan,
            ),
            "bad_rate_approved": np.where(
                approved_lab > 0,
                np.bincount(key, weights=y * approved, minlength=n_keys)
                / np.maximum(approved_lab, 1),
                np.nan,
            ),
        }
    )
    for column in (
        "auc",
        "auc_low",
        "auc_high",
        "ks",
        "ks_low",
        "ks_high",
        "gini",
        "gini_low",
        "gini_high",
    ):
        table[column] = np.nan
    scores = decisions[SCORE].to_numpy()
    for k in np.flatnonzero(n_lab >= MONITOR_MIN_LABELLED):
        rows = labelled & (key == k)
        found = discrimination(outcome[rows], scores[rows])
        if found is not None:
            for column in table.columns[4:]:
                table.loc[k, column] = getattr(found, column)
    return table


def band_table(
    decisions: pd.DataFrame,
    run_codes: np.ndarray,
    runs: list[str],
    profiles: Mapping[str, ReferenceProfile],
) -> pd.DataFrame:
    """Reference vs recent bad rate per reference score band, per run: a two-sample test per
    band (Fisher exact or χ²) and Holm-adjusted p-values across the run's bands."""
    if OUTCOME not in decisions.columns:
        return pd.DataFrame()
    outcome = decisions[OUTCOME].to_numpy(dtype=float)
    scores = decisions[SCORE].to_numpy()
    frames = []
    for code, run_id in enumerate(runs):
        profile = profiles.get(run_id)
        mask = (run_codes == code) & ~np.isnan(outcome)
        if profile is None or not mask.any() or not profile.bands:
            continue
        index = np.searchsorted(np.asarray(profile.score.edges), scores[mask], side="right")
        n = np.bincount(index, minlength=len(profile.bands))
        bads = np.bincount(index, weights=outcome[mask], minlength=len(profile.bands))
        frames.append(_run_bands(run_id, profile, n, bads))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _run_bands(
    run_id: str, profile: ReferenceProfile, n: np.ndarray, bads: np.ndarray
) -> pd.DataFrame:
    """One run's band rows: counts on both sides, the test, its p-value and Holm's."""
    rows = []
    for i, band in enumerate(profile.bands):
        rate = band.expected_bad_rate
        reference_bads = round(band.n * rate) if rate is not None else None
        found = (
            band_test(int(n[i]), int(bads[i]), band.n, reference_bads)
            if reference_bads is not None
            else None
        )
        rows.append(
            {
                "run_id": run_id,
                "band": f"[{band.lower:.3f}, {band.upper:.3f})",
                "n": int(n[i]),
                "reference_n": band.n,
                "expected_bad_rate": rate,
                "actual_bad_rate": bads[i] / n[i] if n[i] else np.nan,
                "test": found.test if found else "",
                "p_value": found.p_value if found else np.nan,
                "score_scale": profile.score_scale,
            }
        )
    table = pd.DataFrame(rows)
    table["p_holm"] = holm_adjusted(table["p_value"].to_numpy(dtype=float))
    return table
