"""The sign-in set-up: Streamlit's `[auth]` secrets (the provider and the app's client id), and
the provider's discovery document (issuer and JWKS address)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import requests

from core.errors import GovernanceError

DISCOVERY_TIMEOUT_SECONDS = 10.0


class IdentityError(GovernanceError):
    """The sign-in set-up is unreadable or the provider cannot be reached."""


@dataclass(frozen=True)
class SignInConfig:
    """What `[auth]` names: the provider's discovery URL and this app's client id."""

    server_metadata_url: str
    client_id: str


@dataclass(frozen=True)
class ProviderKeys:
    """Where a provider's tokens come from (issuer) and the keys that sign them (JWKS)."""

    issuer: str
    jwks_uri: str


def _provider_section(auth: dict) -> dict:
    """The `[auth]` table itself, or its only named provider (`[auth.keycloak]`)."""
    if "server_metadata_url" in auth:
        return auth
    named = [value for value in auth.values() if isinstance(value, dict)]
    return named[0] if len(named) == 1 else {}


def sign_in_config(secrets_file: Path) -> SignInConfig | None:
    """The `[auth]` provider of a Streamlit secrets file, or None when sign-in is not set up."""
    if not secrets_file.is_file():
        return None
    try:
        secrets = tomllib.loads(secrets_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise IdentityError(
            f"The secrets file '{secrets_file}' cannot be read ({exc}).",
            fix="Correct its TOML, or point AUTH_SECRETS_FILE at the right file.",
        ) from exc
    auth = secrets.get("auth")
    section = _provider_section(auth) if isinstance(auth, dict) else {}
    url, client = section.get("server_metadata_url"), section.get("client_id")
    if not (isinstance(url, str) and url and isinstance(client, str) and client):
        return None
    return SignInConfig(url, client)


@lru_cache(maxsize=8)
def discover(server_metadata_url: str) -> ProviderKeys:
    """The provider's issuer and JWKS address from its discovery document."""
    try:
        response = requests.get(server_metadata_url, timeout=DISCOVERY_TIMEOUT_SECONDS)
        response.raise_for_status()
        document = response.json()
        return ProviderKeys(str(document["issuer"]), str(document["jwks_uri"]))
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise IdentityError(
            f"The identity provider's discovery document '{server_metadata_url}' cannot be "
            f"read ({type(exc).__name__}).",
            fix="Check that the provider is reachable and the URL ends with "
            "/.well-known/openid-configuration.",
        ) from exc
