"""Threshold policy: sorted scores and cumulative counts built once, then every cut-off is a lookup.

Decision rule (the same as core.scoring.scorer.decide): approve when the probability of default is
below the threshold, decline at or above it. "Bads caught" are bads declined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.threshold import Threshold


@dataclass(frozen=True, eq=False)
class ScoreTable:
    """Distinct scores in ascending order with cumulative bad and good counts (length k + 1).

    cum_bads[i] and cum_goods[i] count the rows whose score is among the i smallest distinct
    scores, so a threshold t approves cum_*[searchsorted(scores, t, 'left')] rows.
    """

    scores: np.ndarray
    cum_bads: np.ndarray
    cum_goods: np.ndarray
    cum_score_sum: np.ndarray
    brier: float

    @property
    def n_bads(self) -> int:
        """Number of bads (label 1)."""
        return int(self.cum_bads[-1])

    @property
    def n_goods(self) -> int:
        """Number of goods (label 0)."""
        return int(self.cum_goods[-1])

    @property
    def n(self) -> int:
        """Number of rows."""
        return self.n_bads + self.n_goods

    @property
    def cum_total(self) -> np.ndarray:
        """Rows among the i smallest distinct scores, for i = 0..k."""
        return self.cum_bads + self.cum_goods

    @property
    def has_both_classes(self) -> bool:
        """True when AUC and KS are defined (at least one bad and one good)."""
        return self.n_bads > 0 and self.n_goods > 0

    def cut_index(self, threshold: float) -> int:
        """How many distinct scores lie below the threshold (they are approved)."""
        return int(np.searchsorted(self.scores, threshold, side="left"))

    def threshold_at(self, cut: int) -> float:
        """The threshold that approves exactly the `cut` smallest distinct scores."""
        if cut < len(self.scores):
            return float(self.scores[cut])
        return float(np.nextafter(self.scores[-1], np.inf))


def _readonly(array: np.ndarray) -> np.ndarray:
    """Freeze an array so a cached table cannot be changed by a caller."""
    array.setflags(write=False)
    return array


def validate_labels_scores(labels: object, scores: object) -> tuple[np.ndarray, np.ndarray]:
    """Labels as 0/1 integers and scores as finite floats of the same length, or raise."""
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=float)
    if y.ndim != 1 or y.shape != s.shape:
        raise DataValidationError(f"Labels {y.shape} and scores {s.shape} do not line up.")
    if len(y) == 0:
        raise DataValidationError("The evaluation data has no rows.", fix="Give labelled rows.")
    if not np.isin(y, (0, 1)).all():
        raise DataValidationError(
            "Labels must be 0 (good) or 1 (bad).", fix="Encode the label column as 0/1."
        )
    if not np.isfinite(s).all():
        raise DataValidationError(
            f"{int((~np.isfinite(s)).sum())} score(s) are missing or infinite.",
            fix="Score every row before evaluating.",
        )
    return y.astype(np.int64), s


def build_score_table(labels: object, scores: object) -> ScoreTable:
    """Sort the scores once and accumulate bad and good counts per distinct score."""
    y, s = validate_labels_scores(labels, scores)
    ordered = np.sort(s)
    last_of_run = np.flatnonzero(np.r_[ordered[1:] != ordered[:-1], True])
    distinct = ordered[last_of_run]
    bad_scores = np.sort(s[y == 1])
    zero = np.zeros(1, dtype=np.int64)
    cum_total = (last_of_run + 1).astype(np.int64)
    cum_bads = np.searchsorted(bad_scores, distinct, side="right").astype(np.int64)
    return ScoreTable(
        scores=_readonly(distinct),
        cum_bads=_readonly(np.concatenate([zero, cum_bads])),
        cum_goods=_readonly(np.concatenate([zero, cum_total - cum_bads])),
        cum_score_sum=_readonly(np.concatenate([[0.0], np.cumsum(ordered)[last_of_run]])),
        brier=float(np.mean((s - y) ** 2)),
    )


@dataclass(frozen=True)
class PolicyPoint:
    """What a threshold does to the evaluation population."""

    threshold: float
    approved: int
    declined: int
    bads_approved: int
    goods_approved: int
    bads_declined: int
    goods_declined: int
    loss_per_bad: float | None = None
    profit_per_good: float | None = None

    @property
    def n(self) -> int:
        """Rows evaluated."""
        return self.approved + self.declined

    @property
    def approval_rate(self) -> float:
        """Share of applicants approved."""
        return self.approved / self.n

    @property
    def reject_rate(self) -> float:
        """Share of applicants declined."""
        return self.declined / self.n

    @property
    def bad_rate_approved(self) -> float:
        """Bad rate among approved applicants (NaN when nobody is approved)."""
        return self.bads_approved / self.approved if self.approved else float("nan")

    @property
    def bads_caught(self) -> float:
        """Share of all bads that the policy declines (NaN without bads)."""
        total = self.bads_approved + self.bads_declined
        return self.bads_declined / total if total else float("nan")

    @property
    def goods_declined_share(self) -> float:
        """Share of all goods that the policy declines (the ROC false-positive rate)."""
        total = self.goods_approved + self.goods_declined
        return self.goods_declined / total if total else float("nan")

    @property
    def has_economics(self) -> bool:
        """True when a loss per bad and a profit per good were given."""
        return self.loss_per_bad is not None and self.profit_per_good is not None

    @property
    def expected_loss(self) -> float | None:
        """Loss from the bads approved (None without economics)."""
        return self.bads_approved * self.loss_per_bad if self.has_economics else None

    @property
    def expected_profit(self) -> float | None:
        """Profit from goods approved minus loss from bads approved (None without economics)."""
        if not self.has_economics:
            return None
        return self.goods_approved * self.profit_per_good - self.bads_approved * self.loss_per_bad

    def confusion_matrix(self, share: bool = False) -> pd.DataFrame:
        """2x2 actual good/bad by decision approve/decline: counts, or shares of all rows."""
        frame = pd.DataFrame(
            {
                "approved": [self.goods_approved, self.bads_approved],
                "declined": [self.goods_declined, self.bads_declined],
            },
            index=pd.Index(["good (0)", "bad (1)"], name="actual"),
        )
        return frame / max(self.n, 1) if share else frame


def _point(
    table: ScoreTable,
    cut: int,
    threshold: float,
    loss_per_bad: float | None,
    profit_per_good: float | None,
) -> PolicyPoint:
    """The policy point for a cut index into the distinct scores."""
    bads_ok, goods_ok = int(table.cum_bads[cut]), int(table.cum_goods[cut])
    return PolicyPoint(
        threshold=threshold,
        approved=bads_ok + goods_ok,
        declined=table.n - bads_ok - goods_ok,
        bads_approved=bads_ok,
        goods_approved=goods_ok,
        bads_declined=table.n_bads - bads_ok,
        goods_declined=table.n_goods - goods_ok,
        loss_per_bad=loss_per_bad,
        profit_per_good=profit_per_good,
    )


def _check_economics(loss_per_bad: float | None, profit_per_good: float | None) -> None:
    """Refuse negative economics (a loss or profit is given as a positive amount)."""
    for name, value in (("loss per bad", loss_per_bad), ("profit per good", profit_per_good)):
        if value is not None and value < 0:
            raise DataValidationError(
                f"The {name} is negative ({value}).", fix="Enter it as a positive amount."
            )


def policy_at(
    table: ScoreTable,
    threshold: float,
    loss_per_bad: float | None = None,
    profit_per_good: float | None = None,
) -> PolicyPoint:
    """Approval rate, bad rate, bads caught and economics at one threshold: a binary search."""
    threshold = Threshold(threshold)
    _check_economics(loss_per_bad, profit_per_good)
    return _point(table, table.cut_index(threshold), threshold, loss_per_bad, profit_per_good)


def threshold_for_approval_rate(
    table: ScoreTable,
    target: float,
    loss_per_bad: float | None = None,
    profit_per_good: float | None = None,
) -> PolicyPoint:
    """The threshold whose approval rate is closest to target (ties in scores make steps)."""
    if not 0.0 < target <= 1.0:
        raise DataValidationError(
            f"Target approval rate {target} is outside (0, 1].", fix="Enter a share like 0.85."
        )
    _check_economics(loss_per_bad, profit_per_good)
    rates = table.cum_total / table.n
    cut = int(np.argmin(np.abs(rates - target)))
    return _point(table, cut, table.threshold_at(cut), loss_per_bad, profit_per_good)


def profit_maximising_threshold(
    table: ScoreTable, loss_per_bad: float, profit_per_good: float
) -> PolicyPoint:
    """The threshold that maximises profit per good approved minus loss per bad approved."""
    _check_economics(loss_per_bad, profit_per_good)
    profit = table.cum_goods * profit_per_good - table.cum_bads * loss_per_bad
    cut = int(np.argmax(profit))
    return _point(table, cut, table.threshold_at(cut), loss_per_bad, profit_per_good)


def policy_curve(table: ScoreTable, max_points: int = 400) -> pd.DataFrame:
    """Approval rate and bad rate among approved against threshold, thinned for plotting."""
    cuts = np.unique(np.linspace(1, len(table.scores), max_points).round().astype(int))
    approved = table.cum_total[cuts]
    return pd.DataFrame(
        {
            "threshold": [table.threshold_at(c) for c in cuts],
            "approval_rate": approved / table.n,
            "bad_rate_approved": np.where(
                approved > 0, table.cum_bads[cuts] / np.maximum(approved, 1), np.nan
            ),
        }
    )


GRID_STEPS = 10_000  # the threshold control's grid: 1/GRID_STEPS .. 1 - 1/GRID_STEPS


@dataclass(frozen=True, eq=False)
class PolicyGrid:
    """Exact approved counts at every threshold g / steps of the control's grid, run-length coded.

    starts[j] is the first grid index whose cut (searchsorted side='left', as ScoreTable.cut_index)
    approves bads_approved[j] bads and goods_approved[j] goods; it holds until starts[j + 1]. A
    client finds grid index g by a binary search over starts and recomputes every number
    policy_at gives from these counts and the class totals, with the same arithmetic.
    """

    steps: int
    starts: np.ndarray
    bads_approved: np.ndarray
    goods_approved: np.ndarray
    n_bads: int
    n_goods: int

    def counts_at(self, index: int) -> tuple[int, int]:
        """(bads approved, goods approved) at grid index `index` (threshold index / steps)."""
        j = int(np.searchsorted(self.starts, index, side="right")) - 1
        return int(self.bads_approved[j]), int(self.goods_approved[j])

    def as_json(self) -> dict:
        """Plain lists and numbers for a browser component."""
        return {
            "steps": self.steps,
            "starts": self.starts.tolist(),
            "bads_approved": self.bads_approved.tolist(),
            "goods_approved": self.goods_approved.tolist(),
            "n_bads": self.n_bads,
            "n_goods": self.n_goods,
        }


def policy_grid(table: ScoreTable, steps: int = GRID_STEPS) -> PolicyGrid:
    """The policy's approved counts at every grid threshold 1/steps .. (steps - 1)/steps."""
    index = np.arange(1, steps)
    cuts = np.searchsorted(table.scores, index / steps, side="left")
    first = np.flatnonzero(np.r_[True, cuts[1:] != cuts[:-1]])
    kept = cuts[first]
    return PolicyGrid(
        steps=steps,
        starts=_readonly(index[first]),
        bads_approved=_readonly(table.cum_bads[kept].copy()),
        goods_approved=_readonly(table.cum_goods[kept].copy()),
        n_bads=table.n_bads,
        n_goods=table.n_goods,
    )
