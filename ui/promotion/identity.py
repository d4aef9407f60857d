"""Who is acting on the Promotion page: the signed-in user (st.login / OIDC) or a declared name."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.record.ledger import Identity
from ui.shared.markdown_text import literal


@dataclass(frozen=True)
class Signer:
    """How names are established: signed_in holds the OIDC name when Streamlit auth is on."""

    signed_in: str | None

    def name_field(self, label: str, key: str) -> tuple[str, Identity]:
        """The acting name: the signed-in user's (no text box), else a declared one typed in."""
        if self.signed_in is not None:
            st.caption(f"{label}: **{literal(self.signed_in)}** (signed in)")
            return self.signed_in, "signed-in"
        return st.text_input(f"{label} (declared name)", key=key), "declared"


def _auth_state() -> bool | None:
    """True signed in, False auth configured but signed out, None when auth is not configured."""
    state = st.user.get("is_logged_in")
    return None if state is None else bool(state)


def current_signer() -> Signer:
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
    name = st.user.get("email") or st.user.get("name") or st.user.get("sub")
    return Signer(str(name))
