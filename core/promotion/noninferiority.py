"""The AUC gate: non-inferiority of the candidate to the slot's champion on the same rows.

Rule: score the candidate's logged validation set with both models through the one Scorer;
take the paired DeLong 95% interval of ΔAUC = candidate − champion
(core.evaluation.run_comparison.delong_test). The gate passes when the lower bound is above
−tolerance, fails when the upper bound is below −tolerance, and otherwise is inconclusive: a
failed gate that says there are too few rows to tell and about how many would settle it (the
interval's half-width shrinks as 1/sqrt(rows)). When the champion cannot score those rows the
two are not comparable, and the gate fails. A failure is overridden only by a written force
reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.evaluation.run_comparison import AucComparison, delong_test
from core.promotion.gates import AUC_VS_CHAMPION, forceable_gate
from core.record.manifest import GateResult
from core.run_schema import ID_COLUMN, LABEL_COLUMN
from core.scoring.loaded_model import LoadedModel
from core.scoring.scorer import scorer_for

NO_VALIDATION = (
    "the candidate logged no validation set, so the two models cannot be compared on the same "
    "rows (attach one with `python -m core attach-validation`, or force with a written reason)"
)


@dataclass(frozen=True)
class ChampionSide:
    """The slot's champion as the AUC gate needs it: its model and its own validation row ids."""

    name: str
    model: LoadedModel | None
    validation_ids: frozenset[str] | None = None
    problem: str = ""


def rows_to_settle(comparison: AucComparison, n_rows: int, tolerance: float) -> int | None:
    """About how many rows would put the interval wholly on one side of −tolerance.

    The half-width scales as 1/sqrt(rows); None when ΔAUC sits exactly on −tolerance.
    """
    half_width = (comparison.ci_high - comparison.ci_low) / 2
    distance = abs(comparison.difference + tolerance)
    if distance <= 0 or half_width <= 0:
        return None
    return math.ceil(n_rows * (half_width / distance) ** 2)


def verdict(comparison: AucComparison, tolerance: float, n_rows: int) -> tuple[bool, str]:
    """(passed, detail) of the non-inferiority rule for one paired comparison."""
    figures = (
        f"ΔAUC {comparison.difference:+.4f} (candidate {comparison.auc_challenger:.4f} vs "
        f"champion {comparison.auc_base:.4f}), {comparison.confidence:.0%} CI "
        f"[{comparison.ci_low:+.4f}, {comparison.ci_high:+.4f}], p = {comparison.p_value:.3g}"
    )
    if comparison.ci_low > -tolerance:
        return True, f"{figures}: not worse by more than {tolerance:g} (lower bound above)"
    if comparison.ci_high < -tolerance:
        return False, f"{figures}: worse by more than {tolerance:g} (upper bound below)"
    needed = rows_to_settle(comparison, n_rows, tolerance)
    settle = (
        f"about {needed:,} rows would settle it if ΔAUC stayed at {comparison.difference:+.4f}"
        if needed is not None
        else "more rows would not settle it at this difference"
    )
    return False, (
        f"inconclusive: too few rows to tell ({n_rows:,} rows); {figures}; the interval "
        f"straddles −{tolerance:g}; {settle}"
    )


def _scores_on_shared_rows(
    candidate: LoadedModel, champion: LoadedModel, rows: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Labels, champion and candidate probabilities on the rows both models can score."""
    champion_scorer, candidate_scorer = scorer_for(champion), scorer_for(candidate)
    prepared = champion_scorer.prepare(rows)
    keep = np.ones(len(rows), dtype=bool)
    for name in (n for n in prepared.unseen_categories if n in rows):
        keep &= ~(prepared.frame[name].isna() & rows[name].notna()).to_numpy()
    note = ""
    if not keep.all():
        note = f"; {int((~keep).sum()):,} row(s) with categories the champion never saw left out"
    shared = rows[keep]
    champion_scores = champion_scorer.probabilities(prepared.frame[keep])
    candidate_scores = candidate_scorer.probability_of(shared)
    return shared[LABEL_COLUMN].to_numpy(), champion_scores, candidate_scores, note


def _rows_note(rows: pd.DataFrame, champion: ChampionSide) -> str:
    """Which rows the comparison ran on, and whether the champion was validated on others."""
    base = f"on the candidate's {len(rows):,} validation rows"
    if champion.validation_ids is None or ID_COLUMN not in rows:
        return base
    ours = frozenset(rows[ID_COLUMN].astype("str"))
    if ours == champion.validation_ids:
        return base + " (the champion's validation rows too)"
    return (
        base + f" (the champion was validated on other rows, {len(champion.validation_ids):,}; "
        "both models are scored here on the same rows)"
    )


def gate_noninferior(
    candidate: LoadedModel | None,
    validation: pd.DataFrame | None,
    champion: ChampionSide | None,
    tolerance: float,
    force_reason: str | None = None,
) -> GateResult:
    """The non-inferiority gate (see the module docstring); forceable with a written reason."""
    if champion is None:
        return GateResult(name=AUC_VS_CHAMPION, passed=True, detail="no champion in this slot")
    if champion.problem or champion.model is None or candidate is None:
        why = champion.problem or "a model could not be loaded"
        return forceable_gate(AUC_VS_CHAMPION, False, f"not comparable: {why}", force_reason)
    if validation is None or LABEL_COLUMN not in validation or not len(validation):
        return forceable_gate(AUC_VS_CHAMPION, False, NO_VALIDATION, force_reason)
    try:
        labels, base, challenger, left_out = _scores_on_shared_rows(
            candidate, champion.model, validation
        )
        comparison = delong_test(labels, base, challenger)
    except DataValidationError as exc:
        detail = f"not comparable: the champion {champion.name} cannot score the candidate's rows"
        return forceable_gate(AUC_VS_CHAMPION, False, f"{detail} ({exc.message})", force_reason)
    passed, detail = verdict(comparison, tolerance, len(labels))
    detail = f"{detail}; {_rows_note(validation, champion)}{left_out}"
    return forceable_gate(AUC_VS_CHAMPION, passed, detail, force_reason)
