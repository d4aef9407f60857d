"""What a user asks of promotion (request, result) and the errors a promotion action raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.errors import GovernanceError
from core.identity.actor import Actor
from core.promotion import gates
from core.record import ledger
from core.record.manifest import GateResult, PromotionManifest
from core.runs.stability import StabilityRule
from core.threshold import Threshold, parse_threshold

LockWaitHook = Callable[[], None] | None


class GateFailedError(GovernanceError):
    """One or more promotion gates failed; nothing was written."""

    def __init__(self, results: tuple[GateResult, ...], *, action: str = "Promotion") -> None:
        failed = [g for g in results if not g.ok]
        names = "; ".join(f"{g.name}: {g.detail}" for g in failed)
        super().__init__(
            f"{action} stopped by {len(failed)} failed gate(s): {names}.",
            fix="Fix the cause or pick another run; only the AUC, CV stability and protected "
            "inputs gates can be forced, with a written reason (an intended change of the "
            "feature contract passes with --schema-change REASON)."
            if action == "Promotion"
            else "Pick another entry of the history, or promote a run instead.",
        )
        self.results = results


class RollbackError(GovernanceError):
    """There is nothing to roll back to, or the requested target is not in the history."""


@dataclass(frozen=True)
class PromotionRequest:
    """What the user asked for: a run, a threshold, who, why, and an optional force.

    The threshold is validated once, here: a request holds a Threshold whatever it was given
    (a string from the command line, a float from the page), or InvalidThresholdError.
    """

    run_id: str
    threshold: Threshold
    by: str
    reason: str
    force: bool = False
    force_reason: str = ""
    auc_tolerance: float = gates.DEFAULT_AUC_TOLERANCE
    stability_rule: StabilityRule = field(default_factory=StabilityRule)
    identity: ledger.Identity = "declared"
    # The signed-in person (the Promotion page under sign-in); None: `by` is a declared name.
    actor: Actor | None = None
    # The model slot (default: the run's experiment) and, for an intended change of the
    # slot's feature contract, the written reason (--schema-change).
    slot: str = ""
    schema_change_reason: str = ""

    def __post_init__(self) -> None:
        """Turn the threshold given into a validated Threshold."""
        object.__setattr__(self, "threshold", parse_threshold(self.threshold))


@dataclass(frozen=True)
class PromotionResult:
    """The manifest now in force, its ledger entry, and what the registry step did."""

    manifest: PromotionManifest
    entry: ledger.LedgerEntry
    registry_message: str
    warnings: tuple[str, ...] = ()


def require_text(value: str, what: str, flag: str) -> str:
    """A non-blank text field, stripped, or PromotionInputError."""
    text = (value or "").strip()
    if not text:
        raise gates.PromotionInputError(
            f"{what} is empty.",
            fix=f"Give the name (on the page's form, or {flag} on the command line); it goes "
            "into the ledger.",
        )
    return text
