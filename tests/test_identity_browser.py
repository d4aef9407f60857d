"""Sign-in end to end in Chromium: st.login against a real OpenID Connect provider on loopback
(oidc-provider-mock), roles from the token's groups, four eyes by subject, sign-out."""

from __future__ import annotations

import pytest

from core.identity.actor import actor_from_claims
from core.promotion import approvals
from core.record.manifest import read_manifest
from core.settings import load_settings
from tests.helpers.browser import SCRIPT_DONE, dashboard_server
from tests.helpers.oidc_provider import (
    ALICE,
    BOB,
    ROLE_SETTINGS,
    VERA,
    Person,
    secrets_toml,
)

pytestmark = pytest.mark.browser
WAIT_MS = 90_000


def _settled(page) -> None:
    """Wait until the app's script has finished (twice: a rerun may follow at once)."""
    for _ in range(2):
        page.wait_for_selector(SCRIPT_DONE, timeout=WAIT_MS)
        page.wait_for_timeout(400)


def _sign_in(browser, app: str, person: Person):
    """A fresh browser context: open Promotion, log in at the provider as person, come back."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{app}/promotion", wait_until="domcontentloaded")
    _settled(page)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name=person.sub).click()  # the provider's form: pick the user
    page.wait_for_url(f"{app}/**", timeout=WAIT_MS)
    page.goto(f"{app}/promotion", wait_until="domcontentloaded")
    _settled(page)
    page.get_by_text(f"Signed in as {person.name} (").wait_for(timeout=WAIT_MS)
    return page


def _buttons(page) -> set[str]:
    """The labels of the page's buttons."""
    return {t.strip() for t in page.locator("button").all_inner_texts()}


def test_sign_in_roles_four_eyes_and_sign_out_in_chromium(
    chromium, promo_store, oidc_issuer, tmp_path
) -> None:
    # given the dashboard with four eyes and [auth] pointing at a provider on loopback
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(secrets_toml(oidc_issuer, "http://localhost:{port}/oauth2callback"))
    env = {
        "MLFLOW_TRACKING_URI": promo_store.uri,
        "PROMOTION_MANIFEST": str(tmp_path / "deploy" / "promotion.json"),
        "PROMOTION_APPROVALS": "2",
        "AUTH_SECRETS_FILE": str(secrets),
        "STREAMLIT_SECRETS_FILES": str(secrets),
        "AUTHLIB_INSECURE_TRANSPORT": "1",
        **ROLE_SETTINGS,
    }
    with dashboard_server(tmp_path, **env) as url:
        app = url.replace("127.0.0.1", "localhost")
        _walk_through(chromium, app, oidc_issuer, load_settings(env))


def _walk_through(browser, app: str, issuer: str, settings) -> None:
    """The four people's steps, each in their own browser context."""
    # when Alice (model developers) signs in / then the page names her, her role, and offers
    # a request but no approval
    alice = _sign_in(browser, app, ALICE)
    assert "role: requester" in alice.inner_text("body")
    alice.get_by_role("textbox", name="Reason", exact=True).fill("best stable run")
    alice.get_by_role("button", name="Request promotion").click()
    alice.get_by_text("Requested R1").wait_for(timeout=WAIT_MS)
    _settled(alice)
    assert "You requested this" in alice.inner_text("body")
    assert "Approve" not in _buttons(alice)
    # and a forced approval by Alice is refused in core (by issuer and subject)
    claims = {**ALICE.claims, "sub": ALICE.sub, "iss": issuer}
    with pytest.raises(approvals.ApprovalError, match="signed in as the person who requested"):
        approvals.approve(
            settings,
            "R1",
            reason="mine",
            actor=actor_from_claims(claims, settings.auth_roles_claim),
        )
    # when Vera (readers) signs in / then she sees the request and no action at all
    vera = _sign_in(browser, app, VERA)
    assert "R1 · " in vera.inner_text("body") and "role: viewer" in vera.inner_text("body")
    assert not {"Approve", "Reject", "Request promotion", "Roll back"} & _buttons(vera)
    # when Bob (validators), another person, approves / then it ships naming both subjects
    bob = _sign_in(browser, app, BOB)
    bob.get_by_role("textbox", name="Reason for the decision").fill("evidence checked")
    bob.get_by_role("button", name="Approve").click()
    bob.get_by_text("Approved and promoted").wait_for(timeout=WAIT_MS)
    manifest = read_manifest(settings.promotion_manifest)
    assert (manifest.requester.subject, manifest.approver.subject) == (ALICE.sub, BOB.sub)
    assert (manifest.approver.issuer, manifest.approver.role) == (issuer, "approver")
    # when Alice logs out / then the provider ends the session and the page asks to log in
    alice.get_by_role("button", name="Log out").click()
    alice.get_by_role("button", name="End session").click()
    alice.wait_for_url(f"{app}/**", timeout=WAIT_MS)
    alice.goto(f"{app}/promotion", wait_until="domcontentloaded")
    _settled(alice)
    alice.get_by_role("button", name="Log in").wait_for(timeout=WAIT_MS)
    assert "Signed in as" not in alice.inner_text("body")
