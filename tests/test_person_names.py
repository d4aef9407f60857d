"""Declared names: the 19 spellings of the security pass are one person, refused as
self-approval and as self-acknowledgement through the real approval paths; other people pass."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from core.person_names import person_key, same_person
from core.promotion import approvals, audit
from core.promotion import use_cases as promotion
from core.record.frozen import frozen_pack_path
from core.record.manifest import read_manifest
from core.serving.app import create_app
from core.serving.model_holder import ModelHolder, load_promoted
from core.serving.service_state import ServiceState
from core.settings import load_settings
from tests.helpers.promotion_fixtures import ask

REQUESTER = "Alice Analyst"
# 13 spellings the comparison accepted as another person before, then 6 plain ones.
SPELLINGS = {
    "zero-width space": "Alice\u200b Analyst",
    "zero-width joiner": "Al\u200dice Analyst",
    "soft hyphen": "Ali\u00adce Analyst",
    "byte order mark": "\ufeffAlice Analyst",
    "Cyrillic a": "\u0410lice Analyst",
    "Cyrillic e": "Alic\u0435 Analyst",
    "dotless i": "Al\u0131ce Analyst",
    "combining diaeresis": "Alice\u0308 Analyst",
    "trailing dot": "Alice Analyst.",
    "quotes": '"Alice Analyst"',
    "no-break space inside": "Alice\u00a0Analyst",
    "tab inside": "Alice\tAnalyst",
    "e-mail form": "alice.analyst@bank.example",
    "lower case": "alice analyst",
    "capitals": "ALICE ANALYST",
    "extra spaces": "Alice    Analyst",
    "leading and trailing space": "  Alice Analyst  ",
    "full-width letters": "\uff21\uff4c\uff49\uff43\uff45 Analyst",
    "mixed case and no space": "aLiCeAnAlYsT",
}
OTHER_PEOPLE = ("Alicia Analyst", "Alice Andersen", "Bob Builder", "Analyst Alice Jr")


def test_there_are_nineteen_spellings_and_all_fold_to_one_key() -> None:
    # given the security pass's spellings / then each folds to the requester's key
    assert len(SPELLINGS) == 19
    assert {person_key(s) for s in SPELLINGS.values()} == {person_key(REQUESTER)}
    # and other people keep their own keys; a blank name is nobody
    assert not any(same_person(REQUESTER, other) for other in OTHER_PEOPLE)
    assert not same_person("", " \u200b ")


def test_every_spelling_is_refused_as_self_approval_and_self_acknowledgement(
    promo_store, tmp_path, given_promoted
) -> None:
    # given two promotions, Alice's emergency rollback, then (four eyes on) Alice's request
    manifest = str(tmp_path / "deploy" / "promotion.json")
    env = {"MLFLOW_TRACKING_URI": promo_store.uri, "PROMOTION_MANIFEST": manifest}
    one = load_settings({**env, "PROMOTION_APPROVALS": "1"})
    two = load_settings({**env, "PROMOTION_APPROVALS": "2"})
    given_promoted(one, ask(promo_store.first), ask(promo_store.second, 0.5))
    back = promotion.rollback(one, by=REQUESTER, reason="approval rate collapsed")
    asked = approvals.submit(two, replace(ask(promo_store.second, 0.5), by=REQUESTER))
    assert isinstance(asked, approvals.RequestResult)
    # when Alice approves or acknowledges under each spelling / then it is refused
    for label, spelling in SPELLINGS.items():
        with pytest.raises(approvals.ApprovalError, match="cannot approve it too"):
            approvals.approve(two, asked.request_id, by=spelling, reason=label)
        with pytest.raises(approvals.ApprovalError, match="cannot acknowledge it too"):
            approvals.acknowledge(two, back.entry.seq, by=spelling, reason=label)
    assert [s.request_id for s in approvals.pending_requests(two)] == [asked.request_id]
    assert [e.seq for e in approvals.rollbacks_to_review(two)] == [back.entry.seq]
    # when other people act / then they are accepted
    approvals.acknowledge(two, back.entry.seq, by="Alicia Analyst", reason="checked")
    result = approvals.approve(two, asked.request_id, by="Bob Builder", reason="checked")
    # and the manifest names both people, marked declared
    shipped = read_manifest(two.promotion_manifest)
    assert shipped == result.manifest
    assert (shipped.requester.name, shipped.requester.identity) == (REQUESTER, "declared")
    assert (shipped.approver.name, shipped.approver.identity) == ("Bob Builder", "declared")
    assert shipped.approver.at == result.entry.event.at
    # and so do the service's /version, the history and the frozen evidence pack
    loaded = load_promoted(two.promotion_manifest, two.reason_codes_file)
    state = ServiceState(ModelHolder(loaded), None, two.scoring_max_applicants)
    version = TestClient(create_app(state)).get("/version").json()
    assert (version["requester"]["name"], version["approver"]["name"]) == (REQUESTER, "Bob Builder")
    status = audit.history(two).set_index("entry")["status"]
    assert status[asked.entry.seq] == f"approved by Bob Builder (declared) (#{result.entry.seq})"
    assert status[result.entry.seq] == f"requested by {REQUESTER} (declared)"
    export = shipped.exported_model_dir(two.promotion_manifest)
    pack = frozen_pack_path(export, shipped.evidence_pack_sha256).read_text(encoding="utf-8")
    assert "approved by" in pack and "Bob Builder (declared)" in pack
    assert f"{REQUESTER} (declared)" in pack
