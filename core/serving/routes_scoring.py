"""POST /predict and /explain: decisions with reasons, and the same plus exact SHAP."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.scoring.model_spec import ModelSpec
from core.serving import predictions
from core.serving.column_checks import validate_applicants
from core.serving.errors import request_error
from core.serving.fast_json import FastJSONResponse
from core.serving.openapi import APPLICANTS_BODY
from core.serving.request_parsing import (
    ParsedApplicants,
    decode_json,
    off_loop,
    predict_rows,
    read_body,
)
from core.serving.service_state import RUN_ID_HEADER, client_of, request_id_of, service_of

router = APIRouter(tags=["scoring"])


def _parse(body: bytes, max_applicants: int, spec: ModelSpec) -> tuple[ParsedApplicants, list[str]]:
    """The validated applicants of a /predict or /explain body, and warnings about the body."""
    rows, body_warnings = predict_rows(decode_json(body, max_applicants), max_applicants)
    return validate_applicants(rows, spec, "applicants"), body_warnings


def _reasons_for(request: Request, default: str) -> str:
    """?reasons=declines|all, else the service's setting (SCORING_REASONS); 400 otherwise."""
    asked = request.query_params.get("reasons", default)
    if asked not in predictions.REASONS_CHOICES:
        raise request_error(
            400,
            "reasons",
            f"reasons='{asked}' is not supported.",
            "Use ?reasons=declines (reasons for declined applicants, the default) or "
            "?reasons=all (SHAP computed on every applicant, as /explain does).",
        )
    return asked


async def _answer(request: Request, *, explain: bool) -> JSONResponse:
    """Parse, score with the model in force, explain what is answered, log and answer."""
    service = service_of(request)
    reasons_for = "all" if explain else _reasons_for(request, service.reasons_for)
    body = await read_body(request, service.body_limit, service.body_timeout)
    loaded = service.holder.model
    parsed, body_warnings = await off_loop(
        len(body), _parse, body, service.max_applicants, loaded.scorer.spec
    )
    scored = await predictions.score(service.batcher, loaded, parsed)
    found = await predictions.explain(
        service.explainer,
        scored,
        reasons_for,  # type: ignore[arg-type]
    )
    reasons = predictions.reasons_of(len(scored.rows), found)
    request_id = request_id_of(request)
    if service.decision_log is not None:
        batch = predictions.decision_batch(scored, reasons, request_id, client_of(request))
        await predictions.log_decisions(service.decision_log, batch)
    content: dict[str, object] = {
        "run_id": loaded.identity.run_id,
        "threshold": float(loaded.threshold),
        "score_scale": loaded.identity.score_scale,
        "score_name": loaded.identity.score_name,
        "request_id": request_id,
        "reasons_for": reasons_for,
        "predictions": predictions.prediction_items(scored, reasons, found, with_shap=explain),
    }
    if body_warnings:
        content["warnings"] = body_warnings
    return FastJSONResponse(content, headers={RUN_ID_HEADER: loaded.identity.run_id})


@router.post("/predict", openapi_extra=APPLICANTS_BODY, summary="Decide on applicants")
async def predict(request: Request) -> JSONResponse:
    """Score, decision at the manifest's threshold, adverse reasons, warnings.

    Reasons are given for declined applicants (`reasons_for`: "declines"); `?reasons=all` (or
    SCORING_REASONS=all) computes SHAP on every applicant, as the in-process Scorer does; the
    answer says which in `reasons_for`.

    Each prediction's `probability_of_default` field holds the model's output on the scale the
    response names in `score_scale`: "risk_score" (ranks applicants, not a PD) unless the run was
    trained with --calibrate, then "calibrated_pd" (probability of default, calibrated).
    """
    return await _answer(request, explain=False)


@router.post("/explain", openapi_extra=APPLICANTS_BODY, summary="Decide and explain")
async def explain(request: Request) -> JSONResponse:
    """Everything /predict gives plus exact SHAP contributions, base value and raw score.

    SHAP contributions are on the raw log-odds scale (they add up to raw_score), before any
    calibration.
    """
    return await _answer(request, explain=True)
