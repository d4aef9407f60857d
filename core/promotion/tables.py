"""Tables the Promotion page shows: candidate vs champion, gate outcomes (plain DataFrames)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from core.record.manifest import GateResult, PromotionManifest
from core.runs.stability import NO_CV, StabilityRule, stability_row, stability_verdict
from core.scoring.calibrator import scale_label
from core.store.run_record import RunRecord

COMPARED_METRICS = (
    ("val_auc", "Validation AUC"),
    ("val_ks", "Validation KS"),
    ("cv_auc_mean", "CV AUC mean"),
    ("cv_auc_std", "CV AUC std"),
    ("cv_auc_min", "Worst fold AUC"),
)


def _stability_of(metrics: dict[str, float], params: dict[str, str], rule: StabilityRule) -> str:
    """The stability flag of a metrics and params snapshot (a record's or a manifest's)."""
    if "cv_auc_mean" not in metrics or "cv_auc_std" not in metrics:
        return NO_CV
    cv = {k: v for k, v in metrics.items() if k.startswith("cv_")}
    return stability_verdict(stability_row(cv, metrics, params), rule).flag


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
            "candidate": _stability_of(candidate.metrics, candidate.params, rule),
            "champion": (
                _stability_of(champion.metrics, champion.params, rule)
                if champion
                else "no champion"
            ),
            "difference": "",
        }
    )
    mine, theirs = candidate.score_scale, champion.score_scale if champion else None
    rows.append(
        {
            "metric": "Threshold scale",
            "candidate": scale_label(mine),
            "champion": scale_label(theirs) if champion else "no champion",
            "difference": "changes: re-read the threshold" if champion and mine != theirs else "",
        }
    )
    return pd.DataFrame(rows)


def outcome(gate: GateResult) -> str:
    """A gate's outcome in plain words (renders without an emoji font)."""
    if gate.passed:
        return "passed"
    if gate.overridden:
        return "overridden"
    return "not run" if gate.detail.startswith("not run") else "FAILED"


def gate_outcomes(results: Iterable[GateResult]) -> str:
    """'6/6 passed', or the gates that did not pass, in one line."""
    results = list(results)
    others = [f"{g.name} {outcome(g)}" for g in results if not g.passed]
    return f"{sum(g.passed for g in results)}/{len(results)} passed" + (
        " (" + ", ".join(others) + ")" if others else ""
    )


def gate_table(results: Iterable[GateResult]) -> pd.DataFrame:
    """One row per gate: name, outcome, detail."""
    return pd.DataFrame(
        [{"gate": g.name, "outcome": outcome(g), "detail": g.detail} for g in results],
        columns=["gate", "outcome", "detail"],
    )
