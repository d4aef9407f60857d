"""Pure ASGI middleware: a request id on every request and response, and bearer auth (the
service's token, or an OAuth2 client-credentials JWT verified against the issuer's JWKS)."""

from __future__ import annotations

import hmac
import re
import uuid

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.identity.tokens import TokenError, TokenRules, client_id_of, verify_token

REQUEST_ID_HEADER = "X-Request-ID"
PUBLIC_PATHS = frozenset({"/health"})
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_request_id(offered: str | None) -> str:
    """The client's X-Request-ID when it is a safe token, else a fresh one."""
    if offered and _CLIENT_ID.match(offered):
        return offered
    return uuid.uuid4().hex


def token_matches(authorization: str | None, token: str) -> bool:
    """True when the Authorization header carries the bearer token (constant-time compare)."""
    scheme, _, offered = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(offered.strip().encode("utf-8"), token.encode("utf-8"))


def unauthorized(request_id: str, refused: TokenError | None = None) -> JSONResponse:
    """401 that says how to authenticate (403 for a valid JWT lacking the scope)."""
    status = refused.status if refused is not None else 401
    return JSONResponse(
        {
            "error_code": "UNAUTHENTICATED" if status == 401 else "PERMISSION_DENIED",
            "message": refused.message if refused else "This endpoint needs a bearer token.",
            "fix": "Send the header 'Authorization: Bearer <SCORING_API_TOKEN>', or a "
            "client-credentials token of the identity provider (SCORING_JWT_AUDIENCE, "
            "SCORING_JWT_SCOPE).",
            "request_id": request_id,
        },
        status_code=status,
        headers={"WWW-Authenticate": "Bearer", REQUEST_ID_HEADER: request_id},
    )


async def bearer_client(
    authorization: str | None, token: str | None, rules: TokenRules | None
) -> str | None:
    """Who a request authenticates as: "" for the service's own token, the client id of a
    verified JWT; TokenError otherwise (verified off the event loop: keys may be fetched)."""
    if token and token_matches(authorization, token):
        return ""
    scheme, _, offered = (authorization or "").partition(" ")
    if rules is None or scheme.lower() != "bearer" or offered.count(".") != 2:
        raise TokenError("This endpoint needs a bearer token.")
    claims = await run_in_threadpool(verify_token, offered.strip(), rules)
    return client_id_of(claims)


class RequestContextMiddleware:
    """Tags each request with an id (echoed in the response) and checks the bearer token."""

    def __init__(
        self, app: ASGIApp, token: str | None = None, jwt_rules: TokenRules | None = None
    ) -> None:
        """Wrap app; with a token or JWT rules, every path but /health needs a bearer."""
        self.app = app
        self.token = token
        self.jwt_rules = jwt_rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = new_request_id(headers.get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        if (self.token or self.jwt_rules) and scope["path"] not in PUBLIC_PATHS:
            try:
                client = await bearer_client(
                    headers.get("authorization"), self.token, self.jwt_rules
                )
            except TokenError as refused:
                await unauthorized(request_id, refused)(scope, receive, send)
                return
            scope["state"]["client_id"] = client or None

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
