"""GET /health, /ready, /ping and /version: liveness, readiness and what is being served."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.code_version import code_version, package_versions
from core.scoring.feature_contract import contract_of
from core.scoring.prepare import spaced_names
from core.serving.service_state import service_of

router = APIRouter(tags=["service"])


@router.get("/health", summary="Liveness")
async def health() -> dict[str, str]:
    """Answers while the process lives (no token needed)."""
    return {"status": "ok"}


@router.get("/ping", summary="Liveness (MLflow's name)")
async def ping() -> dict[str, str]:
    """The same as /health, under the path `mlflow models serve` clients probe."""
    return {"status": "ok"}


@router.get("/ready", summary="Readiness")
async def ready(request: Request) -> JSONResponse:
    """200 when a verified model is loaded and in step with the manifest, else 503 and why;
    with when this worker loaded it and the worker's process id."""
    service = service_of(request)
    state = service.holder.readiness()
    return JSONResponse(
        {
            "ready": state.ready,
            "run_id": service.holder.model.identity.run_id,
            "detail": state.detail,
            "loaded_at": service.holder.model.loaded_at,
            "pid": os.getpid(),
        },
        status_code=200 if state.ready else 503,
    )


@router.get("/version", summary="What is being served")
async def version(request: Request) -> dict[str, object]:
    """The served model's run, sha256, threshold, promotion record (the requester and the
    approver, with issuer and subject when signed in), and code/package versions.

    `features` are the model's names; `feature_aliases` maps the spelling with spaces of each
    name holding underscores ('home status') to it. LightGBM writes a training column's spaces
    as underscores and keeps no record of which underscores were spaces, so every such name
    gets its alias, whether or not the training data spelled it that way: /predict, /explain
    and /invocations accept either (not both for one applicant). `feature_contract` is the
    served contract (names, order, kinds, category levels, spellings) and
    `feature_contract_sha256` its hash, the one the manifest records; `slot` the model slot
    the manifest serves (its experiment, unless promoted into another).
    """
    loaded = service_of(request).holder.model
    identity = loaded.identity
    contract = contract_of(loaded.scorer.spec)
    return {
        "run_id": identity.run_id,
        "run_name": identity.run_name,
        "experiment": {"id": identity.experiment_id, "name": identity.experiment_name},
        "slot": identity.slot or identity.experiment_name,
        "model_sha256": identity.model_sha256,
        "threshold": float(identity.threshold),
        "score_scale": identity.score_scale,
        "score_name": identity.score_name,
        "promoted_at": identity.promoted_at,
        "promoted_by": identity.promoted_by,
        "requester": identity.signoffs.get("requester"),
        "approver": identity.signoffs.get("approver"),
        "ledger_entry_hash": identity.ledger_entry_hash,
        "manifest_schema_version": identity.manifest_schema_version,
        "features": loaded.scorer.features,
        "feature_aliases": spaced_names(loaded.scorer.features),
        "feature_contract": contract.model_dump(mode="json"),
        "feature_contract_sha256": contract.sha256,
        "code": code_version(),
        "packages": package_versions(),
        "promoted_with": identity.promoted_with,
    }
