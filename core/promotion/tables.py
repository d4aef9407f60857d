"""Tables the Promotion page shows: candidate vs champion, gate outcomes (plain DataFrames)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from core.promotion.manifest import GateResult, PromotionManifest
from core.runs.stability import NO_CV, StabilityRule, stability_flags
from core.store.run_record import RunRecord

COMPARED_METRICS = (
    ("val_auc", "Validation AUC"),
    ("val_ks", "Validation KS"),
    ("cv_auc_mean", "CV AUC mean"),
    ("cv_auc_std", "CV AUC std"),
    ("cv_auc_min", "Worst fold AUC"),
)


def _stability_of(metrics: dict[str, float], rule: StabilityRule) -> str:
    """The stability flag of a metrics snapshot."""
    if "cv_auc_mean" not in metrics or "cv_auc_std" not in metrics:
        return NO_CV
    return str(stability_flags(pd.DataFrame([metrics]), rule).iloc[0])


def _fmt(value: float | None) -> str:
    """A metric to four decimals, or a dash when absent."""
    return "—" if value is None or not math.isfinite(value) else f"{value:.4f}"


def comparison_table(
    candidate: RunRecord, champion: PromotionManifest | None, rule: StabilityRule
) -> pd.DataFrame:
    """Candidate against champion: val_auc, val_ks, CV mean/std/worst fold, stability, Δ."""
    rows = []
    for key, label in COMPARED_METRICS:
        mine = candidate.metrics.get(key)
        theirs = champion.metrics.get(key) if champion else None
        delta = mine - theirs if mine is not None and theirs is not None else None
        rows.append(
            {
                "metric": label,
                "candidate": _fmt(mine),
                "champion": _fmt(theirs) if champion else "no champion",
                "difference": "—" if delta is None else f"{delta:+.4f}",
            }
        )
    rows.append(
        {
            "metric": "CV stability",
            "candidate": _stability_of(candidate.metrics, rule),
            "champion": _stability_of(champion.metrics, rule) if champion else "no champion",
            "difference": "",
        }
    )
    return pd.DataFrame(rows)


def outcome(gate: GateResult) -> str:
    """A gate's outcome in words with a mark."""
    if gate.passed:
        return "✅ passed"
    if gate.overridden:
        return "⚠️ overridden"
    return "⏭️ not run" if gate.detail.startswith("not run") else "❌ failed"


def gate_table(results: Iterable[GateResult]) -> pd.DataFrame:
    """One row per gate: name, outcome, detail."""
    return pd.DataFrame(
        [{"gate": g.name, "outcome": outcome(g), "detail": g.detail} for g in results],
        columns=["gate", "outcome", "detail"],
    )
