"""The slot's gates: the candidate keeps the served feature contract; no protected input.

The deploy folder serves one slot (by default the champion's experiment); a run of another slot
is refused. Within the slot, the candidate's feature contract must equal the champion's: each
removed, added or retyped feature and each category level either side lacks is listed, and an
intended change passes only with a written schema-change reason.
"""

from __future__ import annotations

from core.promotion.gates import forceable_gate
from core.record.manifest import GateResult, PromotionManifest
from core.scoring.feature_contract import FeatureContract, contract_differences
from core.scoring.feature_policy import FeaturePolicy

FEATURE_CONTRACT = "feature contract"
PROTECTED_INPUTS = "no protected attribute is a model input"


def gate_feature_contract(
    candidate: FeatureContract | None,
    slot: str,
    champion: PromotionManifest | None,
    served: FeatureContract | None,
    schema_change_reason: str = "",
) -> GateResult:
    """The candidate's contract against the one the deploy folder serves for its slot."""
    if candidate is None:
        return GateResult(
            name=FEATURE_CONTRACT, passed=False, detail="not run: the model does not load"
        )
    if champion is None:
        return GateResult(
            name=FEATURE_CONTRACT,
            passed=True,
            detail=f"no champion in slot {slot!r} yet: this model's contract "
            f"({candidate.describe()}) becomes the slot's",
        )
    if champion.served_slot != slot:
        return GateResult(
            name=FEATURE_CONTRACT,
            passed=False,
            detail=f"the deploy folder serves slot {champion.served_slot!r} "
            f"(run {champion.run_name or champion.run_id}); this run is of slot {slot!r}: "
            "promote it to its own deploy folder (PROMOTION_MANIFEST), or give --slot "
            f"{champion.served_slot!r} with --schema-change REASON to replace that model",
        )
    if served is None:
        return GateResult(
            name=FEATURE_CONTRACT,
            passed=False,
            detail="the champion's feature contract is unknown (its export does not load): "
            "roll back or repair the deploy folder first",
        )
    differences = contract_differences(served, candidate)
    if not differences:
        return GateResult(
            name=FEATURE_CONTRACT,
            passed=True,
            detail=f"matches the contract of slot {slot!r} ({served.describe()})",
        )
    listed = "; ".join(differences)
    if schema_change_reason:
        return GateResult(
            name=FEATURE_CONTRACT,
            passed=True,
            detail=f"intended schema change: {schema_change_reason} — {listed}; the new "
            f"contract is {candidate.describe()}",
        )
    return GateResult(
        name=FEATURE_CONTRACT,
        passed=False,
        detail=f"differs from the contract of slot {slot!r} ({served.describe()}): {listed}; "
        "an intended change needs --schema-change REASON",
    )


def gate_protected_inputs(
    features: list[str] | None, policy: FeaturePolicy, force_reason: str | None = None
) -> GateResult:
    """No feature the policy protects is a model input, unless the policy justifies it."""
    if features is None:
        return GateResult(
            name=PROTECTED_INPUTS, passed=False, detail="not run: the model does not load"
        )
    protected = policy.protected_in(features)
    justified = [f for f in protected if f in policy.justified_inputs]
    unjustified = [f for f in protected if f not in policy.justified_inputs]
    notes = [f"{f} allowed by the policy: {policy.justified_inputs[f]}" for f in justified]
    if unjustified:
        detail = (
            f"protected attribute(s) used as model input: {', '.join(unjustified)} "
            f"(protected in {policy.source}); drop them, or justify each in the policy's "
            "[input_justifications]"
        )
        return forceable_gate(PROTECTED_INPUTS, False, "; ".join([detail, *notes]), force_reason)
    detail = "; ".join(notes) if notes else f"none of {len(features)} inputs is protected"
    return GateResult(name=PROTECTED_INPUTS, passed=True, detail=detail)
