"""POST /invocations: the MLflow scoring protocol, answered with probabilities of default."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.serving import predictions
from core.serving.invocations import CONTENT_TYPE_CSV, csv_rows, json_rows, media_type
from core.serving.openapi import INVOCATIONS_BODY
from core.serving.request_parsing import read_body, validate_rows
from core.serving.service_state import RUN_ID_HEADER, client_of, request_id_of, service_of

router = APIRouter(tags=["mlflow protocol"])


@router.post("/invocations", openapi_extra=INVOCATIONS_BODY, summary="MLflow-compatible scoring")
async def invocations(request: Request) -> JSONResponse:
    """dataframe_split | dataframe_records | instances | inputs (JSON) or CSV -> probabilities."""
    service = service_of(request)
    mime = media_type(request.headers.get("content-type"))
    body = await read_body(request, service.body_limit)
    loaded = service.holder.model
    spec = loaded.scorer.spec
    if mime == CONTENT_TYPE_CSV:
        numeric = {f.name for f in spec.features if not f.is_categorical}
        rows, label = csv_rows(body, service.max_applicants, numeric), "rows"
    else:
        rows, label = json_rows(body, service.max_applicants)
    parsed = validate_rows(rows, spec, label)
    scored = await predictions.score(service.batcher, loaded, parsed)
    if service.decision_log is not None:
        reasons = predictions.reasons_of(scored)
        batch = predictions.decision_batch(
            scored, reasons, request_id_of(request), client_of(request)
        )
        service.decision_log.append(batch)
    probabilities = scored.rows.probability.tolist()
    return JSONResponse(
        {"predictions": probabilities}, headers={RUN_ID_HEADER: loaded.identity.run_id}
    )
