"""Limitations the pack detects by itself: small sample, unstable folds, unseen categories,
missing artifacts and monotonicity violations (the model card adds the owner's own)."""

from __future__ import annotations

from core.report import pack as p
from core.runs.stability import INCONCLUSIVE, UNSTABLE
from core.settings import MONITOR_MIN_LABELLED

SMALL_SAMPLE_ROWS = 1_000
SMALL_SAMPLE_BADS = MONITOR_MIN_LABELLED


def detect_limitations(
    data: p.DataSection,
    soundness: p.SoundnessSection,
    stability: p.StabilitySection | None,
    unseen: dict[str, list[str]],
    missing: list[p.Missing],
) -> tuple[str, ...]:
    """One sentence per limitation found in the gathered sections."""
    found = []
    if data.rows is not None and (
        data.rows < SMALL_SAMPLE_ROWS or (data.bads or 0) < SMALL_SAMPLE_BADS
    ):
        found.append(
            f"Small validation sample: {data.rows:,} rows with {data.bads:,} bads (fewer than "
            f"{SMALL_SAMPLE_ROWS:,} rows or {SMALL_SAMPLE_BADS} bads): AUC, KS and band bad "
            "rates have wide intervals."
        )
    if stability is not None and stability.verdict.flag == UNSTABLE:
        found.append(f"Unstable cross-validation folds: {stability.verdict.explanation}")
    if stability is not None and stability.verdict.flag == INCONCLUSIVE:
        found.append(f"CV stability not established: {stability.verdict.explanation}")
    if stability is not None and stability.overfit is not None and stability.overfit.flagged:
        found.append(stability.overfit.sentence)
    for feature, values in {**data.unseen_categories, **unseen}.items():
        shown = ", ".join(values[:10]) + (" …" if len(values) > 10 else "")
        found.append(f"Unseen categories in {feature}: {shown}. LightGBM scores them as missing.")
    check = soundness.monotonicity
    if check is not None and check.violations:
        found.append(
            "Monotonicity violated: the partial dependence of "
            f"{', '.join(check.violations)} moves against the declared direction."
        )
    found += [f"Missing: {m.what}" for m in missing]
    return tuple(found)
