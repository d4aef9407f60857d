"""Who is acting on the Promotion page: the signed-in user (st.login / OIDC) or a declared name."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.identity.actor import Actor, actor_from_claims, same_actor
from core.identity.roles import Duty
from core.promotion.signers import role_policy
from core.record.ledger import Identity
from core.settings import Settings
from ui.shared.markdown_text import literal


@dataclass(frozen=True)
class Signer:
    """How names are established: actor holds the signed-in person when Streamlit auth is on,
    with the duties their groups allow."""

    actor: Actor | None
    duties: frozenset[str] = frozenset({"request", "approve"})

    @property
    def signed_in(self) -> str | None:
        """The signed-in person's name, or None when names are declared."""
        return self.actor.name if self.actor is not None else None

    def may(self, duty: Duty) -> bool:
        """True when the signed-in person's role allows duty (always, for declared names)."""
        return duty in self.duties

    def is_person(self, other: Actor) -> bool:
        """True when the signed-in person is other (by issuer and subject)."""
        return self.actor is not None and same_actor(self.actor, other)

    def name_field(self, label: str, key: str) -> tuple[str, Identity]:
        """The acting name: the signed-in user's (no text box), else a declared one typed in."""
        if self.signed_in is not None:
            st.caption(f"{label}: **{literal(self.signed_in)}** (signed in)")
            return self.signed_in, "signed-in"
        return st.text_input(f"{label} (declared name)", key=key), "declared"

    def read_only(self, what: str) -> bool:
        """True, after saying so, when the signed-in person may not do what the section does."""
        duty: Duty = "approve" if what in ("approve", "acknowledge") else "request"
        if self.may(duty):
            return False
        st.caption(
            f"Signed in as **{literal(self.signed_in or '')}** without the role to {what}: "
            "you see the record; your identity provider's groups decide who may act."
        )
        return True


def _auth_state() -> bool | None:
    """True signed in, False auth configured but signed out, None when auth is not configured."""
    state = st.user.get("is_logged_in")
    return None if state is None else bool(state)


def _sign_out_button(actor: Actor, role: str) -> None:
    """Who is signed in, in which role, and a way to sign out."""
    left, right = st.columns([5, 1])
    left.caption(
        f"Signed in as **{literal(actor.name)}** ({literal(actor.email or actor.subject or '')})"
        f" · role: **{role}**"
    )
    right.button("Log out", on_click=st.logout, icon=":material/logout:", key="auth_logout")


def current_signer(settings: Settings) -> Signer:
    """The page's signer; with auth configured and nobody signed in, offer login and stop."""
    state = _auth_state()
    if state is None:
        st.caption(
            "Names are declared, not verified (history marks them so): configure Streamlit "
            "authentication (`[auth]` in `.streamlit/secrets.toml`) to take them from the "
            "signed-in user."
        )
        return Signer(None)
    if not state:
        st.info("Sign in to request, approve or roll back a promotion.", icon=":material/login:")
        st.button("Log in", on_click=st.login, icon=":material/login:")
        st.stop()
    claims = {k: v for k, v in st.user.to_dict().items() if v is not None}
    claims["name"] = claims.get("name") or claims.get("email") or claims.get("sub")
    actor = actor_from_claims(claims, settings.auth_roles_claim)
    policy = role_policy(settings)
    duties = frozenset(d for d in ("request", "approve") if policy.may(actor, d))
    _sign_out_button(actor, policy.role_of(actor))
    return Signer(actor, duties)
