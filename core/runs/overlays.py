"""ROC and KS curves of several runs on one chart, each from the run's own logged validation set.

The curves come from core.evaluation.curves (one Evaluation per run); this module stacks them in
long frames for the overlay figures and keeps, for each run it cannot draw, the reason why, so
the page names those runs instead of silently dropping them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from core.evaluation.curves import Evaluation

MAX_OVERLAY_RUNS = 8
NO_VALIDATION_SET = "logged no validation set"


@dataclass(frozen=True)
class CurveOverlay:
    """Per run: ROC points, the KS gap by score, headline numbers; and the runs not drawn."""

    roc: pd.DataFrame  # run_id, fpr, tpr
    ks: pd.DataFrame  # run_id, score, gap (share of goods minus share of bads at or below)
    summary: pd.DataFrame  # run_id, rows, auc, ks, ks_score (one row per run drawn)
    not_drawn: Mapping[str, str]  # run_id -> why it has no curve

    @property
    def empty(self) -> bool:
        """True when no run could be drawn."""
        return self.summary.empty


def curve_overlay(
    evaluations: Mapping[str, Evaluation], not_drawn: Mapping[str, str] | None = None
) -> CurveOverlay:
    """Stack the runs' ROC and KS curves (run order kept) with why the others are left out."""
    roc = [e.roc[["fpr", "tpr"]].assign(run_id=run_id) for run_id, e in evaluations.items()]
    ks = [
        pd.DataFrame(
            {
                "run_id": run_id,
                "score": e.ks_curve["score"],
                "gap": e.ks_curve["cum_goods"] - e.ks_curve["cum_bads"],
            }
        )
        for run_id, e in evaluations.items()
    ]
    summary = pd.DataFrame(
        [
            {"run_id": run_id, "rows": e.n, "auc": e.auc, "ks": e.ks, "ks_score": e.ks_score}
            for run_id, e in evaluations.items()
        ],
        columns=["run_id", "rows", "auc", "ks", "ks_score"],
    )
    return CurveOverlay(
        roc=pd.concat(roc, ignore_index=True) if roc else pd.DataFrame(columns=["fpr", "tpr"]),
        ks=pd.concat(ks, ignore_index=True) if ks else pd.DataFrame(columns=["score", "gap"]),
        summary=summary,
        not_drawn=dict(not_drawn or {}),
    )


def not_drawn_sentence(not_drawn: Mapping[str, str], labels: Mapping[str, str]) -> str:
    """One sentence naming the runs without a curve and why ('' when every run is drawn)."""
    if not not_drawn:
        return ""
    parts = [f"{labels.get(run_id, run_id[:8])} ({why})" for run_id, why in not_drawn.items()]
    return "Not drawn: " + "; ".join(parts) + "."
