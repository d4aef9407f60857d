"""The scoring service accepts the lending platform's client-credentials JWTs from the identity
provider (verified against its JWKS, issuer, audience, expiry and scope) beside its own token,
and logs the token's client id with each decision."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from core.errors import SettingsError
from core.serving.app import app_from_settings
from core.settings import load_settings
from tests.helpers.oidc_provider import (
    SERVICE_AUDIENCE,
    SERVICE_CLIENT,
    SERVICE_SCOPE,
    resigned,
    service_token,
)
from tests.test_serving_service import _applicants

API_TOKEN = "static-service-token"


def _bearer(token: str) -> dict[str, str]:
    """The Authorization header carrying token."""
    return {"Authorization": f"Bearer {token}"}


def test_client_credentials_jwts_are_verified_and_their_client_logged(
    promoted, oidc_issuer
) -> None:
    # given the service set up for the provider's JWTs (audience and scope) and its own token
    env = {
        **promoted.env,
        "SCORING_API_TOKEN": API_TOKEN,
        "SCORING_JWT_ISSUER": oidc_issuer,
        "SCORING_JWT_AUDIENCE": SERVICE_AUDIENCE,
        "SCORING_JWT_SCOPE": SERVICE_SCOPE,
    }
    settings = load_settings(env)
    good = service_token(oidc_issuer)
    refused = {
        "expired": (service_token(oidc_issuer, expires_in=-120), 401, "expired"),
        "wrong audience": (service_token(oidc_issuer, audience="other-api"), 401, "audience"),
        "wrong scope": (service_token(oidc_issuer, scope="profile"), 403, SERVICE_SCOPE),
        "wrong signature": (resigned(good), 401, "signature"),
        "not a token": ("not-a-jwt", 401, "bearer token"),
    }
    applicants = {"applicants": _applicants(2)}
    with TestClient(app_from_settings(settings)) as client:
        # when the platform scores with a valid token / then it is answered
        answer = client.post(
            "/predict", json=applicants, headers={"Authorization": f"Bearer {good}"}
        )
        assert answer.status_code == 200, answer.text
        # and the service's own token still works, and logs no client
        own = client.post(
            "/predict", json=applicants, headers={"Authorization": f"Bearer {API_TOKEN}"}
        )
        assert own.status_code == 200
        # when a token is expired, for another audience, lacks the scope or is forged
        for label, (token, status, words) in refused.items():
            response = client.get("/version", headers=_bearer(token))
            # then it is refused with 401 (403 for the scope), saying why
            assert response.status_code == status, label
            assert words in response.json()["message"], label
    # and the decision log names the client of the JWT, and none for the service token
    day_files = sorted((promoted.folder / "decisions").glob("decisions-*.jsonl"))
    records = [json.loads(line) for f in day_files for line in f.read_text().splitlines()]
    assert [r.get("client_id") for r in records] == [SERVICE_CLIENT] * 2 + [None] * 2


def test_identity_settings_are_read_and_checked() -> None:
    # given the sign-in and service-token variables / then they are parsed into settings
    settings = load_settings(
        {
            "AUTH_ROLES_CLAIM": "roles",
            "AUTH_APPROVERS": "model-validators, risk-committee",
            "SCORING_JWT_ISSUER": "https://sso.bank.example/realms/bank",
            "SCORING_JWT_AUDIENCE": "credit-scoring-api",
        }
    )
    assert settings.auth_roles_claim == "roles" and settings.auth_requesters == ()
    assert settings.auth_approvers == ("model-validators", "risk-committee")
    assert settings.scoring_jwt_scope is None
    # and an issuer without an audience, or an issuer that is no URL, is refused saying why
    with pytest.raises(SettingsError, match="must be set together"):
        load_settings({"SCORING_JWT_ISSUER": "https://sso.bank.example"})
    with pytest.raises(SettingsError, match="SCORING_JWT_ISSUER 'sso' is not an http"):
        load_settings({"SCORING_JWT_ISSUER": "sso", "SCORING_JWT_AUDIENCE": "api"})
