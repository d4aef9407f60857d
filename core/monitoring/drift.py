"""Drift against a frozen reference profile: bin indices counted per group, PSI and its noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import chi2

from core.monitoring.reference import CategoricalProfile, NumericProfile
from core.settings import PSI_MODERATE_SHIFT, PSI_NOISE_QUANTILE, PSI_SIGNIFICANT_SHIFT

DriftStatus = Literal["stable", "moderate shift", "significant shift"]
MISSING_BIN = "(missing)"
OTHER_BIN = "(unseen category)"
EPSILON = 1e-4
_MAX_COMPARED_EDGES = 60


def drift_status(psi: float, noise: float = 0.0) -> DriftStatus:
    """Classify a PSI value with the usual credit-risk bands (0.10 and 0.25); a PSI at or below
    the level sampling noise alone reaches (`noise`) is "stable", whatever its band."""
    if not psi > noise:
        return "stable"
    if psi >= PSI_SIGNIFICANT_SHIFT:
        return "significant shift"
    if psi >= PSI_MODERATE_SHIFT:
        return "moderate shift"
    return "stable"


def population_stability_index(reference_share: np.ndarray, recent_share: np.ndarray) -> float:
    """PSI = sum((recent - ref) * ln(recent / ref)), shares floored at 1e-4 to stay finite."""
    return float(psi_by_group(np.asarray(reference_share), np.atleast_2d(recent_share))[0])


def psi_by_group(reference_share: np.ndarray, recent_counts: np.ndarray) -> np.ndarray:
    """PSI of each row of a (groups x bins) count or share matrix against the reference shares."""
    counts = np.asarray(recent_counts, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    recent = np.clip(counts / np.where(totals > 0, totals, 1.0), EPSILON, None)
    ref = np.clip(np.asarray(reference_share, dtype=float), EPSILON, None)
    psi = np.sum((recent - ref) * np.log(recent / ref), axis=1)
    return np.where(totals[:, 0] > 0, psi, np.nan)


def psi_noise_level(
    n_reference: int, n_recent: np.ndarray, n_bins: int, quantile: float = PSI_NOISE_QUANTILE
) -> np.ndarray:
    """The PSI sampling noise alone exceeds with probability 1 - quantile at these sample sizes.

    (n_ref * n_cur / (n_ref + n_cur)) * PSI is roughly chi-square with B - 1 degrees of freedom.
    """
    n_cur = np.asarray(n_recent, dtype=float)
    effective = n_reference * n_cur / np.maximum(n_reference + n_cur, 1.0)
    critical = chi2.ppf(quantile, max(n_bins - 1, 1))
    return np.where(effective > 0, critical / np.maximum(effective, 1e-12), np.nan)


def bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """searchsorted(edges, values, side="right"), as small integers.

    A decile profile has at most nine edges: one comparison per edge, summed in int8, is
    many times faster than a binary search per value.
    """
    if edges.size > _MAX_COMPARED_EDGES:
        return np.searchsorted(edges, values, side="right")
    index = np.zeros(values.shape, dtype=np.int8)
    for edge in edges:
        np.add(index, (values >= edge).view(np.int8), out=index)
    return index


@dataclass(frozen=True)
class NumericCounts:
    """Per group: counts per reference bin (missing bin last) and values outside the range the
    model saw (the training range when recorded, else the reference range)."""

    counts: np.ndarray
    below_min: np.ndarray
    above_max: np.ndarray


def numeric_counts(
    values: np.ndarray, groups: np.ndarray, n_groups: int, profile: NumericProfile
) -> NumericCounts:
    """Count values per group into the profile's bins with searchsorted + bincount (no labels)."""
    numbers = np.asarray(values, dtype=float)
    n_bins = len(profile.edges) + 1
    index = bin_index(numbers, np.asarray(profile.edges, dtype=float))
    index[np.isnan(numbers)] = n_bins
    flat = np.bincount(groups * (n_bins + 1) + index, minlength=n_groups * (n_bins + 1))
    low = profile.range_low if profile.range_low is not None else np.inf
    high = profile.range_high if profile.range_high is not None else -np.inf
    return NumericCounts(
        counts=flat.reshape(n_groups, n_bins + 1),
        below_min=np.bincount(groups[numbers < low], minlength=n_groups),
        above_max=np.bincount(groups[numbers > high], minlength=n_groups),
    )


def category_codes(values: pd.Series, profile: CategoricalProfile) -> np.ndarray:
    """Slot per value: its category's position, unseen after the categories, missing last.

    Factorises the column once and looks up only its distinct values in the profile.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    slots = len(profile.categories)
    known = pd.Index(profile.categories).get_indexer(pd.Index(uniques).astype("string"))
    lookup = np.append(np.where(known >= 0, known, slots), slots + 1)
    return lookup[codes]


def categorical_counts(
    values: pd.Series, groups: np.ndarray, n_groups: int, profile: CategoricalProfile
) -> np.ndarray:
    """Counts per group and slot (categories, unseen, missing) as a (groups x slots) matrix."""
    slots = len(profile.categories) + 2
    codes = category_codes(values, profile)
    return np.bincount(groups * slots + codes, minlength=n_groups * slots).reshape(n_groups, slots)


def numeric_bin_labels(profile: NumericProfile) -> list[str]:
    """Readable names of a numeric profile's bins, the missing bin last."""
    bounds = [-np.inf, *profile.edges, np.inf]
    names = [f"[{_fmt(bounds[i])}, {_fmt(bounds[i + 1])})" for i in range(len(bounds) - 1)]
    return [*names, MISSING_BIN]


def _fmt(value: float) -> str:
    """Short text for a bin edge."""
    if np.isinf(value):
        return "−∞" if value < 0 else "∞"
    return f"{value:.4g}"


def column_counts(profile: NumericProfile | CategoricalProfile, values: pd.Series) -> np.ndarray:
    """Rows of one column in each of the profile's slots (bins then missing; categories, unseen,
    missing)."""
    groups = np.zeros(len(values), dtype=np.intp)
    if isinstance(profile, CategoricalProfile):
        return categorical_counts(values, groups, 1, profile)[0]
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return numeric_counts(numbers, groups, 1, profile).counts[0]


def comparison_table(
    profile: NumericProfile | CategoricalProfile, counts: np.ndarray
) -> pd.DataFrame:
    """Reference and recent share per bin from the recent rows counted in each slot."""
    if isinstance(profile, CategoricalProfile):
        labels = [*profile.categories, OTHER_BIN, MISSING_BIN]
    else:
        labels = numeric_bin_labels(profile)
    table = pd.DataFrame(
        {
            "bin": labels,
            "reference_share": profile.shares(),
            "recent_count": counts,
            "recent_share": counts / max(int(counts.sum()), 1),
        }
    )
    return table[(table["reference_share"] > 0) | (table["recent_count"] > 0)].reset_index(
        drop=True
    )


def distribution_comparison(
    profile: NumericProfile | CategoricalProfile, recent: pd.Series
) -> pd.DataFrame:
    """Reference and recent share per bin of one column, bins from the frozen profile."""
    return comparison_table(profile, column_counts(profile, recent))
