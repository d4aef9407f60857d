"""Settings of the scoring service, its decision log, the ledger's key and sign-in, parsed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlparse

from core.errors import SettingsError

DEFAULT_SCORING_BODY_TIMEOUT = 10.0


def auth_groups(raw: str) -> tuple[str, ...]:
    """A comma-separated list of group names (AUTH_REQUESTERS, AUTH_APPROVERS, AUTH_VIEWERS)."""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def jwt_settings(source: Mapping[str, str]) -> dict[str, str | None]:
    """SCORING_JWT_*: the issuer, JWKS URL, audience and scope of service bearer JWTs; the
    issuer and audience go together (JWKS URL: the issuer's discovery document by default)."""
    values = {
        key: source.get(f"SCORING_JWT_{key.upper()}", "").strip() or None
        for key in ("issuer", "jwks_url", "audience", "scope")
    }
    if bool(values["issuer"]) != bool(values["audience"]):
        raise SettingsError(
            "SCORING_JWT_ISSUER and SCORING_JWT_AUDIENCE must be set together.",
            fix="Set both to accept the identity provider's client-credentials tokens, or "
            "neither to accept only SCORING_API_TOKEN.",
        )
    for key in ("issuer", "jwks_url"):
        if values[key] and urlparse(values[key] or "").scheme not in ("http", "https"):
            raise SettingsError(
                f"SCORING_JWT_{key.upper()} '{values[key]}' is not an http(s) URL.",
                fix="Give the identity provider's address, for example "
                "https://login.example.com/realms/bank.",
            )
    return {f"scoring_jwt_{key}": value for key, value in values.items()}


def parse_public_key(raw: str) -> str | None:
    """LEDGER_PUBLIC_KEY: the Ed25519 public key the ledger's signatures are checked with."""
    if not raw:
        return None
    if len(raw) != 64 or any(c not in "0123456789abcdefABCDEF" for c in raw):
        raise SettingsError(
            "LEDGER_PUBLIC_KEY is not an Ed25519 public key (64 hex digits).",
            fix="Set it to the public key `python -m core promote --init-keys` printed.",
        )
    return raw.lower()


def parse_fsync(raw: str) -> Literal["batch", "off"]:
    """DECISION_LOG_FSYNC: fsync each group of decisions (batch) or leave it to the OS (off)."""
    if raw in ("", "off"):
        return "off"
    if raw == "batch":
        return "batch"
    raise SettingsError(
        f"DECISION_LOG_FSYNC '{raw}' is not supported.",
        fix="Set it to batch (each group of decisions survives a power loss) or off (the "
        "default: they survive the service being killed).",
    )


def parse_engine(raw: str) -> Literal["auto", "pandas", "duckdb", "spark"]:
    """MONITORING_ENGINE: who counts the decision log's bins (auto, pandas, duckdb or spark)."""
    if raw in ("", "auto"):
        return "auto"
    if raw in ("pandas", "duckdb", "spark"):
        return raw  # type: ignore[return-value]
    raise SettingsError(
        f"MONITORING_ENGINE '{raw}' is not supported.",
        fix="Set it to auto (DuckDB for a large log, the default), pandas, duckdb or spark.",
    )


def parse_body_timeout(raw: str) -> float:
    """SCORING_BODY_TIMEOUT: seconds a client has to send a request's whole body (> 0)."""
    if not raw:
        return DEFAULT_SCORING_BODY_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 3600:
        raise SettingsError(
            f"SCORING_BODY_TIMEOUT '{raw}' is not a number of seconds between 0 and 3600.",
            fix=f"Set it to how long a client may take to send a body, for example "
            f"{DEFAULT_SCORING_BODY_TIMEOUT:g}.",
        )
    return value
