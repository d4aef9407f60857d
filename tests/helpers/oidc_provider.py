"""A real OpenID Connect provider on loopback for the sign-in tests: `oidc-provider-mock` (its
authorisation-code flow, ID tokens, JWKS, end-session), plus the client-credentials grant the
lending platform uses for the scoring service (RFC 9068 JWT access tokens signed with the
provider's own key, any client secret accepted, as the mock accepts any client; a test may ask
for a shorter lifetime with `expires_in`, negative for a token that has already expired)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import flask
import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

TOKEN_VIEW = "oidc-provider-mock.issue_token"
CLIENT_ID = "credit-governance-dashboard"
SERVICE_CLIENT = "lending-platform"
SERVICE_AUDIENCE = "credit-scoring-api"
SERVICE_SCOPE = "scoring.invoke"


@dataclass(frozen=True)
class Person:
    """A user of the provider: subject, display name, e-mail and groups."""

    sub: str
    name: str
    email: str
    groups: tuple[str, ...]

    @property
    def claims(self) -> dict[str, object]:
        """The claims the provider puts in this person's ID tokens (besides sub)."""
        return {"name": self.name, "email": self.email, "groups": list(self.groups)}

    def user(self):
        """The mock's user, whose claims go into its ID tokens."""
        from oidc_provider_mock import User  # imported here: only sign-in tests load Flask

        return User(sub=self.sub, claims=self.claims)


ALICE = Person("u-1001", "Alice Analyst", "alice@bank.example", ("model-developers",))
BOB = Person("u-2002", "Bob Validator", "bob@bank.example", ("model-validators",))
VERA = Person("u-3003", "Vera Viewer", "vera@bank.example", ("risk-readers",))
ROLE_SETTINGS = {
    "AUTH_REQUESTERS": "model-developers",
    "AUTH_APPROVERS": "model-validators",
    "AUTH_VIEWERS": "risk-readers",
}


def _client_credentials() -> flask.typing.ResponseReturnValue:
    """The client-credentials grant: a JWT access token for the audience and scope asked."""
    form = flask.request.form
    auth = flask.request.authorization
    client_id = (auth.username if auth else None) or form.get("client_id")
    if not client_id:
        return flask.jsonify({"error": "invalid_client"}), 401
    storage = flask.g.oidc_provider_mock_storage
    max_age = flask.current_app.config["OAUTH2_TOKEN_EXPIRES_IN"]["authorization_code"]
    max_age = int(form.get("expires_in", max_age))
    now = int(time.time())
    claims = {
        "iss": flask.request.host_url.rstrip("/"),
        "sub": client_id,
        "client_id": client_id,
        "aud": form.get("audience") or form.get("resource") or client_id,
        "scope": form.get("scope", ""),
        "iat": now,
        "exp": now + max_age,
        "jti": uuid.uuid4().hex,
    }
    key = storage.jwk.get_private_key()
    headers = {"kid": storage.jwk.as_dict()["kid"], "typ": "at+jwt"}
    token = jwt.encode(claims, key, algorithm="RS256", headers=headers)
    return flask.jsonify({"access_token": token, "token_type": "Bearer", "expires_in": max_age})


def provider_app(people: Sequence[Person], max_age: timedelta) -> flask.Flask:
    """The mock provider with these users and the client-credentials grant added."""
    from oidc_provider_mock import app

    provider = app(user_claims=[p.user() for p in people], access_token_max_age=max_age)
    issue = provider.view_functions[TOKEN_VIEW]

    def token_endpoint() -> flask.typing.ResponseReturnValue:
        if flask.request.form.get("grant_type") == "client_credentials":
            return _client_credentials()
        return issue()

    provider.view_functions[TOKEN_VIEW] = token_endpoint
    return provider


@pytest.fixture(scope="session")
def oidc_issuer() -> Iterator[str]:
    """One provider for the session's sign-in tests (tokens valid for an hour)."""
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    with running_provider() as issuer:
        yield issuer


@contextmanager
def running_provider(
    people: Sequence[Person] = (ALICE, BOB, VERA), max_age: timedelta = timedelta(hours=1)
) -> Iterator[str]:
    """The provider on a free loopback port, in a thread; yields its issuer URL."""
    from oidc_provider_mock._server import _threaded_server

    with _threaded_server(provider_app(people, max_age), host="localhost") as server:
        yield f"http://localhost:{server.server_port}"


def metadata_url(issuer: str) -> str:
    """The provider's discovery document."""
    return f"{issuer}/.well-known/openid-configuration"


def secrets_toml(issuer: str, redirect_uri: str, cookie_secret: str = "test-cookie") -> str:
    """Streamlit's `[auth]` secrets for this provider."""
    return (
        "[auth]\n"
        f'redirect_uri = "{redirect_uri}"\n'
        f'cookie_secret = "{cookie_secret}-0123456789abcdef0123456789abcdef"\n'
        f'client_id = "{CLIENT_ID}"\n'
        'client_secret = "any-secret-the-mock-accepts"\n'
        f'server_metadata_url = "{metadata_url(issuer)}"\n'
    )


def resigned(token: str) -> str:
    """The token's header and claims signed with a fresh key that is not the provider's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, key, algorithm="RS256", headers=jwt.get_unverified_header(token))


def id_token_for(issuer: str, person: Person, client_id: str = CLIENT_ID) -> str:
    """An ID token from the authorisation-code flow, with the login form posted by hand."""
    redirect = "http://127.0.0.1:9/callback"
    params = {
        "client_id": client_id,
        "redirect_uri": redirect,
        "response_type": "code",
        "scope": "openid profile email",
    }
    answer = requests.post(
        f"{issuer}/oauth2/authorize",
        params=params,
        data={"sub": person.sub},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        f"{issuer}/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
        auth=(client_id, "any-secret"),
        timeout=10,
    )
    tokens.raise_for_status()
    return tokens.json()["id_token"]


def service_token(
    issuer: str,
    audience: str = SERVICE_AUDIENCE,
    scope: str = SERVICE_SCOPE,
    expires_in: int = 3600,
) -> str:
    """A client-credentials access token of the lending platform."""
    form = {"audience": audience, "scope": scope, "expires_in": str(expires_in)}
    answer = requests.post(
        f"{issuer}/oauth2/token",
        data={"grant_type": "client_credentials", **form},
        auth=(SERVICE_CLIENT, "platform-secret"),
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]
