"""The pack's fair-lending section: approval rate, AIR with its interval and verdict per
protected attribute and group, protected attributes used as inputs, and the policy applied."""

from __future__ import annotations

from core.errors import GovernanceError
from core.evaluation.fairness import AIR_CONFIDENCE, FOUR_FIFTHS, outcomes_by_group
from core.report import pack as p
from core.report.run_inputs import MissingNotes, RunInputs
from core.scoring.feature_policy import load_feature_policy
from core.settings import FAIRNESS_MIN_GROUP


def fairness_policy(threshold: float, source: str) -> str:
    """The rule the section applies, in one sentence."""
    return (
        f"Approval at the threshold {threshold:.4f}; adverse impact ratio (AIR) = a group's "
        f"approval rate over the most favoured group's, with a {AIR_CONFIDENCE:.0%} Katz log "
        f"interval; a group is flagged only when its whole interval lies below {FOUR_FIFTHS:g} "
        f"(four-fifths rule); groups under {FAIRNESS_MIN_GROUP} applicants are too few to "
        f"judge. Protected attributes from {source}."
    )


def fair_lending(run: RunInputs, missing: MissingNotes) -> p.FairLendingSection | None:
    """4b. Outcomes by protected attribute on the validation rows, or None with a note."""
    if run.data is None:
        return None
    try:
        policy = load_feature_policy(run.settings.feature_policy_file)
    except GovernanceError as exc:
        missing.add("fairness", exc.message, exc.fix or "")
        return None
    attributes = policy.protected_in(str(c) for c in run.data.features.columns)
    inputs = policy.protected_in(run.model.feature_names) if run.model is not None else []
    if not attributes:
        missing.add(
            "fairness",
            "No protected attribute is among the validation rows' columns: fair lending "
            "cannot be checked on them.",
            f"Mark the protected features in {run.settings.feature_policy_file}, or attach a "
            "validation file that carries them (they need not be model inputs).",
        )
    found = []
    for attribute in attributes:
        try:
            found.append(
                outcomes_by_group(
                    run.data.labels, run.data.scores, run.data.features[attribute],
                    run.threshold, attribute,
                )
            )  # fmt: skip
        except GovernanceError as exc:
            missing.add("fairness", exc.message, exc.fix or "")
    approval = float((run.data.scores < run.threshold).mean())
    return p.FairLendingSection(
        approval_rate=approval,
        attributes=tuple(found),
        used_as_inputs=tuple(inputs),
        policy=fairness_policy(run.threshold, policy.source),
    )
