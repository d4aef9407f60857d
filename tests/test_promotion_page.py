"""AppTest: promote from the Promotion page, see the history and verification, roll back."""

from __future__ import annotations

from core.promotion.manifest import read_manifest
from tests.apptest_helpers import exceptions, open_page, texts
from tests.promotion_fixtures import (  # noqa: F401 (fixtures)
    promo_store_fixture,
    promotion_template_fixture,
)

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
    # then the manifest names the second, the history shows both, verification passes
    assert read_manifest(manifest_path).run_id == promo_store.second
    history = at.dataframe[-1].value
    assert list(history["run_id"]) == [promo_store.second, promo_store.first]
    assert list(history["who"]) == ["alice", "alice"]
    assert "Verified" in texts(at)
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
    assert outcomes["CV stable"] == "❌ failed"
    assert outcomes["smoke test"] == "✅ passed"


def test_checklist_dry_run_shows_gates_and_writes_nothing(promo_store, app_env) -> None:
    # given the page on a promotable run
    folder = app_env(promo_store.uri)
    at = open_page(PAGE)
    at.selectbox(key="promotion_run").set_value(promo_store.first).run()
    # when the checklist is run
    at = next(b for b in at.button if b.label.startswith("Run the checklist")).click().run()
    # then all gates pass and nothing is written
    gates = next(d.value for d in at.dataframe if "gate" in d.value.columns)
    assert list(gates["outcome"]) == ["✅ passed"] * 7
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
