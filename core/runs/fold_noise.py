"""How much fold AUCs vary from sampling noise alone: fold sizes and the Hanley–McNeil error."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

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
        rows = float(np.mean(self.rows))
        bads = float(np.mean(self.bads))
        size = f"about {rows:,.0f} rows and {bads:,.0f} bads per fold"
        if self.source == "logged":
            return f"{size} (logged at training)"
        return f"{size} (estimated from {self.basis}: an estimate)"


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
    basis = f"{n_train:,.0f} training rows, {k} folds and a {rate:.1%} bad rate"
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
