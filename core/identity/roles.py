"""Roles from a token's groups: who may request (or promote) and who may approve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.identity.actor import Actor

Role = Literal["requester", "approver", "viewer"]
Duty = Literal["request", "approve"]
DUTY_ROLE: dict[str, Role] = {"request": "requester", "approve": "approver"}


@dataclass(frozen=True)
class RolePolicy:
    """AUTH_ROLES_CLAIM and the groups of each role; with no group listed, anyone signed in
    may do anything (four eyes still holds by subject)."""

    claim: str = "groups"
    requesters: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()
    viewers: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        """True when any role lists groups."""
        return bool(self.requesters or self.approvers or self.viewers)

    def may(self, actor: Actor, duty: Duty) -> bool:
        """True when actor's groups allow duty (request: AUTH_REQUESTERS, approve:
        AUTH_APPROVERS); a group list left empty then allows nobody."""
        if not self.configured:
            return True
        allowed = self.requesters if duty == "request" else self.approvers
        return bool(set(actor.groups) & set(allowed))

    def role_of(self, actor: Actor, duty: Duty | None = None) -> Role:
        """The role recorded for actor: the one duty needs when allowed, else the highest held."""
        if duty is not None and self.may(actor, duty):
            return DUTY_ROLE[duty]
        for held in ("approve", "request"):
            if self.may(actor, held):  # type: ignore[arg-type]
                return DUTY_ROLE[held]
        return "viewer"

    def refusal(self, actor: Actor, duty: Duty) -> str:
        """Why actor may not do duty, naming the groups that would allow it."""
        allowed = self.requesters if duty == "request" else self.approvers
        variable = "AUTH_REQUESTERS" if duty == "request" else "AUTH_APPROVERS"
        groups = ", ".join(actor.groups) or "none"
        return (
            f"{actor.name} may not {duty}: their {self.claim} ({groups}) include none of "
            f"{variable} ({', '.join(allowed) or 'empty'})."
        )
