"""POST /invocations: the MLflow scoring protocol, answered with probabilities of default."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.serving import predictions
from core.serving.column_checks import validate_applicants
from core.serving.fast_json import FastJSONResponse
from core.serving.invocations import CONTENT_TYPE_CSV, csv_rows, json_applicants, media_type
from core.serving.model_holder import ServedModel
from core.serving.openapi import INVOCATIONS_BODY
from core.serving.request_parsing import ParsedApplicants, off_loop, read_body
from core.serving.service_state import RUN_ID_HEADER, client_of, request_id_of, service_of

router = APIRouter(tags=["mlflow protocol"])


def _parse(mime: str, body: bytes, max_applicants: int, loaded: ServedModel) -> ParsedApplicants:
    """The validated applicants of a CSV or MLflow JSON body."""
    spec = loaded.scorer.spec
    if mime == CONTENT_TYPE_CSV:
        numeric = {f.name for f in spec.features if not f.is_categorical}
        return validate_applicants(csv_rows(body, max_applicants, numeric), spec, "rows")
    return json_applicants(body, max_applicants, spec)


@router.post("/invocations", openapi_extra=INVOCATIONS_BODY, summary="MLflow-compatible scoring")
async def invocations(request: Request) -> JSONResponse:
    """dataframe_split | dataframe_records | instances | inputs (JSON) or CSV -> probabilities.

    No SHAP is computed before answering: the declines' reason codes reach the decision log
    after the answer (a reasons record joined by request id; see the README for the lag).
    """
    service = service_of(request)
    mime = media_type(request.headers.get("content-type"))
    body = await read_body(request, service.body_limit, service.body_timeout)
    loaded = service.holder.model
    parsed = await off_loop(len(body), _parse, mime, body, service.max_applicants, loaded)
    scored = await predictions.score(service.batcher, loaded, parsed)
    if service.decision_log is not None:
        request_id = request_id_of(request)
        batch = predictions.decision_batch(scored, None, request_id, client_of(request))
        await predictions.log_decisions(service.decision_log, batch)
        if service.log_reasons is not None:
            service.log_reasons.submit(loaded, batch.time, request_id, scored.rows)
    probabilities = scored.rows.probability.tolist()
    return FastJSONResponse(
        {"predictions": probabilities}, headers={RUN_ID_HEADER: loaded.identity.run_id}
    )
