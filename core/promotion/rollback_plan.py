"""What a rollback restores: the target entry, its export, the gates it re-runs, its manifest."""

from __future__ import annotations

import contextlib
from pathlib import Path

from mlflow.tracking import MlflowClient

from core.errors import GovernanceError
from core.promotion import gates
from core.promotion.checklist import model_gates, try_export
from core.promotion.requests import GateFailedError, RollbackError
from core.record import ledger
from core.record.export import ExportedModel, ExportError, tree_sha256, verify_export
from core.record.manifest import GateResult, PromotionManifest, RegistryRecord
from core.record.state import LedgerState
from core.settings import Settings
from core.store.run_record import RunRecord


def rollback_target(
    state: LedgerState, to_run_id: str | None, to_seq: int | None
) -> ledger.LedgerEntry:
    """The entry whose state a rollback restores."""
    entries = state.chain.installs
    if not entries:
        raise RollbackError(
            "Nothing was promoted yet, so there is nothing to roll back to.",
            fix="Promote a run first.",
        )
    by_seq = {e.seq: e for e in entries}
    current = state.manifest
    if to_seq is not None:
        target = by_seq.get(to_seq)
        if target is None:
            raise RollbackError(f"The ledger has no entry {to_seq}.")
    elif to_run_id is not None:
        matches = [e for e in entries if e.manifest.run_id == to_run_id]
        if not matches:
            raise RollbackError(
                f"Run '{to_run_id}' was never promoted, so it cannot be rolled back to.",
                fix="Pick a run from `python -m core promote --history`.",
            )
        target = matches[-1]
    elif current is None:
        target = entries[-1]
    else:
        origin = entries[-1].origin_seq
        earlier = [e for e in entries if e.seq < origin]
        if not earlier:
            raise RollbackError(
                "The current champion is the first promotion in the ledger: "
                "there is no earlier one to roll back to.",
                fix="Promote another run instead.",
            )
        target = earlier[-1]
    if current is not None and (target.manifest.run_id, target.manifest.threshold) == (
        current.run_id,
        current.threshold,
    ):
        raise RollbackError(
            f"Run '{current.run_id}' with threshold {current.threshold} is already the champion.",
            fix="Pick an earlier entry from the history.",
        )
    return by_seq[target.origin_seq]


def export_for_rollback(
    settings: Settings,
    client: MlflowClient,
    record: RunRecord,
    target: PromotionManifest,
    deploy_dir: Path,
) -> contextlib.AbstractContextManager[tuple[ExportedModel | None, GovernanceError | None]]:
    """The target's export when intact; otherwise a fresh export from MLflow."""
    folder = target.exported_model_dir(settings.promotion_manifest)
    if folder.is_dir() and tree_sha256(folder) == target.exported_model_sha256:
        return contextlib.nullcontext((verify_export(folder, target.exported_model_sha256), None))
    return try_export(settings, client, record, deploy_dir)


def rollback_gates(
    settings: Settings,
    client: MlflowClient,
    record: RunRecord,
    target: PromotionManifest,
    staged: ExportedModel | None,
    error: GovernanceError | None,
) -> tuple[GateResult, ...]:
    """The gates a rollback re-runs on the target's export; GateFailedError when one fails."""
    if staged is None:
        failed = gates.failed_gate(gates.EXPORT_VERIFIED, error or ExportError("no export"))
        raise GateFailedError((failed,), action="Rollback")
    export_ok = staged.sha256 == target.exported_model_sha256
    export_gate = GateResult(
        name=gates.EXPORT_VERIFIED,
        passed=export_ok,
        detail=f"sha256 {staged.sha256[:12]}… "
        + ("matches the recorded one" if export_ok else "differs from the recorded one"),
    )
    results = (
        export_gate,
        gates.gate_threshold(target.threshold),
        *model_gates(settings, client, record, staged, target.threshold),
    )
    if not all(g.ok for g in results):
        raise GateFailedError(results, action="Rollback")
    return results


def rollback_manifest(
    settings: Settings,
    target: PromotionManifest,
    previous: PromotionManifest | None,
    results: tuple[GateResult, ...],
    event: ledger.LedgerEvent,
    registry: tuple[RegistryRecord | None, str],
    versions: dict[str, str],
) -> PromotionManifest:
    """The target's manifest as the rollback installs it: who, when, why, and what it replaced."""
    registered, note = registry
    return target.model_copy(
        update={
            "tracking_uri": settings.tracking_uri,
            "promoted_by": event.by,
            "promoted_at": event.at,
            "reason": event.reason,
            "action": "rollback",
            "previous_run_id": previous.run_id if previous else None,
            "previous_threshold": previous.threshold if previous else None,
            "gate_results": list(results),
            "versions": versions,
            "forced": False,
            "force_reason": None,
            "registry": registered,
            "registry_note": note,
            "ledger_entry_hash": None,
            "requester": event.signoff,
            "approver": None,
        }
    )
