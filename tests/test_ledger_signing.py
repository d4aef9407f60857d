"""The signed, anchored ledger: a chain rewritten without the key, a forged threshold, a cut
tail with an older manifest restored, and a ledger written before signing."""

from __future__ import annotations

import json
import shutil
import stat
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.cli.main import main
from core.errors import GovernanceError
from core.promotion import approvals, audit
from core.promotion import use_cases as promotion
from core.record import ledger, signing
from core.record.atomic_io import commit_file
from core.record.ledger_trust import signature_check
from core.record.manifest import ledger_path
from core.record.repair import repair
from core.report.render import verification_checks
from core.serving.model_holder import verified_manifest
from core.settings import Settings, load_settings
from tests.helpers.promotion_fixtures import PromotionStore, ask
from tests.helpers.store_builders import copy_file_store
from tests.test_ledger import _manifest


@dataclass(frozen=True)
class SignedState:
    """A store and a deploy folder where two promotions were signed and anchored."""

    uri: str
    deploy: Path
    env: dict[str, str]


def _key_env(folder: Path) -> dict[str, str]:
    """A signing key file in folder and the two settings that use it."""
    key_file = folder / "ledger-signing.key"
    public = signing.create_key_file(key_file, Settings(promotion_manifest=Path("/nowhere/p.json")))
    return {"LEDGER_SIGNING_KEY_FILE": str(key_file), "LEDGER_PUBLIC_KEY": public}


@pytest.fixture(scope="module", name="signed_state")
def signed_state_fixture(promotion_template, tmp_path_factory) -> SignedState:
    """Two real promotions (first, then second) with a signing key: built once per module."""
    root = tmp_path_factory.mktemp("signed")
    uri = f"file:{copy_file_store(promotion_template.path, root / 'mlruns')}"
    env = _key_env(root)
    deploy = root / "deploy"
    settings = load_settings(
        {"MLFLOW_TRACKING_URI": uri, "PROMOTION_MANIFEST": str(deploy / "promotion.json"), **env}
    )
    promotion.promote(settings, ask(promotion_template.first))
    promotion.promote(settings, ask(promotion_template.second, 0.5))
    return SignedState(uri, deploy, env)


def _copy(state: SignedState, tmp_path: Path, **env: str) -> Settings:
    """Settings on a private copy of the signed deploy folder (the store is shared)."""
    shutil.copytree(state.deploy, tmp_path / "deploy")
    values = {"MLFLOW_TRACKING_URI": state.uri, **state.env, **env}
    values["PROMOTION_MANIFEST"] = str(tmp_path / "deploy" / "promotion.json")
    return load_settings({k: v for k, v in values.items() if v})


def _forge(manifest_path: Path, seq: int, threshold: float) -> None:
    """Rewrite entry seq's threshold, re-hash it and every later entry, and point the manifest
    at the new head: what someone who can write the deploy folder but holds no key can do."""
    lpath = ledger_path(manifest_path)
    raws = [json.loads(line) for line in lpath.read_text().splitlines()]
    prev = raws[seq - 2]["hash"] if seq > 1 else ledger.GENESIS_HASH
    for raw in raws[seq - 1 :]:
        if raw["seq"] == seq:
            raw["manifest"]["threshold"] = threshold
        raw["prev_hash"] = prev
        raw["hash"] = ledger.entry_hash(
            raw["seq"], prev, raw["restores_seq"], raw["manifest"], raw.get("event"),
            raw.get("public_key"),
        )  # fmt: skip
        prev = raw["hash"]
    lpath.write_text("".join(json.dumps(raw) + "\n" for raw in raws))
    manifest = json.loads(manifest_path.read_text())
    manifest.update(threshold=threshold, ledger_entry_hash=prev)
    manifest_path.write_text(json.dumps(manifest))


def _verify(monkeypatch, capsys, settings: Settings, env: dict[str, str]) -> tuple[int, str]:
    """`python -m core promote --verify` in-process; exit code and all output."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", settings.tracking_uri)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(settings.promotion_manifest))
    for name in ("LEDGER_SIGNING_KEY_FILE", "LEDGER_PUBLIC_KEY"):
        monkeypatch.setenv(name, env.get(name, ""))
    code = main(["promote", "--verify"])
    out, err = capsys.readouterr()
    return code, out + err


def _signed_chain(path: Path, key: Ed25519PrivateKey | None, runs: list[str]) -> None:
    """Append one entry per run, signed with key (unsigned when None)."""
    head = ledger.read_chain(path).head
    for run_id in runs:
        head = ledger.new_entry(head, _manifest(run_id), signer=key)
        commit_file(ledger.stage_append(path, head), path)


def _requested(
    state: SignedState, template: PromotionStore, tmp_path: Path
) -> tuple[Settings, approvals.RequestResult]:
    """Four eyes on over a private copy of the signed state and its store, and a request made
    (the store is copied: the request anchors the ledger head in it)."""
    uri = f"file:{copy_file_store(Path(state.uri.removeprefix('file:')), tmp_path / 'store')}"
    settings = _copy(state, tmp_path, MLFLOW_TRACKING_URI=uri, PROMOTION_APPROVALS="2")
    asked = approvals.submit(settings, ask(template.second, 0.45))
    assert isinstance(asked, approvals.RequestResult)
    return settings, asked


def test_init_keys_creates_a_key_outside_the_deploy_folder_only(
    tmp_path, monkeypatch, capsys
) -> None:
    # given a deploy folder
    monkeypatch.setenv("PROMOTION_MANIFEST", str(tmp_path / "deploy" / "promotion.json"))
    # when a key is asked for inside it, then outside it
    inside = main(["promote", "--init-keys", str(tmp_path / "deploy" / "k.key")])
    err = capsys.readouterr().err
    outside = main(["promote", "--init-keys", str(tmp_path / "keys" / "k.key")])
    out = capsys.readouterr().out
    # then the first is refused naming the deploy folder; the second is private, and its
    # public key is printed as the setting to use
    assert inside == 2 and "inside the deploy folder" in err
    assert outside == 0
    assert stat.S_IMODE((tmp_path / "keys" / "k.key").stat().st_mode) == 0o600
    public = out.split("LEDGER_PUBLIC_KEY=")[1].split()[0]
    assert load_settings({"LEDGER_PUBLIC_KEY": public}).ledger_public_key == public


def test_a_chain_rewritten_without_the_key_fails_naming_the_first_bad_entry(tmp_path) -> None:
    # given a ledger of three signed entries
    path = tmp_path / "deploy" / "promotion.ledger.jsonl"
    path.parent.mkdir()
    key = Ed25519PrivateKey.generate()
    _signed_chain(path, key, ["r1", "r2", "r3"])
    assert ledger.read_chain(path, signing.public_hex(key)).valid
    # when entry 2 is rewritten and every hash after it recomputed, without the key
    manifest = tmp_path / "deploy" / "promotion.json"
    manifest.write_text("{}")
    _forge(manifest, 2, 0.95)
    # then the hash chain holds but the signatures name entry 2 first, with or without a
    # pinned key
    for trusted in (signing.public_hex(key), None):
        problems = ledger.read_chain(path, trusted).problems
        assert problems and "(entry 2)" in problems[0] and "signature" in problems[0]


def test_stripped_or_foreign_signatures_fail(tmp_path) -> None:
    # given a signed ledger
    path = tmp_path / "l.jsonl"
    key = Ed25519PrivateKey.generate()
    _signed_chain(path, key, ["r1", "r2"])
    pinned = signing.public_hex(key)
    # when its signature on entry 2 is removed
    stripped = tmp_path / "stripped.jsonl"
    lines = path.read_text().splitlines()
    raw = json.loads(lines[1])
    raw["signature"] = None
    stripped.write_text(lines[0] + "\n" + json.dumps(raw) + "\n")
    # and when the whole chain is re-signed with another key
    resigned = tmp_path / "resigned.jsonl"
    _signed_chain(resigned, Ed25519PrivateKey.generate(), ["r1", "r2"])
    # then both fail against the pinned key, naming the entry
    assert "(entry 2): is not signed" in ledger.read_chain(stripped, pinned).problems[0]
    assert "other than LEDGER_PUBLIC_KEY" in ledger.read_chain(resigned, pinned).problems[0]


def test_a_ledger_written_before_signing_reads_unsigned_up_to_entry_n(tmp_path) -> None:
    # given two entries written before signing, then one signed
    path = tmp_path / "l.jsonl"
    key = Ed25519PrivateKey.generate()
    _signed_chain(path, None, ["r1", "r2"])
    unsigned = signature_check(ledger.read_chain(path), None)
    _signed_chain(path, key, ["r3"])
    chain = ledger.read_chain(path, signing.public_hex(key))
    # when its signatures are judged
    check = signature_check(chain, signing.public_hex(key))
    # then the old entries still verify, and the verdict says how far it is unsigned; an
    # unsigned ledger says UNSIGNED plainly and never "verified"
    assert chain.valid and chain.public_key == signing.public_hex(key)
    assert check.ok and "unsigned up to entry 2" in check.detail
    assert unsigned.mark == "WARN" and unsigned.detail.startswith("UNSIGNED")
    assert "verified" not in unsigned.detail


def test_trailing_blank_lines_are_ignored_but_a_torn_last_line_fails(tmp_path) -> None:
    # given a valid ledger
    path = tmp_path / "l.jsonl"
    _signed_chain(path, None, ["r1", "r2"])
    whole = path.read_text()
    # when blank lines follow it, and when its last line is torn
    path.write_text(whole + "\n  \n")
    blank = ledger.read_chain(path)
    path.write_text(whole[: len(whole) - 20])
    torn = ledger.read_chain(path)
    # then the blank lines are ignored and the torn line is named
    assert blank.valid and len(blank.entries) == 2
    assert not torn.valid and torn.problems[0].startswith("line 2: not a valid entry")


def test_a_forged_threshold_is_refused_by_verify_and_by_the_service(
    signed_state, tmp_path, monkeypatch, capsys
) -> None:
    # given the signed state, with the last promotion's threshold forged to 0.95
    settings = _copy(signed_state, tmp_path)
    assert audit.verify(settings).ok
    _forge(settings.promotion_manifest, 2, 0.95)
    # when it is verified, and when the service loads it
    code, out = _verify(monkeypatch, capsys, settings, signed_state.env)
    with pytest.raises(GovernanceError) as refused:
        verified_manifest(settings.promotion_manifest, signed_state.env["LEDGER_PUBLIC_KEY"])
    # then both refuse, naming entry 2
    assert code == 1 and "[FAIL] ledger chain" in out and "(entry 2)" in out
    assert "(entry 2)" in refused.value.message


def test_a_cut_tail_with_the_older_manifest_restored_fails_verification(
    signed_state, tmp_path, monkeypatch, capsys
) -> None:
    # given the signed state; the last entry removed and the first promotion's manifest restored
    settings = _copy(signed_state, tmp_path)
    lpath = ledger_path(settings.promotion_manifest)
    first = ledger.read_chain(lpath).entries[0]
    lpath.write_text(lpath.read_text().splitlines()[0] + "\n")
    restored = first.manifest.model_copy(update={"ledger_entry_hash": first.hash})
    settings.promotion_manifest.write_bytes(restored.to_json_bytes())
    # when it is verified
    code, out = _verify(monkeypatch, capsys, settings, signed_state.env)
    # then the chain and signatures hold, but the tracking store's anchor says entries went
    assert "[ok] ledger chain" in out and "[ok] ledger signatures" in out
    assert code == 1 and "[FAIL] tracking-store anchor" in out and "ledger ends at entry 1" in out


def test_a_cut_trailing_request_fails_verification_naming_the_anchor(
    signed_state, promotion_template, tmp_path
) -> None:
    # given the signed state on a private store copy, four eyes on, and a request appended
    settings, asked = _requested(signed_state, promotion_template, tmp_path)
    assert asked.warnings == ()
    assert audit.verify(settings).ok
    # when that request (the ledger's last line) is cut off
    lpath = ledger_path(settings.promotion_manifest)
    lpath.write_text("".join(lpath.read_text().splitlines(keepends=True)[:-1]))
    # then verification fails on the tracking store's anchor, which recorded entry 3
    report = audit.verify(settings)
    failed = [c for c in report.checks if not c.ok]
    assert not report.ok and [c.name for c in failed] == ["tracking-store anchor"]
    assert "anchors entry 3 but the ledger ends at entry 2" in failed[0].detail


def test_a_reject_whose_anchor_cannot_be_written_is_still_recorded(
    signed_state, promotion_template, tmp_path, caplog
) -> None:
    # given a request on a private store copy, then a store that lost the promoted experiment
    settings, asked = _requested(signed_state, promotion_template, tmp_path)
    (tmp_path / "empty").mkdir()
    elsewhere = replace(settings, tracking_uri=f"file:{tmp_path / 'empty'}")
    # when bob rejects it there / then the rejection is in the ledger and the failure is said
    entry = approvals.reject(elsewhere, asked.request_id, by="bob", reason="not now")
    assert ledger.read_chain(ledger_path(settings.promotion_manifest)).head == entry
    assert "could not be anchored in the tracking store" in caplog.text


def test_an_unsigned_service_refuses_a_chain_whose_head_is_unsigned_when_a_key_is_set(
    signed_state, tmp_path
) -> None:
    # given the signed state with its signatures and recorded key stripped and re-hashed
    settings = _copy(signed_state, tmp_path)
    lpath = ledger_path(settings.promotion_manifest)
    raws = [json.loads(line) for line in lpath.read_text().splitlines()]
    for raw in raws:
        raw.update(signature=None, public_key=None)
    lpath.write_text("".join(json.dumps(raw) + "\n" for raw in raws))
    _forge(settings.promotion_manifest, 1, raws[0]["manifest"]["threshold"])
    # when the service loads it with the public key set
    with pytest.raises(GovernanceError) as refused:
        verified_manifest(settings.promotion_manifest, signed_state.env["LEDGER_PUBLIC_KEY"])
    # then it refuses: an unsigned head cannot be trusted once a key is configured
    assert "UNSIGNED" in refused.value.message


def test_repair_removes_temp_files_and_packs_no_entry_names(signed_state, tmp_path) -> None:
    # given the signed state, with a killed promotion's temp file and orphaned pack beside the
    # packs the ledger names
    settings = _copy(signed_state, tmp_path)
    models = settings.promotion_manifest.parent / "models"
    named = sorted(p.name for p in models.glob("*.evidence-pack-*.html"))
    assert len(named) == 2
    orphan = models / named[0].replace(named[0].rsplit("-", 1)[1], "0123456789abcdef.html")
    orphan.write_text("<html>killed promotion</html>")
    temp = models / ".x.evidence-pack-1.html.abc.tmp"
    temp.write_bytes(b"x" * 1000)
    # when repair runs
    report = repair(settings)
    # then both are removed, the named packs kept, and the record still verifies
    assert f"models/{orphan.name}" in report.removed and temp.name in report.removed
    assert sorted(p.name for p in models.glob("*.evidence-pack-*.html")) == named
    assert audit.verify(settings).ok


def test_a_record_verified_without_a_pinned_key_is_never_plainly_passed(
    signed_state, tmp_path
) -> None:
    # given the signed state read by someone with no ledger key configured
    settings = _copy(signed_state, tmp_path, LEDGER_SIGNING_KEY_FILE="", LEDGER_PUBLIC_KEY="")
    # when the record is verified (the CLI, the Promotion page and the pack use this report)
    report = audit.verify(settings)
    # then it passes with a warning naming the unpinned key, and the pack's table marks it
    assert report.ok and report.verdict == "passed with warnings"
    assert "set LEDGER_PUBLIC_KEY" in report.warnings[0].detail
    table = verification_checks(report)
    assert table.set_index("check").loc["ledger signatures", "ok"] == "WARN"
