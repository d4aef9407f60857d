"""AppTest: promote from the Promotion page, see the history and verification, roll back."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from core.record.manifest import read_manifest
from tests.helpers.apptest_helpers import APP, TIMEOUT_SECONDS, exceptions, open_page, texts

PAGE = "pages/promotion.py"


def _promote(at, run_id: str, threshold: float, by: str, reason: str):
    """Fill the promotion form and press Promote."""
    at.selectbox(key="promotion_run").set_value(run_id).run()
    at.number_input(key="promotion_threshold").set_value(threshold)
    at.text_input(key="promotion_by").input(by)
    at.text_area(key="promotion_reason").input(reason)
    return next(b for b in at.button if b.label == "Promote").click().run()


def test_promote_then_roll_back_from_the_page(promo_store, app_env) -> None:
    # given the page open on a store with nothing promoted
    folder = app_env(promo_store.uri)
    manifest_path = folder / "deploy" / "promotion.json"
    at = open_page(PAGE)
    assert exceptions(at) == []
    assert "Nothing promoted yet" in texts(at)
    # when two runs are promoted from the page
    at = _promote(at, promo_store.first, 0.45, "alice", "best stable run")
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    assert "Promoted" in texts(at)
    at = _promote(at, promo_store.second, 0.5, "alice", "newer data")
    # then the manifest names the second, the history shows both, verification passes but,
    # with no ledger key configured, says the ledger is unsigned instead of "Verified"
    assert read_manifest(manifest_path).run_id == promo_store.second
    history = at.dataframe[-1].value
    assert list(history["run_id"]) == [promo_store.second, promo_store.first]
    assert list(history["who"]) == ["alice (declared)", "alice (declared)"]
    assert "Intact, with warnings" in texts(at) and "UNSIGNED" in texts(at)
    assert "Verified" not in texts(at)
    # and times read as people write them, the banner in good grammar, reasons in full
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", w) for w in history["when"])
    assert "· promoted by alice (declared) on " in texts(at)
    assert "newer data" in texts(at) and "best stable run" in texts(at)
    # when rolled back to the first entry
    at.selectbox(key="rollback_target").set_value(1)
    at.text_input(key="rollback_by").input("bob")
    at.text_area(key="rollback_reason").input("approval rate too low")
    at = next(b for b in at.button if b.label == "Roll back").click().run()
    # then the manifest is back on the first run and the ledger records the rollback
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    manifest = read_manifest(manifest_path)
    assert (manifest.run_id, manifest.threshold, manifest.action) == (
        promo_store.first,
        0.45,
        "rollback",
    )
    assert "Rolled back" in texts(at)
    assert at.dataframe[-1].value["action"].iloc[0] == "rollback (to #1)"
    # and the form is cleared: nothing precedes #1, so "Roll back to" has no default; the
    # one choice left, #2, is labelled a roll forward and needs an explicit choice
    assert at.selectbox(key="rollback_target").value is None
    assert at.text_area(key="rollback_reason").value == ""
    assert at.text_input(key="rollback_by").value == ""
    assert "roll forward" in at.selectbox(key="rollback_target").options[0]


def test_page_shows_failed_gates_and_writes_nothing(promo_store, app_env) -> None:
    # given a run whose CV is unstable
    folder = app_env(promo_store.uri)
    at = open_page(PAGE)
    # when it is promoted from the page
    at = _promote(at, promo_store.unstable, 0.45, "alice", "try")
    # then the page names the failed gate and nothing is written
    assert exceptions(at) == []
    assert any("CV stable" in e.value for e in at.error)
    assert not (folder / "deploy" / "promotion.json").exists()
    # and the gate table shows every gate with its outcome
    gates = next(d.value for d in at.dataframe if "gate" in d.value.columns)
    outcomes = dict(zip(gates["gate"], gates["outcome"], strict=True))
    assert outcomes["CV stable"] == "FAILED"
    assert outcomes["smoke test"] == "passed"


def test_run_without_cv_is_promoted_only_with_a_written_force_reason(promo_store, app_env) -> None:
    # given a seed-pattern run that logged no CV
    folder = app_env(promo_store.uri)
    manifest_path = folder / "deploy" / "promotion.json"
    at = open_page(PAGE)
    # when it is promoted without forcing / then its CV gate fails and nothing is written
    at = _promote(at, promo_store.no_cv, 0.45, "alice", "vendor model")
    assert any("no CV logged" in e.value for e in at.error)
    assert not manifest_path.exists()
    # when the override is ticked and its reason written in the page's reason box
    at.checkbox(key="promotion_force").check()
    at.text_input(key="promotion_force_reason").input("validated out of time by the vendor")
    at = next(b for b in at.button if b.label == "Promote").click().run()
    # then it is promoted, and the manifest records the override and its reason
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    manifest = read_manifest(manifest_path)
    assert manifest.run_id == promo_store.no_cv and manifest.forced
    assert manifest.force_reason == "validated out of time by the vendor"
    cv_gate = next(g for g in manifest.gate_results if g.name == "CV stable")
    assert cv_gate.overridden and "no CV logged" in cv_gate.detail


def test_checklist_dry_run_shows_gates_and_writes_nothing(promo_store, app_env) -> None:
    # given the page on a promotable run
    folder = app_env(promo_store.uri)
    at = open_page(PAGE)
    at.selectbox(key="promotion_run").set_value(promo_store.first).run()
    # when the checklist is run
    at = next(b for b in at.button if b.label.startswith("Run the checklist")).click().run()
    # then all gates pass and nothing is written
    gates = next(d.value for d in at.dataframe if "gate" in d.value.columns)
    assert list(gates["outcome"]) == ["passed"] * 9
    assert not (folder / "deploy").exists()


def test_page_says_who_is_missing(promo_store, app_env) -> None:
    folder = app_env(promo_store.uri)
    at = open_page(PAGE)
    at = _promote(at, promo_store.first, 0.45, "", "no name")
    assert any("Who promotes is empty" in e.value for e in at.error)
    assert not (folder / "deploy" / "promotion.json").exists()


def test_page_reports_a_hand_edited_manifest(promo_store, app_env) -> None:
    # given a manifest edited into invalid JSON
    folder = app_env(promo_store.uri)
    (folder / "deploy").mkdir()
    (folder / "deploy" / "promotion.json").write_text("{broken")
    # when the page opens / then it says the manifest is invalid, without exception
    at = open_page(PAGE)
    assert exceptions(at) == []
    assert any("is invalid" in e.value for e in at.error)


def _decide(at, request_id: str, by: str | None, button: str):
    """Fill a pending request's card and press Approve or Reject."""
    if by is not None:
        at.text_input(key=f"decide_by_{request_id}").input(by)
    at.text_input(key=f"decide_reason_{request_id}").input("checked the evidence")
    form = f"request_form_{request_id}"
    return next(b for b in at.button if b.label == button and form in b.id).click().run()


def test_request_then_approve_by_another_declared_name(promo_store, app_env) -> None:
    # given the four-eyes rule on and no sign-in configured
    folder = app_env(promo_store.uri, PROMOTION_APPROVALS="2")
    manifest_path = folder / "deploy" / "promotion.json"
    at = open_page(PAGE)
    assert "declared" in texts(at)
    # when alice requests a promotion
    at.selectbox(key="promotion_run").set_value(promo_store.first).run()
    at.text_input(key="promotion_by").input("alice")
    at.text_area(key="promotion_reason").input("best stable run")
    at = next(b for b in at.button if b.label == "Request promotion").click().run()
    # then a pending request is shown and nothing ships
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    assert "Requested R1" in texts(at) and "R1 · " in texts(at)
    assert not manifest_path.exists()
    # when she approves it herself under another spelling / then it is refused
    at = _decide(at, "R1", " ALICE ", "Approve")
    assert any("cannot approve it too" in e.value for e in at.error)
    assert not manifest_path.exists()
    # when bob approves it / then it ships and the history names both, marked declared
    at = _decide(at, "R1", "bob", "Approve")
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    assert read_manifest(manifest_path).run_id == promo_store.first
    history = at.dataframe[-1].value
    assert list(history["action"]) == ["approve R1", "request R1"]
    assert list(history["who"]) == ["bob (declared)", "alice (declared)"]


def test_signed_in_identity_replaces_the_name_box(promo_store, app_env) -> None:
    # given the four-eyes rule on and Streamlit auth configured
    folder = app_env(promo_store.uri, PROMOTION_APPROVALS="2")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS)
    at.user = {"is_logged_in": False}
    at = at.run().switch_page(PAGE).run()
    # (signed out: a login button and no form at all)
    assert [b.label for b in at.button] == ["Log in"]
    at.user = {"is_logged_in": True, "email": "alice@bank.example", "name": "Alice"}
    at = at.run()
    # when alice signs in / then no name box is offered; her request carries her signed-in name
    assert not [t for t in at.text_input if t.key == "promotion_by"]
    at.selectbox(key="promotion_run").set_value(promo_store.first).run()
    at.text_area(key="promotion_reason").input("best stable run")
    at = next(b for b in at.button if b.label == "Request promotion").click().run()
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    assert "You requested this" in texts(at)
    assert "Approve" not in [b.label for b in at.button]
    # when bob signs in and approves / then it ships, with both names marked signed in
    at.user = {"is_logged_in": True, "email": "bob@bank.example", "name": "Bob"}
    at = _decide(at.run(), "R1", None, "Approve")
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    manifest = read_manifest(folder / "deploy" / "promotion.json")
    assert (manifest.promoted_by, manifest.approver.name) == ("Alice", "Bob")
    assert list(at.dataframe[-1].value["who"]) == [
        "Bob (signed in as bob@bank.example)",
        "Alice (signed in as alice@bank.example)",
    ]


def test_forcing_past_the_cv_gate_from_the_page_is_recorded(promo_store, app_env) -> None:
    # given the page and a run whose CV is unstable
    folder = app_env(promo_store.uri)
    at = open_page(PAGE)
    # when it is promoted with force and a reason
    at.selectbox(key="promotion_run").set_value(promo_store.unstable).run()
    at.number_input(key="promotion_threshold").set_value(0.45)
    at.text_input(key="promotion_by").input("alice")
    at.text_area(key="promotion_reason").input("accept the vintage effect")
    at.checkbox(key="promotion_force").check()
    at.text_input(key="promotion_force_reason").input("known vintage effect, signed off")
    at = next(b for b in at.button if b.label == "Promote").click().run()
    # then it is promoted, and the history says which gate was overridden and why
    assert exceptions(at) == [] and [e.value for e in at.error] == []
    assert read_manifest(folder / "deploy" / "promotion.json").run_id == promo_store.unstable
    history = at.dataframe[-1].value
    assert "overridden: CV stable" in history["gates"].iloc[0]
    assert "[forced: known vintage effect, signed off]" in history["reason"].iloc[0]
