"""JSON Web Tokens verified against the issuer's JWKS: signature, issuer, audience, expiry and,
for service tokens, a required scope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import jwt

from core.errors import GovernanceError

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
LEEWAY_SECONDS = 30
JWKS_CACHE_SECONDS = 300


class TokenError(GovernanceError):
    """A token was refused: status 401 (not authenticated) or 403 (lacks the scope)."""

    def __init__(self, message: str, *, fix: str | None = None, status: int = 401) -> None:
        super().__init__(message, fix=fix)
        self.status = status


@dataclass(frozen=True)
class TokenRules:
    """What a token must satisfy: the issuer, its keys, the audience, and maybe a scope."""

    issuer: str
    jwks_uri: str
    audience: str
    scope: str | None = None
    id_token: bool = False


@lru_cache(maxsize=8)
def _keys(jwks_uri: str) -> jwt.PyJWKClient:
    """A caching JWKS client per address (keys re-read after JWKS_CACHE_SECONDS)."""
    return jwt.PyJWKClient(jwks_uri, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=10)


def scopes_of(claims: Mapping[str, object]) -> set[str]:
    """The scopes a token grants: `scope` / `scp` (text or list) and Entra ID's app `roles`."""
    found: set[str] = set()
    for claim in ("scope", "scp", "roles"):
        value = claims.get(claim)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, list):
            found.update(str(v) for v in value)
    return found


def client_id_of(claims: Mapping[str, object]) -> str | None:
    """The OAuth client a token was issued to (client_id, azp, appid, else sub)."""
    for claim in ("client_id", "azp", "appid", "sub"):
        if claims.get(claim):
            return str(claims[claim])
    return None


def _decode(token: str, rules: TokenRules) -> dict[str, object]:
    """The claims, checked against the key the header names (or, with no kid, each key of the
    JWKS in turn: some providers leave the kid out of ID tokens)."""
    header = jwt.get_unverified_header(token)
    if rules.id_token and str(header.get("typ", "")).lower() == "at+jwt":
        raise jwt.InvalidTokenError("an access token is not an ID token")
    keys = _keys(rules.jwks_uri)
    kid = header.get("kid")
    candidates = [keys.get_signing_key(kid)] if kid else keys.get_signing_keys()
    for number, key in enumerate(candidates, start=1):
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=rules.audience,
                issuer=rules.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.InvalidSignatureError:
            if number == len(candidates):
                raise
    raise jwt.PyJWKClientError("the issuer's JWKS holds no signing key")


def verify_token(token: str, rules: TokenRules) -> dict[str, object]:
    """The token's claims once signature, issuer, audience, expiry and scope hold; else
    TokenError saying which failed."""
    try:
        claims = _decode(token, rules)
    except jwt.PyJWKClientConnectionError as exc:
        raise TokenError(
            f"The issuer's keys cannot be read ({exc}).", fix="Check the identity provider."
        ) from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenError("The token's signature does not verify with the issuer's keys.") from exc
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("The token has expired.", fix="Get a fresh token.") from exc
    except jwt.InvalidAudienceError as exc:
        raise TokenError(
            f"The token is not meant for this audience ({rules.audience}).",
            fix="Request the token for this audience.",
        ) from exc
    except jwt.InvalidIssuerError as exc:
        raise TokenError(f"The token was not issued by {rules.issuer}.") from exc
    except jwt.PyJWKClientError as exc:
        raise TokenError(f"The token's signing key is not the issuer's ({exc}).") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"The token is not valid ({type(exc).__name__}: {exc}).") from exc
    if rules.scope and rules.scope not in scopes_of(claims):
        raise TokenError(
            f"The token lacks the scope '{rules.scope}'.",
            fix="Request the token with that scope.",
            status=403,
        )
    return claims
