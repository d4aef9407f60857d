"""How much fold AUCs vary from sampling noise alone: fold sizes and the Hanley–McNeil error."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

FOLD_ROWS_PARAM = "cv_fold_rows"
FOLD_BADS_PARAM = "cv_fold_bads"
SizesSource = Literal["logged", "estimated"]
_MAX_AUC = 1.0 - 1e-9


@dataclass(frozen=True)
class FoldSizes:
    """Rows and bads of each held-out fold, and whether they were logged or estimated."""

    rows: tuple[int, ...]
    bads: tuple[int, ...]
    source: SizesSource
    basis: str = ""

    @property
    def goods(self) -> tuple[int, ...]:
        """Goods per fold (rows minus bads)."""
        return tuple(r - b for r, b in zip(self.rows, self.bads, strict=True))

    def describe(self) -> str:
        """A short phrase: how large the folds are and where that came from."""
        return describe_sizes(
            sum(self.rows) / len(self.rows), sum(self.bads) / len(self.bads), self.basis
        )


def describe_sizes(rows: float, bads: float, basis: str = "") -> str:
    """'about 200 rows and 30 bads per fold', then where the sizes came from (basis: estimated)."""
    size = f"about {rows:,.0f} rows and {bads:,.0f} bads per fold"
    if not basis:
        return f"{size} (logged at training)"
    return f"{size} (estimated from {basis}: an estimate)"


def _estimate_basis(n_train: float, folds: int, rate: float) -> str:
    """What an estimate of fold sizes rests on, in words."""
    return f"{n_train:,.0f} training rows, {folds} folds and a {rate:.1%} bad rate"


def format_fold_counts(values: list[int] | tuple[int, ...]) -> str:
    """Fold counts as the comma-separated string logged in a run's params."""
    return ",".join(str(int(v)) for v in values)


def _parse_counts(text: object) -> tuple[int, ...] | None:
    """'200,199,201' -> (200, 199, 201); None when missing or malformed."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        values = tuple(int(float(part)) for part in text.split(","))
    except ValueError:
        return None
    return values if values and all(v >= 0 for v in values) else None


def _number(row: Mapping[str, object], *keys: str) -> float | None:
    """The first key of the row holding a finite number."""
    for key in keys:
        value = row.get(key)
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            return number
    return None


def logged_fold_sizes(row: Mapping[str, object]) -> FoldSizes | None:
    """Fold sizes a run logged as params (cv_fold_rows / cv_fold_bads), when consistent."""
    rows = _parse_counts(row.get(f"params.{FOLD_ROWS_PARAM}"))
    bads = _parse_counts(row.get(f"params.{FOLD_BADS_PARAM}"))
    if rows is None or bads is None or len(rows) != len(bads) or len(rows) < 2:
        return None
    if any(b > r for r, b in zip(rows, bads, strict=True)):
        return None
    return FoldSizes(rows=rows, bads=bads, source="logged")


def estimated_fold_sizes(row: Mapping[str, object]) -> FoldSizes | None:
    """Fold sizes estimated from training rows, the number of folds and the bad rate."""
    n_train = _number(row, "metrics.n_train", "params.n_train")
    folds = _number(row, "cv_auc_n", "params.cv_folds")
    rate = _number(row, "metrics.train_bad_rate", "metrics.val_bad_rate", "metrics.bad_rate")
    if n_train is None or folds is None or rate is None or folds < 2 or not 0 < rate < 1:
        return None
    k = int(folds)
    rows = max(round(n_train / k), 2)
    bads = min(max(round(rows * rate), 1), rows - 1)
    basis = _estimate_basis(n_train, k, rate)
    return FoldSizes(rows=(rows,) * k, bads=(bads,) * k, source="estimated", basis=basis)


def fold_sizes_of(row: Mapping[str, object]) -> FoldSizes | None:
    """Logged fold sizes, else an estimate, else None (the run says too little)."""
    return logged_fold_sizes(row) or estimated_fold_sizes(row)


def hanley_mcneil_se(auc: float, bads: float, goods: float) -> float:
    """Standard error of an AUC measured on `bads` positives and `goods` negatives.

    Hanley & McNeil (1982): Q1 = A/(2 − A), Q2 = 2A²/(1 + A),
    SE² = [A(1 − A) + (n_bad − 1)(Q1 − A²) + (n_good − 1)(Q2 − A²)] / (n_bad · n_good).
    AUCs below 0.5 use 1 − A (the error is symmetric in which class ranks higher).
    """
    if bads < 1 or goods < 1:
        return math.nan
    a = min(max(auc, 1.0 - auc), _MAX_AUC)
    q1 = a / (2.0 - a)
    q2 = 2.0 * a * a / (1.0 + a)
    variance = (a * (1 - a) + (bads - 1) * (q1 - a * a) + (goods - 1) * (q2 - a * a)) / (
        bads * goods
    )
    return math.sqrt(max(variance, 0.0))


def expected_fold_std(auc: float, sizes: FoldSizes) -> float:
    """The std of fold AUCs that sampling noise alone gives: root mean of per-fold variances."""
    pairs = zip(sizes.bads, sizes.goods, strict=True)
    variances = [hanley_mcneil_se(auc, b, g) ** 2 for b, g in pairs]
    return math.sqrt(float(np.mean(variances))) if variances else math.nan


def hanley_mcneil_variance(auc: np.ndarray, bads: np.ndarray, goods: np.ndarray) -> np.ndarray:
    """Hanley–McNeil AUC variance, element-wise with broadcasting (NaN where undefined)."""
    a = np.minimum(np.maximum(auc, 1.0 - auc), _MAX_AUC)
    q1 = a / (2.0 - a)
    q2 = 2.0 * a * a / (1.0 + a)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = (a * (1 - a) + (bads - 1) * (q1 - a * a) + (goods - 1) * (q2 - a * a)) / (
            bads * goods
        )
    return np.where((bads >= 1) & (goods >= 1), np.maximum(variance, 0.0), np.nan)


@dataclass(frozen=True)
class FoldNoise:
    """Per run (aligned arrays): expected fold AUC std, where fold sizes came from, and sizes."""

    expected_std: np.ndarray
    source: np.ndarray
    fold_rows: np.ndarray
    fold_bads: np.ndarray
    description: np.ndarray


def _numeric(runs: pd.DataFrame, *columns: str) -> np.ndarray:
    """The first present numeric value per row among columns (NaN when none)."""
    values = np.full(len(runs), np.nan)
    for column in reversed(columns):
        if column in runs.columns:
            numbers = pd.to_numeric(runs[column], errors="coerce").to_numpy(dtype=float)
            values = np.where(np.isfinite(numbers), numbers, values)
    return values


def fold_noise(runs: pd.DataFrame, auc: np.ndarray, n_folds: np.ndarray) -> FoldNoise:
    """Expected fold AUC std for every run: logged fold sizes, else an estimate, else NaN.

    Logged sizes are parsed once per distinct value (runs of one sweep share them); logged sizes
    whose fold count differs from `n_folds` are ignored.
    """
    n = len(runs)
    expected = np.full(n, np.nan)
    source = np.full(n, "unknown", dtype=object)
    rows_mean, bads_mean = np.full(n, np.nan), np.full(n, np.nan)
    description = np.full(n, "", dtype=object)
    rows_key, bads_key = f"params.{FOLD_ROWS_PARAM}", f"params.{FOLD_BADS_PARAM}"
    if rows_key in runs.columns and bads_key in runs.columns:
        pairs = runs[rows_key].astype("str") + "|" + runs[bads_key].astype("str")
        for key, positions in pairs.groupby(pairs.to_numpy()).indices.items():
            rows_text, _, bads_text = str(key).partition("|")
            sizes = logged_fold_sizes({rows_key: rows_text, bads_key: bads_text})
            if sizes is None:
                continue
            positions = positions[n_folds[positions] == len(sizes.rows)]
            variance = hanley_mcneil_variance(
                auc[positions][:, None], np.array(sizes.bads)[None, :], np.array(sizes.goods)
            ).mean(axis=1)
            expected[positions] = np.sqrt(variance)
            source[positions] = "logged"
            rows_mean[positions], bads_mean[positions] = np.mean(sizes.rows), np.mean(sizes.bads)
            description[positions] = sizes.describe()
    n_train = _numeric(runs, "metrics.n_train", "params.n_train")
    rate = _numeric(runs, "metrics.train_bad_rate", "metrics.val_bad_rate", "metrics.bad_rate")
    todo = (source == "unknown") & np.isfinite(n_train) & (n_folds >= 2) & (rate > 0) & (rate < 1)
    if todo.any():
        folds = np.floor(n_folds[todo])
        rows = np.maximum(np.round(n_train[todo] / folds), 2)
        bads = np.clip(np.round(rows * rate[todo]), 1, rows - 1)
        expected[todo] = np.sqrt(hanley_mcneil_variance(auc[todo], bads, rows - bads))
        source[todo] = "estimated"
        rows_mean[todo], bads_mean[todo] = rows, bads
        description[todo] = [
            describe_sizes(r, b, _estimate_basis(t, int(k), q))
            for r, b, t, k, q in zip(rows, bads, n_train[todo], folds, rate[todo], strict=True)
        ]
    return FoldNoise(expected, source, rows_mean, bads_mean, description)
