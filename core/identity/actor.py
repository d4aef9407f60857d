"""The person behind an action: a declared name, or a signed-in identity (issuer, subject)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from core.person_names import same_person

ActorKind = Literal["declared", "signed-in", "system"]


@dataclass(frozen=True)
class Actor:
    """Who acts: the name shown, how it was established, and for a signed-in person the
    token's issuer, subject, e-mail and groups (compared by issuer and subject only)."""

    name: str
    identity: ActorKind = "declared"
    issuer: str | None = None
    subject: str | None = None
    email: str | None = None
    groups: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        """True for a signed-in person with a stable (issuer, subject)."""
        return self.identity == "signed-in" and bool(self.issuer) and bool(self.subject)

    @property
    def key(self) -> tuple[str, str] | None:
        """(issuer, subject) of a signed-in person, else None."""
        return (str(self.issuer), str(self.subject)) if self.verified else None


def groups_in(claims: Mapping[str, object], claim: str) -> tuple[str, ...]:
    """The groups a token's claim lists (a JSON list, or a space- or comma-separated text)."""
    value = claims.get(claim)
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    if isinstance(value, list | tuple):
        return tuple(str(part) for part in value)
    return ()


def actor_from_claims(claims: Mapping[str, object], roles_claim: str) -> Actor:
    """The signed-in person an ID token's claims describe (name: name, else e-mail, else sub)."""
    email = str(claims["email"]) if claims.get("email") else None
    subject = str(claims.get("sub") or "")
    name = str(claims.get("name") or email or subject)
    return Actor(
        name=name,
        identity="signed-in",
        issuer=str(claims.get("iss") or "") or None,
        subject=subject or None,
        email=email,
        groups=groups_in(claims, roles_claim),
    )


def same_actor(first: Actor, second: Actor) -> bool:
    """True when two actors are one person: by (issuer, subject) when both signed in, else by
    any of their names and e-mails folded alike (core.person_names)."""
    if first.key is not None and second.key is not None:
        return first.key == second.key
    names = [n for n in (first.name, first.email) if n]
    others = [n for n in (second.name, second.email) if n]
    return any(same_person(a, b) for a in names for b in others)
