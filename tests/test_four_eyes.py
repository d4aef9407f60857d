"""Maker-checker promotion on a real file store: request, approve, reject, expiry, review."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from core.promotion import approvals, audit, audit_export, requests
from core.promotion import use_cases as promotion
from core.record import ledger
from core.record.manifest import ledger_path, read_manifest
from core.runs.stability import StabilityRule
from core.settings import load_settings
from tests.helpers.promotion_fixtures import ask


def _settings(promo_store, tmp_path: Path, approvals_needed: int = 2, **extra: str):
    """Settings on the private store with the manifest in the test's deploy folder."""
    env = {
        "MLFLOW_TRACKING_URI": promo_store.uri,
        "PROMOTION_MANIFEST": str(tmp_path / "deploy" / "promotion.json"),
        "PROMOTION_APPROVALS": str(approvals_needed),
        **extra,
    }
    return load_settings(env)


def _ask(run_id: str, by: str = "Alice", threshold: float = 0.45) -> requests.PromotionRequest:
    """A promotion request."""
    return requests.PromotionRequest(
        run_id=run_id, threshold=threshold, by=by, reason="quarterly refresh"
    )


def _chain(settings) -> ledger.ChainReport:
    """The ledger as read back."""
    return ledger.read_chain(ledger_path(settings.promotion_manifest))


def test_requester_cannot_approve_but_another_person_can(promo_store, tmp_path) -> None:
    # given the four-eyes rule on
    settings = _settings(promo_store, tmp_path)
    # when alice promotes / then that is refused: it must be requested
    with pytest.raises(promotion.ApprovalRequiredError):
        promotion.promote(settings, _ask(promo_store.first))
    # when alice requests it / then a pending request is recorded and nothing ships
    lenient = StabilityRule(max_std=0.05, max_worst_fold_drop=0.1)
    asked = approvals.submit(settings, replace(_ask(promo_store.first), stability_rule=lenient))
    assert isinstance(asked, approvals.RequestResult) and asked.request_id == "R1"
    assert StabilityRule(**asked.record.stability_rule) == lenient
    assert "smoke test" in [g.name for g in asked.record.gate_results]
    assert read_manifest(settings.promotion_manifest) is None
    assert [s.request_id for s in approvals.pending_requests(settings)] == ["R1"]
    # when alice (any case or spacing) approves her own request / then it is refused
    for name in ("alice", "  ALICE\t", "Ａlice", "ａｌｉｃｅ"):  # full-width look-alikes too
        with pytest.raises(approvals.ApprovalError, match="cannot approve it too") as refused:
            approvals.approve(settings, "R1", by=name, reason="looks fine")
        # and the refusal says the two spellings name one person
        assert f"'{name.strip()}' and 'Alice' name one person" in refused.value.message
    with pytest.raises(approvals.ApprovalError) as refused:
        approvals.approve(settings, "R1", by="Alice", reason="looks fine")
    assert refused.value.message == "Alice requested R1 and cannot approve it too."
    assert read_manifest(settings.promotion_manifest) is None
    # when bob approves / then the gates re-run and the manifest ships the requested run
    result = approvals.approve(settings, "r1", by="Bob", reason="checked the evidence")
    manifest = read_manifest(settings.promotion_manifest)
    assert manifest == result.manifest and manifest.run_id == promo_store.first
    assert (manifest.promoted_by, manifest.threshold) == ("Alice", 0.45)
    assert result.entry.event.kind == "approve" and result.entry.event.by == "Bob"
    assert "smoke test" in [g.name for g in manifest.gate_results]
    # and the request is closed, the history says who did what, everything verifies
    assert approvals.pending_requests(settings) == []
    with pytest.raises(approvals.ApprovalError, match="already approved"):
        approvals.approve(settings, "R1", by="carol", reason="again")
    table = audit.history(settings)
    assert list(table["action"]) == ["approve R1", "request R1"]
    assert list(table["who"]) == ["Bob (declared)", "Alice (declared)"]
    assert table["status"].iloc[1] == "approved by Bob (declared) (#2)"
    assert table["status"].iloc[0] == "requested by Alice (declared)"
    assert audit.verify(settings).ok


def test_a_rejected_request_never_touches_the_manifest(
    promo_store, tmp_path, given_promoted
) -> None:
    # given a champion promoted by one person, then the four-eyes rule switched on
    single = _settings(promo_store, tmp_path, approvals_needed=1)
    given_promoted(single, ask(promo_store.first))
    settings = _settings(promo_store, tmp_path)
    manifest_bytes = settings.promotion_manifest.read_bytes()
    asked = approvals.request_promotion(settings, _ask(promo_store.second, threshold=0.5))
    # when bob rejects it
    entry = approvals.reject(settings, asked.request_id, by="bob", reason="threshold too loose")
    # then the manifest's bytes are unchanged, the second run was never exported
    assert settings.promotion_manifest.read_bytes() == manifest_bytes
    assert not (settings.promotion_manifest.parent / "models" / promo_store.second).exists()
    assert entry.event.kind == "reject" and entry.manifest is None
    # and it can no longer be approved; the history records the rejection
    with pytest.raises(approvals.ApprovalError, match="already rejected"):
        approvals.approve(settings, asked.request_id, by="carol", reason="overrule")
    assert settings.promotion_manifest.read_bytes() == manifest_bytes
    assert audit.history(settings)["status"].iloc[1] == "rejected by bob (declared) (#3)"
    assert audit.verify(settings).ok


def test_an_expired_request_cannot_be_approved(promo_store, tmp_path) -> None:
    # given requests that expire almost at once (about 4 ms)
    settings = _settings(promo_store, tmp_path, PROMOTION_REQUEST_HOURS="0.000001")
    asked = approvals.request_promotion(settings, _ask(promo_store.first))
    # when bob approves it after the gates ran / then it is refused as expired
    with pytest.raises(approvals.ApprovalError, match="expired"):
        approvals.approve(settings, asked.request_id, by="bob", reason="late")
    assert read_manifest(settings.promotion_manifest) is None
    assert approvals.pending_requests(settings) == []
    assert audit.history(settings)["status"].iloc[0] == "expired"


def test_emergency_rollback_needs_review_by_a_second_person(
    promo_store, tmp_path, given_promoted
) -> None:
    # given two promotions, then bob rolls back alone
    settings = _settings(promo_store, tmp_path, approvals_needed=1)
    given_promoted(settings, ask(promo_store.first), ask(promo_store.second, 0.5))
    back = promotion.rollback(settings, by="bob", reason="approval rate collapsed")
    # then the rollback is in force and flagged for review
    assert read_manifest(settings.promotion_manifest).run_id == promo_store.first
    assert audit.history(settings)["status"].iloc[0] == audit.NEEDS_REVIEW
    assert [e.seq for e in approvals.rollbacks_to_review(settings)] == [back.entry.seq]
    # when bob acknowledges his own rollback / then it is refused
    with pytest.raises(approvals.ApprovalError, match="cannot acknowledge it too"):
        approvals.acknowledge(settings, back.entry.seq, by=" BOB", reason="fine")
    with pytest.raises(approvals.ApprovalError, match="cannot acknowledge it too") as refused:
        approvals.acknowledge(settings, back.entry.seq, by="ＢＯＢ", reason="fine")
    assert "'ＢＯＢ' and 'bob' name one person" in refused.value.message
    with pytest.raises(approvals.ApprovalError, match="not a rollback"):
        approvals.acknowledge(settings, 1, by="carol")
    # when carol acknowledges it / then the flag clears and the manifest is untouched
    manifest_bytes = settings.promotion_manifest.read_bytes()
    ack = approvals.acknowledge(settings, back.entry.seq, by="carol", reason="incident 42")
    assert settings.promotion_manifest.read_bytes() == manifest_bytes
    status = audit.history(settings).set_index("entry")["status"]
    assert status[back.entry.seq] == f"acknowledged by carol (declared) (#{ack.seq})"
    assert approvals.rollbacks_to_review(settings) == []
    with pytest.raises(approvals.ApprovalError, match="already acknowledged"):
        approvals.acknowledge(settings, back.entry.seq, by="dave")
    # and the auditor export carries every entry with full hashes and the verification
    exported = json.loads(audit_export.export_history(settings, "json"))
    assert exported["verification"]["ok"] is True
    assert [e["entry"] for e in exported["entries"]] == [1, 2, 3, 4]
    assert exported["entries"][3]["hash"] == _chain(settings).head_hash
    csv_text = audit_export.export_history(settings, "csv")
    header, *rows = csv_text.strip().splitlines()
    assert "verified" in header and len(rows) == 4
