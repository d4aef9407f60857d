"""Who may act on the promotion record: under sign-in a verified person in the right role,
never the requester approving their own request (compared by issuer and subject)."""

from __future__ import annotations

from core.errors import GovernanceError
from core.identity.actor import Actor, same_actor
from core.identity.oidc import sign_in_config
from core.identity.roles import Duty, RolePolicy
from core.record import ledger
from core.settings import Settings

SIGN_IN_NEEDED = "{what} need a signed-in identity: use the Promotion page, or pass an ID token"


class ApprovalError(GovernanceError):
    """A request cannot be approved or rejected, or an entry acknowledged, as asked (not
    signed in, the wrong role, the requester themself, or no such open request)."""


def role_policy(settings: Settings) -> RolePolicy:
    """The roles settings give a token's groups (AUTH_ROLES_CLAIM, AUTH_REQUESTERS, ...)."""
    return RolePolicy(
        claim=settings.auth_roles_claim,
        requesters=settings.auth_requesters,
        approvers=settings.auth_approvers,
        viewers=settings.auth_viewers,
    )


def sign_in_required(settings: Settings) -> bool:
    """True when `[auth]` is set up: declared names no longer sign anything off."""
    return sign_in_config(settings.auth_secrets_file) is not None


def actor_of_event(event: ledger.LedgerEvent) -> Actor:
    """The person a ledger event records."""
    claims = {key: getattr(event, key) for key in ("issuer", "subject", "email")}
    return Actor(name=event.by, identity=event.identity, **claims)


def acting(settings: Settings, actor: Actor, duty: Duty, what: str) -> dict[str, str | None]:
    """The event fields of actor doing duty, or ApprovalError: under sign-in the person must be
    verified and hold the role (AUTH_REQUESTERS to request, AUTH_APPROVERS to approve)."""
    if not actor.verified:
        if sign_in_required(settings):
            raise ApprovalError(
                SIGN_IN_NEEDED.format(what=what) + ".",
                fix="Sign in on the Promotion page, or pass --id-token-file with an ID token "
                "from the identity provider.",
            )
        return {"by": actor.name, "identity": actor.identity}
    policy = role_policy(settings)
    if not policy.may(actor, duty):
        raise ApprovalError(
            policy.refusal(actor, duty), fix="Ask someone in that role, or your administrator."
        )
    return {
        "by": actor.name,
        "identity": "signed-in",
        "issuer": actor.issuer,
        "subject": actor.subject,
        "email": actor.email,
        "name": actor.name,
        "role": policy.role_of(actor, duty),
    }


def same_person_refusal(actor: Actor, recorded: Actor, did: str, cannot: str) -> None:
    """ApprovalError when actor is the person who did the recorded action."""
    if not same_actor(actor, recorded):
        return
    if actor.key is not None and recorded.key is not None:
        who = (
            f"{actor.name} is signed in as the person who {did} ({actor.issuer} sub "
            f"{actor.subject})"
        )
    elif actor.name.strip() == recorded.name.strip():
        who = f"{actor.name.strip()} {did}"
    else:
        who = (
            f"'{actor.name.strip()}' and '{recorded.name.strip()}' name one person (names are "
            "compared ignoring case, spacing, punctuation, invisible characters, accents, "
            f"look-alike letters and an e-mail's domain), who {did}"
        )
    raise ApprovalError(f"{who} and cannot {cannot} too.", fix=_FIXES[cannot])


_FIXES = {
    "approve it": "A second person must approve (four-eyes rule).",
    "acknowledge it": "A second person must review an emergency rollback.",
}
