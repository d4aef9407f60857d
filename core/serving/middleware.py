"""Pure ASGI middleware: a request id on every request and response, and bearer-token auth."""

from __future__ import annotations

import hmac
import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


def unauthorized(request_id: str) -> JSONResponse:
    """401 that says how to authenticate."""
    return JSONResponse(
        {
            "error_code": "UNAUTHENTICATED",
            "message": "This endpoint needs the service's bearer token.",
            "fix": "Send the header 'Authorization: Bearer <SCORING_API_TOKEN>'.",
            "request_id": request_id,
        },
        status_code=401,
        headers={"WWW-Authenticate": "Bearer", REQUEST_ID_HEADER: request_id},
    )


class RequestContextMiddleware:
    """Tags each request with an id (echoed in the response) and checks the bearer token."""

    def __init__(self, app: ASGIApp, token: str | None = None) -> None:
        """Wrap app; with a token, every path but /health needs it."""
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = new_request_id(headers.get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        if (
            self.token
            and scope["path"] not in PUBLIC_PATHS
            and not token_matches(headers.get("authorization"), self.token)
        ):
            await unauthorized(request_id)(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
