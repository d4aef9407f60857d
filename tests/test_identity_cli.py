"""The CLI under sign-in (a real OpenID Connect provider on loopback): approvals need an ID
token verified against the provider's keys, issuer, audience and expiry; the requester, a
viewer, a declared name, an expired or a wrongly signed token are refused in core."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from core.cli.main import main
from core.promotion import audit
from core.record import ledger
from core.record.frozen import frozen_pack_path
from core.record.manifest import ledger_path, read_manifest
from core.serving.app import create_app
from core.serving.model_holder import ModelHolder, load_promoted
from core.serving.service_state import ServiceState
from core.settings import load_settings
from tests.helpers.oidc_provider import (
    ALICE,
    BOB,
    ROLE_SETTINGS,
    VERA,
    id_token_for,
    resigned,
    running_provider,
    secrets_toml,
)

SIGN_IN_NEEDED = "approvals need a signed-in identity: use the Promotion page, or pass an ID token"


def _secrets(folder: Path, issuer: str) -> Path:
    """A secrets file whose [auth] names the provider."""
    path = folder / "secrets.toml"
    path.write_text(secrets_toml(issuer, "http://localhost:8501/oauth2callback"))
    return path


def _token_file(folder: Path, name: str, token: str) -> str:
    """An ID token saved to a file, as a user would."""
    path = folder / f"{name}.jwt"
    path.write_text(token + "\n")
    return str(path)


def _cli(monkeypatch, capsys, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """`python -m core promote ...` with this environment."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["promote", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_approval_needs_a_verified_id_token_of_another_approver(
    promo_store, tmp_path, oidc_issuer, monkeypatch, capsys
) -> None:
    # given four eyes with sign-in set up, and Alice (a model developer) requesting with her token
    env = {
        "MLFLOW_TRACKING_URI": promo_store.uri,
        "PROMOTION_MANIFEST": str(tmp_path / "deploy" / "promotion.json"),
        "PROMOTION_APPROVALS": "2",
        "AUTH_SECRETS_FILE": str(_secrets(tmp_path, oidc_issuer)),
        **ROLE_SETTINGS,
    }
    tokens = {
        p.sub: _token_file(tmp_path, p.sub, id_token_for(oidc_issuer, p))
        for p in (ALICE, BOB, VERA)
    }
    code, out, err = _cli(
        monkeypatch, capsys, env, "--run-id", promo_store.first, "--threshold", "0.45",
        "--reason", "quarterly refresh", "--id-token-file", tokens[ALICE.sub],
    )  # fmt: skip
    assert code == 0, err
    assert "requested R1" in out and "by Alice Analyst" in out
    # when anyone approves with a declared name / then it is refused with the sentence
    code, _, err = _cli(
        monkeypatch, capsys, env, "--approve", "R1", "--by", "Bob", "--reason", "ok"
    )
    assert code == 2 and SIGN_IN_NEEDED in err
    # when Alice approves her own request with her token / then it is refused by subject
    code, _, err = _cli(
        monkeypatch, capsys, env, "--approve", "R1", "--reason", "ok",
        "--id-token-file", tokens[ALICE.sub],
    )  # fmt: skip
    assert code == 2 and "signed in as the person who requested R1" in err and "u-1001" in err
    # when Vera (a viewer) approves / then her groups give no approver role
    code, _, err = _cli(
        monkeypatch, capsys, env, "--approve", "R1", "--reason", "ok",
        "--id-token-file", tokens[VERA.sub],
    )  # fmt: skip
    assert code == 2 and "Vera Viewer may not approve" in err and "AUTH_APPROVERS" in err
    # when Bob's token is re-signed by another key / then the signature is refused
    forged = _token_file(tmp_path, "forged", resigned(Path(tokens[BOB.sub]).read_text().strip()))
    code, _, err = _cli(
        monkeypatch, capsys, env, "--approve", "R1", "--reason", "ok", "--id-token-file", forged
    )
    assert code == 2 and "signature does not verify" in err
    assert read_manifest(env["PROMOTION_MANIFEST"]) is None
    # when Bob (a validator) approves with his own token / then it ships, naming both people
    code, out, err = _cli(
        monkeypatch, capsys, env, "--approve", "R1", "--reason", "evidence checked",
        "--id-token-file", tokens[BOB.sub],
    )  # fmt: skip
    assert code == 0, err
    manifest = read_manifest(env["PROMOTION_MANIFEST"])
    assert (manifest.requester.subject, manifest.requester.issuer) == (ALICE.sub, oidc_issuer)
    assert (manifest.approver.subject, manifest.approver.role) == (BOB.sub, "approver")
    assert manifest.approver.email == BOB.email and manifest.requester.role == "requester"
    # and the ledger records issuer, subject, e-mail, name and role of each
    chain = ledger.read_chain(ledger_path(env["PROMOTION_MANIFEST"]))
    events = [e.event for e in chain.entries]
    assert [(e.kind, e.subject, e.role, e.issuer) for e in events] == [
        ("request", ALICE.sub, "requester", oidc_issuer),
        ("approve", BOB.sub, "approver", oidc_issuer),
    ]
    assert (events[1].email, events[1].name) == (BOB.email, BOB.name)
    # and history names them with their issuer and subject
    settings = load_settings(env)
    who = list(audit.history(settings)["who"])
    assert f"sub {BOB.sub}" in who[0] and f"sub {ALICE.sub}" in who[1]
    # and the frozen evidence pack and the service's /version name them with issuer and subject
    export = manifest.exported_model_dir(settings.promotion_manifest)
    pack = frozen_pack_path(export, manifest.evidence_pack_sha256).read_text(encoding="utf-8")
    assert f"{oidc_issuer} sub {ALICE.sub}" in pack and f"{oidc_issuer} sub {BOB.sub}" in pack
    loaded = load_promoted(settings.promotion_manifest, settings.reason_codes_file)
    state = ServiceState(ModelHolder(loaded), None, settings.scoring_max_applicants)
    version = TestClient(create_app(state)).get("/version").json()
    assert (version["approver"]["issuer"], version["approver"]["subject"]) == (oidc_issuer, BOB.sub)
    assert version["requester"]["subject"] == ALICE.sub


def test_an_expired_id_token_is_refused(promo_store, tmp_path, monkeypatch, capsys) -> None:
    # given a provider whose tokens expired a minute before they were issued, set up as [auth]
    with running_provider(max_age=timedelta(seconds=-60)) as issuer:
        env = {
            "MLFLOW_TRACKING_URI": promo_store.uri,
            "PROMOTION_MANIFEST": str(tmp_path / "deploy" / "promotion.json"),
            "PROMOTION_APPROVALS": "2",
            "AUTH_SECRETS_FILE": str(_secrets(tmp_path, issuer)),
        }
        expired = _token_file(tmp_path, "bob", id_token_for(issuer, BOB))
        # when Bob acknowledges or approves with it / then the token is refused as expired
        code, _, err = _cli(
            monkeypatch,
            capsys,
            env,
            "--approve",
            "R1",
            "--reason",
            "ok",
            "--id-token-file",
            expired,
        )
    assert code == 2 and "has expired" in err
