"""The promotion checklist: every gate, in order, evaluated on one run record and one export."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import lightgbm as lgb
import pandas as pd
from mlflow.tracking import MlflowClient

from core.errors import ArtifactMissingError, GovernanceError
from core.promotion import gates, noninferiority, slot_gates
from core.promotion.champion import model_contract, slot_champion
from core.promotion.export import staged_export
from core.promotion.requests import PromotionRequest
from core.record.export import ExportedModel, ExportError, load_export
from core.record.manifest import GateResult, PromotionManifest, read_manifest
from core.scoring.feature_contract import FeatureContract
from core.scoring.feature_policy import load_feature_policy
from core.scoring.loaded_model import LoadedModel
from core.settings import Settings
from core.store.access import load_validation_set
from core.store.client import open_client
from core.store.run_record import RunRecord, fetch_run_record, load_record_model
from core.threshold import Threshold


def validation_or_none(client: MlflowClient, run_id: str) -> pd.DataFrame | None:
    """The run's logged validation set, or None when it logged none."""
    try:
        return load_validation_set(client, run_id)
    except ArtifactMissingError:
        return None


def threshold_approval_rate(validation: pd.DataFrame | None, threshold: float) -> float | None:
    """The approval rate the threshold gives on the run's logged validation scores."""
    if validation is None or "score" not in validation.columns:
        return None
    return gates.approval_rate(validation["score"], threshold)


def model_gates(
    settings: Settings,
    client: MlflowClient,
    record: RunRecord,
    staged: ExportedModel,
    threshold: Threshold,
) -> list[GateResult]:
    """Model loads from the export, the smoke test against the run's own model, then the same
    checks through the scoring service serving the export over HTTP."""
    exported, loads = gates.gate_model_loads(staged.path)
    skipped = gates.not_run(gates.SERVICE_SMOKE_TEST, "the model does not load")
    if exported is None:
        return [loads, gates.not_run(gates.SMOKE_TEST, "the model does not load"), skipped]
    try:
        reference: lgb.LGBMClassifier = load_record_model(settings.tracking_uri, record)
    except GovernanceError as exc:
        return [
            loads,
            gates.failed_gate(gates.SMOKE_TEST, exc),
            gates.failed_gate(gates.SERVICE_SMOKE_TEST, exc),
        ]
    validation = validation_or_none(client, record.run_id) if record.has_validation_set else None
    applicants, source = gates.smoke_applicants(exported, validation)
    service = gates.gate_service_smoke(
        staged.path,
        staged.sha256,
        exported,
        reference,
        validation,
        (record.run_id, record.run_name),
        threshold,
    )
    return [loads, gates.gate_smoke(exported, reference, applicants, source, threshold), service]


def slot_of(record: RunRecord, request: PromotionRequest) -> str:
    """The model slot a request promotes into: the one asked for, else the run's experiment."""
    return request.slot.strip() or record.experiment_name


def _loaded_or_none(staged: ExportedModel | None) -> LoadedModel | None:
    """The staged export loaded, or None (the model-loads gate says why)."""
    if staged is None:
        return None
    try:
        return load_export(staged.path)
    except GovernanceError:
        return None


def slot_gates_for(
    settings: Settings,
    client: MlflowClient,
    record: RunRecord,
    champion: PromotionManifest | None,
    request: PromotionRequest,
    candidate: LoadedModel | None,
) -> list[GateResult]:
    """The feature contract, protected inputs and non-inferiority gates of the slot."""
    force_reason = request.force_reason.strip() if request.force else None
    slot = slot_of(record, request)
    served, side = slot_champion(settings.promotion_manifest, client, champion, slot)
    contract: FeatureContract | None = model_contract(candidate) if candidate else None
    validation = validation_or_none(client, record.run_id) if record.has_validation_set else None
    policy = load_feature_policy(settings.feature_policy_file)
    return [
        slot_gates.gate_feature_contract(
            contract, slot, champion, served, request.schema_change_reason.strip()
        ),
        slot_gates.gate_protected_inputs(
            contract.names if contract else None, policy, force_reason
        ),
        noninferiority.gate_noninferior(
            candidate, validation, side, request.auc_tolerance, force_reason
        ),
    ]


def promotion_gates(
    settings: Settings,
    client: MlflowClient,
    record: RunRecord,
    threshold: Threshold,
    champion: PromotionManifest | None,
    request: PromotionRequest,
    staged: ExportedModel | None,
    export_error: GovernanceError | None,
) -> tuple[GateResult, ...]:
    """Every promotion gate, in checklist order."""
    force_reason = request.force_reason.strip() if request.force else None
    results = [
        gates.gate_run_finished(record.run),
        gates.gate_threshold(threshold),
        *slot_gates_for(settings, client, record, champion, request, _loaded_or_none(staged)),
        gates.gate_cv_stable(record.stability_row(), request.stability_rule, force_reason),
    ]
    if staged is None:
        error = export_error or ExportError("The model could not be exported.")
        results += [
            gates.failed_gate(gates.MODEL_LOADS, error),
            gates.not_run(gates.SMOKE_TEST, "the model does not load"),
            gates.not_run(gates.SERVICE_SMOKE_TEST, "the model does not load"),
        ]
    else:
        results += model_gates(settings, client, record, staged, threshold)
    return tuple(results)


@contextlib.contextmanager
def try_export(
    settings: Settings, client: MlflowClient, record: RunRecord, deploy_dir: Path
) -> Iterator[tuple[ExportedModel | None, GovernanceError | None]]:
    """The run's model staged under deploy_dir, or the error that prevented it."""
    with contextlib.ExitStack() as stack:
        try:
            staged = stack.enter_context(
                staged_export(settings.tracking_uri, client, record.run, deploy_dir)
            )
        except GovernanceError as exc:
            yield None, exc
            return
        yield staged, None


def check_gates(settings: Settings, request: PromotionRequest) -> tuple[GateResult, ...]:
    """A dry run of the gates for a request (exports to a temporary folder, writes nothing)."""
    return checked_run(settings, request)[1]


def checked_run(
    settings: Settings, request: PromotionRequest
) -> tuple[RunRecord, tuple[GateResult, ...]]:
    """The run record and the gates' dry run for a request (writes nothing)."""
    threshold = request.threshold
    client = open_client(settings.tracking_uri)
    record = fetch_run_record(client, request.run_id)
    champion = read_manifest(settings.promotion_manifest)
    with (
        tempfile.TemporaryDirectory(prefix="promotion-check-") as tmp,
        try_export(settings, client, record, Path(tmp)) as (staged, error),
    ):
        return record, promotion_gates(
            settings, client, record, threshold, champion, request, staged, error
        )
