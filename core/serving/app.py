"""The FastAPI application factory: routers, middleware, error answers and lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.decision_log.contract import writer_suffix
from core.decision_log.writer import DecisionLog
from core.errors import GovernanceError
from core.identity.oidc import discover
from core.identity.tokens import TokenRules
from core.record.signing import trusted_public_key
from core.serving import routes_info, routes_invocations, routes_scoring
from core.serving.errors import RequestError
from core.serving.middleware import RequestContextMiddleware
from core.serving.model_holder import ModelHolder, load_promoted
from core.serving.openapi import install_openapi
from core.serving.service_state import ServiceState
from core.settings import Settings

TITLE = "Credit-risk scoring service"
DESCRIPTION = (
    "Scores applicants with the promoted LightGBM model, at the threshold recorded in the "
    "promotion manifest, through the same Scorer as the dashboard."
)
_LOG = logging.getLogger(__name__)


def _error_body(request: Request, code: str, message: str, fix: str | None) -> dict[str, object]:
    """The one error shape: MLflow's error_code and message, plus the fix and the request id."""
    body: dict[str, object] = {"error_code": code, "message": message}
    if fix:
        body["fix"] = fix
    body["request_id"] = getattr(request.state, "request_id", None)
    return body


async def _request_error(request: Request, exc: Exception) -> JSONResponse:
    """A refused request: status and every problem with its field and fix."""
    assert isinstance(exc, RequestError)
    code = "RESOURCE_LIMIT_EXCEEDED" if exc.status == 413 else "BAD_REQUEST"
    body = _error_body(request, code, exc.message, exc.fix)
    body["problems"] = [p.as_json() for p in exc.problems]
    return JSONResponse(body, status_code=exc.status)


async def _governance_error(request: Request, exc: Exception) -> JSONResponse:
    """A core validation error on the applicants: 422 with its message and fix."""
    assert isinstance(exc, GovernanceError)
    return JSONResponse(_error_body(request, "BAD_REQUEST", exc.message, exc.fix), status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """404, 405 and friends in the same shape."""
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        _error_body(request, "BAD_REQUEST", str(exc.detail), None),
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Anything else: 500 without a traceback; the service keeps serving."""
    _LOG.exception("unexpected error on %s", request.url.path)
    return JSONResponse(
        _error_body(
            request,
            "INTERNAL_ERROR",
            f"The service could not answer this request ({type(exc).__name__}).",
            "Retry; if it persists, report the request id.",
        ),
        status_code=500,
    )


def create_app(service: ServiceState) -> FastAPI:
    """The scoring app over a service state; the lifespan starts the watcher and flushes the log."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.holder.start()
        try:
            yield
        finally:
            service.holder.stop()
            service.close()

    app = FastAPI(title=TITLE, description=DESCRIPTION, version="1", lifespan=lifespan)
    app.state.service = service
    for module in (routes_scoring, routes_invocations, routes_info):
        app.include_router(module.router)
    app.add_exception_handler(RequestError, _request_error)
    app.add_exception_handler(GovernanceError, _governance_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(RequestContextMiddleware, token=service.token, jwt_rules=service.jwt_rules)
    install_openapi(
        app,
        lambda: service.holder.model.scorer.spec,
        lambda: service.holder.model.identity.run_id,
    )
    return app


def app_from_settings(
    settings: Settings, worker: int | None = None, reasons_for: str = "declines"
) -> FastAPI:
    """The app over the promoted model (ServiceStartError when it cannot be served); worker N
    of several writes its own decision-log files (decisions-YYYY-MM-DD.w<N>.jsonl)."""
    manifest = settings.promotion_manifest
    trusted_key = trusted_public_key(settings)
    loaded = load_promoted(
        manifest, settings.reason_codes_file, settings.feature_policy_file, trusted_key
    )
    holder = ModelHolder(
        loaded,
        manifest,
        settings.reason_codes_file,
        feature_policy_file=settings.feature_policy_file,
        trusted_key=trusted_key,
    )
    service = ServiceState(
        holder=holder,
        decision_log=DecisionLog(
            settings.decision_log_dir, settings.decision_log_fsync, writer_suffix(worker)
        ),
        max_applicants=settings.scoring_max_applicants,
        token=settings.scoring_api_token,
        jwt_rules=service_token_rules(settings),
        body_timeout=settings.scoring_body_timeout,
        reasons_for=reasons_for,
    )
    return create_app(service)


def service_token_rules(settings: Settings) -> TokenRules | None:
    """What a client-credentials JWT must satisfy (SCORING_JWT_*), or None when not set up;
    the JWKS address comes from the issuer's discovery document unless given."""
    if not (settings.scoring_jwt_issuer and settings.scoring_jwt_audience):
        return None
    issuer = settings.scoring_jwt_issuer.rstrip("/")
    jwks = settings.scoring_jwt_jwks_url
    if jwks is None:
        keys = discover(f"{issuer}/.well-known/openid-configuration")
        issuer, jwks = keys.issuer, keys.jwks_uri
    return TokenRules(issuer, jwks, settings.scoring_jwt_audience, settings.scoring_jwt_scope)
