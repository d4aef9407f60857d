"""Promotion use cases shared by the page and the CLI: promote a run, roll back to an earlier one.

Each action reads one run record, runs the checklist (core.promotion.checklist) on a staged
export, then installs the export, appends a hash-chained ledger entry and replaces the manifest,
in that order, under a file lock, after repairing any earlier interrupted write
(core.record.repair). Maker-checker requests and approvals are in core.promotion.approvals;
reading the record (show, history, verify) is in core.promotion.audit.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import replace

import lightgbm as lgb
import mlflow
from mlflow.tracking import MlflowClient

from core.errors import GovernanceError
from core.identity.actor import Actor
from core.monitoring.reference import ReferenceProfile
from core.promotion import anchor, audit, registry
from core.promotion.champion import exported_contract
from core.promotion.checklist import promotion_gates, slot_of, try_export
from core.promotion.export import install_export, install_profile, locate_model, promotion_profile
from core.promotion.requests import (
    GateFailedError,
    LockWaitHook,
    PromotionRequest,
    PromotionResult,
    require_text,
)
from core.promotion.rollback_plan import (
    export_for_rollback,
    rollback_gates,
    rollback_manifest,
    rollback_target,
)
from core.promotion.signers import acting, role_policy
from core.record import clock, ledger
from core.record.atomic_io import commit_file, ensure_writable_dir, exclusive_lock, stage_file
from core.record.crash_points import (
    EXPORT_INSTALLED,
    FILES_STAGED,
    LEDGER_COMMITTED,
    MANIFEST_COMMITTED,
    crash_point,
)
from core.record.export import ExportedModel
from core.record.frozen import install_pack
from core.record.manifest import (
    EXPORT_FOLDER,
    PromotionManifest,
    RegistryRecord,
    ledger_path,
)
from core.record.repair import repair_locked
from core.record.signing import load_private
from core.record.state import LedgerState, read_state
from core.report.use_cases import promotion_pack
from core.run_schema import model_uri
from core.scoring.calibrator import read_calibrator, scale_of
from core.settings import Settings
from core.store.client import open_client
from core.store.run_record import RunRecord, fetch_run_record

StateCheck = Callable[[LedgerState], object] | None


class ApprovalRequiredError(GovernanceError):
    """PROMOTION_APPROVALS asks for a second person: a promotion must be requested first."""


def _versions() -> dict[str, str]:
    """Library versions recorded with each promotion."""
    return {
        "mlflow": mlflow.__version__,
        "lightgbm": lgb.__version__,
        "python": platform.python_version(),
    }


def _registry_prepare(
    settings: Settings, record: RunRecord, experiment_name: str
) -> tuple[MlflowClient | None, RegistryRecord | None, str]:
    """Register (or find) the run's model version before anything is written."""
    if not registry.supports_registry(settings.tracking_uri):
        return None, None, registry.skipped_note(settings.tracking_uri)
    client = registry.registry_client(settings.tracking_uri)
    location = locate_model(client, record.run)
    registered = registry.prepare_version(
        client,
        settings.registered_model_name or experiment_name,
        record.run_id,
        location.artifact_uri,
        location.model_id,
    )
    return client, registered, ""


def _commit(
    settings: Settings,
    state: LedgerState,
    manifest: PromotionManifest,
    staged: ExportedModel,
    restores_seq: int | None,
    registry_client: MlflowClient | None,
    event: ledger.LedgerEvent,
    profile: ReferenceProfile | None = None,
    pack: bytes | None = None,
) -> PromotionResult:
    """Install the export, append the ledger entry and replace the manifest, in that order."""
    path = settings.promotion_manifest
    entry = ledger.new_entry(
        state.head, manifest, restores_seq, event, signer=load_private(settings)
    )
    final = manifest.model_copy(update={"ledger_entry_hash": entry.hash})
    install_export(staged, manifest.exported_model_dir(path))
    if profile is not None:
        install_profile(profile, manifest.exported_model_dir(path))
    if pack is not None:
        install_pack(pack, manifest.exported_model_dir(path))
    crash_point(EXPORT_INSTALLED)
    staged_manifest = stage_file(path, final.to_json_bytes())
    try:
        staged_ledger = ledger.stage_append(ledger_path(path), entry)
    except GovernanceError:
        staged_manifest.unlink(missing_ok=True)
        raise
    crash_point(FILES_STAGED)
    commit_file(staged_ledger, ledger_path(path))
    crash_point(LEDGER_COMMITTED)
    commit_file(staged_manifest, path)
    crash_point(MANIFEST_COMMITTED)
    warnings: list[str] = []
    if final.registry is not None and registry_client is not None:
        try:
            registry.mark_champion(registry_client, final.registry, final.threshold, entry.hash)
            message = (
                f"Registry: {final.registry.name} v{final.registry.version} is now "
                f"'{final.registry.alias}', tagged with threshold {final.threshold} "
                "and the ledger entry hash."
            )
        except registry.RegistryError as exc:
            message = f"Registry step failed after the promotion was recorded: {exc.message}"
            warnings.append(message)
    else:
        message = final.registry_note
    first = state.chain.entries[0] if state.chain.entries else entry
    anchored = anchor.write_anchor(
        registry_client or MlflowClient(tracking_uri=settings.tracking_uri),
        first,
        entry,
        final.experiment_id,
        final.run_id,
        final.registry if registry_client is not None else None,
    )
    warnings += [anchored] if anchored else []
    return PromotionResult(final, entry, message, tuple(warnings))


def promote(
    settings: Settings, request: PromotionRequest, *, on_lock_wait: LockWaitHook = None
) -> PromotionResult:
    """Run the gates; when they pass, export, append to the ledger and write the manifest.

    With PROMOTION_APPROVALS=2 a promotion is requested and approved instead
    (core.promotion.approvals); this refuses, so no path skips the second person.
    """
    if settings.four_eyes:
        raise ApprovalRequiredError(
            "Promotion needs a second person's approval (PROMOTION_APPROVALS=2).",
            fix="Request it (`python -m core promote --run-id ...` records a pending request), "
            "then another person approves it with `--approve REQUEST_ID`.",
        )
    actor = request.actor or Actor(
        name=require_text(request.by, "Who promotes", "--by"), identity=request.identity
    )
    signer = acting(settings, actor, "request", "promotions")
    reason = require_text(request.reason, "The reason", "--reason")
    event = ledger.LedgerEvent(kind="promote", **signer, at=clock.stamp(), reason=reason)
    return install_promotion(
        settings, replace(request, by=actor.name), event, on_lock_wait=on_lock_wait
    )


def install_promotion(
    settings: Settings,
    request: PromotionRequest,
    event: ledger.LedgerEvent,
    *,
    on_lock_wait: LockWaitHook = None,
    check_state: StateCheck = None,
    requested: ledger.LedgerEvent | None = None,
) -> PromotionResult:
    """Under the lock: repair, check_state, run the gates, then commit request's promotion
    (requested: the request event an approval answers; it names the requester)."""
    threshold = request.threshold
    by = require_text(request.by, "Who promotes", "--by")
    reason = require_text(request.reason, "The reason", "--reason")
    force_reason = ""
    if request.force:
        force_reason = require_text(request.force_reason, "The force reason", "--reason")
    path = settings.promotion_manifest
    ensure_writable_dir(path.parent)
    client = open_client(settings.tracking_uri)
    record = fetch_run_record(client, request.run_id)
    with exclusive_lock(path, on_wait=on_lock_wait):
        repair_locked(settings)
        state = read_state(settings, tolerate_bad_manifest=False)
        if check_state is not None:
            check_state(state)
        champion = state.manifest
        with try_export(settings, client, record, path.parent) as (staged, error):
            results = promotion_gates(
                settings, client, record, threshold, champion, request, staged, error
            )
            if staged is None or not all(g.ok for g in results):
                raise GateFailedError(results)
            reg_client, registered, note = _registry_prepare(
                settings, record, record.experiment_name
            )
            profile = promotion_profile(settings.tracking_uri, client, record, threshold)
            contract = exported_contract(staged.path)
            manifest = PromotionManifest(
                run_id=request.run_id,
                run_name=record.run_name,
                experiment_id=record.experiment_id,
                experiment_name=record.experiment_name,
                tracking_uri=settings.tracking_uri,
                model_uri=model_uri(request.run_id),
                exported_model_path=f"{EXPORT_FOLDER}/{request.run_id}",
                exported_model_sha256=staged.sha256,
                reference_profile_sha256=profile.sha256 if profile else None,
                threshold=threshold,
                score_scale=scale_of(read_calibrator(staged.path)),
                metrics=record.metrics,
                params=record.params,
                data_version=record.data_version,
                promoted_by=by,
                promoted_at=event.at,
                reason=reason,
                action="promote",
                previous_run_id=champion.run_id if champion else None,
                previous_threshold=champion.threshold if champion else None,
                gate_results=list(results),
                versions=_versions(),
                forced=request.force,
                force_reason=force_reason or None,
                auc_tolerance=request.auc_tolerance,
                registry=registered,
                registry_note=note,
                requester=(requested or event).signoff,
                approver=event.signoff if event.kind == "approve" else None,
                slot=slot_of(record, request),
                feature_contract=contract,
                feature_contract_sha256=contract.sha256 if contract else None,
                schema_change_reason=request.schema_change_reason.strip() or None,
            )
            verification = audit.verify_or_none(settings)
            manifest, pack = promotion_pack(
                settings, client, record, manifest, profile, verification
            )
            return _commit(
                settings, state, manifest, staged, None, reg_client, event, profile, pack
            )


# ---------------------------------------------------------------- rollback


def rollback(
    settings: Settings,
    *,
    by: str,
    reason: str,
    to_run_id: str | None = None,
    to_seq: int | None = None,
    identity: ledger.Identity = "declared",
    actor: Actor | None = None,
    on_lock_wait: LockWaitHook = None,
) -> PromotionResult:
    """Restore an earlier promotion (the previous one by default) as a new ledger entry.

    An emergency action one person may take (under sign-in: a requester or an approver);
    history flags it "needs review" until a second person acknowledges it
    (core.promotion.approvals.acknowledge).
    """
    actor = actor or Actor(name=require_text(by, "Who rolls back", "--by"), identity=identity)
    duty = "approve" if role_policy(settings).may(actor, "approve") else "request"
    signer = acting(settings, actor, duty, "rollbacks")
    reason = require_text(reason, "The reason", "--reason")
    path = settings.promotion_manifest
    ensure_writable_dir(path.parent)
    client = open_client(settings.tracking_uri)
    with exclusive_lock(path, on_wait=on_lock_wait):
        repair_locked(settings)
        state = read_state(settings, tolerate_bad_manifest=True)
        target_entry = rollback_target(state, to_run_id, to_seq)
        target = target_entry.manifest
        record = fetch_run_record(client, target.run_id)
        with export_for_rollback(settings, client, record, target, path.parent) as (staged, error):
            results = rollback_gates(settings, client, record, target, staged, error)
            reg_client, registered, note = _registry_prepare(
                settings, record, target.experiment_name
            )
            previous = state.manifest or (state.installed.manifest if state.installed else None)
            event = ledger.LedgerEvent(kind="rollback", **signer, at=clock.stamp(), reason=reason)
            manifest = rollback_manifest(
                settings, target, previous, results, event, (registered, note), _versions()
            )
            # the run's profile file may have been overwritten by a promotion of the same run
            # at another threshold: restore the target's, when rebuilt to the recorded sha256
            profile = promotion_profile(settings.tracking_uri, client, record, target.threshold)
            if profile is not None and profile.sha256 != target.reference_profile_sha256:
                profile = None
            return _commit(
                settings, state, manifest, staged, target_entry.seq, reg_client, event, profile
            )
