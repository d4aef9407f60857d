"""Who may act on the promotion record: under sign-in a verified person in the right role,
never the requester approving their own request (compared by issuer and subject)."""

from __future__ import annotations

from pathlib import Path

from core.errors import GovernanceError
from core.identity.actor import Actor, actor_from_claims, same_actor
from core.identity.oidc import discover, sign_in_config
from core.identity.roles import Duty, RolePolicy
from core.identity.tokens import TokenError, TokenRules, verify_token
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
        return {"by": actor.name, "identity": actor.identity, "email": actor.email}
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


def actor_from_id_token(settings: Settings, token_file: Path) -> Actor:
    """The signed-in person of an ID token file, verified against the `[auth]` provider's
    JWKS, issuer, the app's client id as audience, and expiry; ApprovalError otherwise."""
    config = sign_in_config(settings.auth_secrets_file)
    if config is None:
        raise ApprovalError(
            f"--id-token-file needs sign-in set up, and '{settings.auth_secrets_file}' has no "
            "[auth] provider.",
            fix="Set up [auth] (README 'Four eyes, identity'), or use --by without a token.",
        )
    try:
        token = token_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ApprovalError(
            f"The ID token file '{token_file}' cannot be read ({exc}).",
            fix="Save the ID token the identity provider issued you to that file.",
        ) from exc
    keys = discover(config.server_metadata_url)
    rules = TokenRules(keys.issuer, keys.jwks_uri, config.client_id, id_token=True)
    try:
        claims = verify_token(token, rules)
    except TokenError as exc:
        raise ApprovalError(
            f"The ID token in '{token_file}' was refused: {exc.message}",
            fix="Sign in again at the identity provider for a fresh ID token.",
        ) from exc
    return actor_from_claims(claims, settings.auth_roles_claim)
