"""Promotion use cases on a real file store: promote, rollback, verify, tamper, bad input, lock."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path

import pytest

from core.errors import GovernanceError, RunNotFoundError
from core.promotion import audit, checklist, requests
from core.promotion import use_cases as promotion
from core.promotion.gates import PromotionInputError
from core.record import ledger
from core.record.export import tree_sha256
from core.record.manifest import ManifestError, ledger_path, read_manifest
from core.runs.stability import StabilityRule
from core.threshold import InvalidThresholdError
from tests.helpers.promotion_fixtures import ask, settings_for


@pytest.fixture()
def settings(promo_store, tmp_path: Path):
    """Settings on the private store, manifest in the test's deploy folder."""
    return settings_for(promo_store.uri, tmp_path / "deploy" / "promotion.json")


@pytest.fixture()
def champion(promo_store, settings, given_promoted):
    """The first run promoted at 0.45 (a copy of the state, promoted once per session)."""
    given_promoted(settings, ask(promo_store.first))
    return settings


@pytest.fixture()
def two_promoted(promo_store, settings, given_promoted):
    """The first run promoted at 0.45, then the second at 0.5 (copied, as champion)."""
    given_promoted(settings, ask(promo_store.first), ask(promo_store.second, 0.5))
    return settings


def _first_manifest(settings):
    """The manifest the ledger's first entry installed."""
    return ledger.read_chain(ledger_path(settings.promotion_manifest)).entries[0].manifest


def _files(settings) -> tuple[bytes | None, bytes | None]:
    """The manifest's and the ledger's bytes (None when absent)."""
    path = settings.promotion_manifest
    lpath = ledger_path(path)
    return (
        path.read_bytes() if path.exists() else None,
        lpath.read_bytes() if lpath.exists() else None,
    )


def test_promote_writes_manifest_ledger_and_export(promo_store, settings) -> None:
    # given a store with a promotable run and nothing promoted
    # when it is promoted
    result = promotion.promote(settings, ask(promo_store.first))
    # then the manifest names the run, threshold, export and its sha256
    manifest = read_manifest(settings.promotion_manifest)
    assert manifest == result.manifest
    assert manifest.run_id == promo_store.first
    assert manifest.threshold == 0.45
    assert manifest.model_uri == f"runs:/{promo_store.first}/model"
    exported = manifest.exported_model_dir(settings.promotion_manifest)
    assert (exported / "MLmodel").is_file()
    assert tree_sha256(exported) == manifest.exported_model_sha256
    assert set(manifest.versions) == {"mlflow", "lightgbm", "python"}
    assert datetime.fromisoformat(manifest.promoted_at).utcoffset().total_seconds() == 0
    assert manifest.metrics["val_auc"] > 0.5
    assert manifest.previous_run_id is None
    assert [g.name for g in manifest.gate_results] == [
        "run finished",
        "threshold valid",
        "feature contract",
        "no protected attribute is a model input",
        "AUC vs champion",
        "CV stable",
        "model loads",
        "smoke test",
        "service smoke test",
    ]
    assert all(g.passed for g in manifest.gate_results)
    # and the ledger holds one entry the manifest points at; the registry step says why skipped
    chain = ledger.read_chain(ledger_path(settings.promotion_manifest))
    assert chain.valid and len(chain.entries) == 1
    assert manifest.ledger_entry_hash == chain.head_hash
    assert manifest.registry is None and "file store" in manifest.registry_note
    assert audit.verify(settings).ok


def test_second_promotion_records_the_previous_champion(promo_store, champion) -> None:
    settings = champion
    result = promotion.promote(settings, ask(promo_store.second, "0.5"))
    assert result.manifest.previous_run_id == promo_store.first
    assert result.manifest.previous_threshold == 0.45
    assert result.entry.seq == 2
    table = audit.history(settings)
    assert list(table["run_id"]) == [promo_store.second, promo_store.first]
    assert list(table["who"]) == ["alice (declared)", "alice (declared)"]
    assert audit.verify(settings).ok


def test_rollback_restores_previous_then_earlier(promo_store, settings, given_promoted) -> None:
    # given three promotions: first, second, first at another threshold
    given_promoted(
        settings, ask(promo_store.first), ask(promo_store.second, 0.5), ask(promo_store.first, 0.3)
    )
    # when rolled back twice
    back1 = promotion.rollback(settings, by="bob", reason="approval rate too high")
    back2 = promotion.rollback(settings, by="bob", reason="incident 42")
    # then the first rollback restores the second run, the next the first at 0.45
    assert (back1.manifest.run_id, back1.manifest.threshold) == (promo_store.second, 0.5)
    assert (back2.manifest.run_id, back2.manifest.threshold) == (promo_store.first, 0.45)
    assert back2.manifest.action == "rollback" and back2.manifest.promoted_by == "bob"
    assert back2.entry.restores_seq == 1
    assert back2.manifest.previous_run_id == promo_store.second
    assert read_manifest(settings.promotion_manifest) == back2.manifest
    # and nothing earlier remains
    with pytest.raises(requests.RollbackError, match="first promotion"):
        promotion.rollback(settings, by="bob", reason="again")
    assert audit.verify(settings).ok
    assert len(ledger.read_chain(ledger_path(settings.promotion_manifest)).entries) == 5


def test_rollback_to_a_named_run(promo_store, two_promoted) -> None:
    settings = two_promoted
    with pytest.raises(requests.RollbackError, match="already the champion"):
        promotion.rollback(settings, by="bob", reason="x", to_run_id=promo_store.second)
    with pytest.raises(requests.RollbackError, match="never promoted"):
        promotion.rollback(settings, by="bob", reason="x", to_run_id="0" * 32)
    result = promotion.rollback(settings, by="bob", reason="x", to_run_id=promo_store.first)
    assert result.manifest.run_id == promo_store.first


def test_rollback_reexports_a_tampered_model_and_checks_its_sha(two_promoted) -> None:
    # given two promotions, then the first run's exported files are changed
    settings = two_promoted
    first = _first_manifest(settings)
    folder = first.exported_model_dir(settings.promotion_manifest)
    (folder / "MLmodel").write_text("tampered")
    # when rolling back to it
    result = promotion.rollback(settings, by="bob", reason="revert")
    # then the export is restored from MLflow and matches its recorded sha256
    assert tree_sha256(folder) == first.exported_model_sha256
    assert result.manifest.gate_results[0].name == "export verified"
    assert result.manifest.gate_results[0].passed


def test_verify_detects_a_changed_export(champion) -> None:
    settings = champion
    manifest = read_manifest(settings.promotion_manifest)
    folder = manifest.exported_model_dir(settings.promotion_manifest)
    (folder / "extra.txt").write_text("not part of the model")
    report = audit.verify(settings)
    assert not report.ok
    assert any(c.name == "exported model" and not c.ok for c in report.checks)


def test_tampered_ledger_is_detected_and_blocks_promotion(promo_store, two_promoted) -> None:
    # given two promotions, then the first entry's reason is edited in the ledger
    settings = two_promoted
    path = ledger_path(settings.promotion_manifest)
    lines = path.read_text().splitlines()
    raw = json.loads(lines[0])
    raw["manifest"]["reason"] = "nobody asked"
    path.write_text("\n".join([json.dumps(raw), lines[1]]) + "\n")
    before = _files(settings)
    # when verified / then it fails naming the entry; a promotion is refused
    report = audit.verify(settings)
    assert not report.ok and "entry 1" in report.checks[0].detail
    with pytest.raises(ledger.LedgerError):
        promotion.promote(settings, ask(promo_store.first, 0.3))
    assert _files(settings) == before


def test_removed_last_entry_is_detected_by_the_manifest(two_promoted) -> None:
    # given two promotions, then the last ledger line is removed
    settings = two_promoted
    path = ledger_path(settings.promotion_manifest)
    path.write_text(path.read_text().splitlines()[0] + "\n")
    # when verified / then the manifest no longer points at the ledger head
    report = audit.verify(settings)
    assert not report.ok
    assert any(c.name == "manifest matches ledger" and not c.ok for c in report.checks)


def test_hand_edited_manifest_is_refused_then_restored_by_rollback(promo_store, champion) -> None:
    # given a promotion, then the manifest's threshold edited by hand (still valid JSON)
    settings = champion
    path = settings.promotion_manifest
    path.write_text(path.read_text().replace('"threshold": 0.45', '"threshold": 0.2'))
    # when verified or promoted over / then it is named and refused
    assert not audit.verify(settings).ok
    with pytest.raises(ManifestError, match="cannot be trusted"):
        promotion.promote(settings, ask(promo_store.second, 0.5))
    # and a rollback restores the last recorded state
    result = promotion.rollback(settings, by="ops", reason="restore edited manifest")
    assert result.manifest.threshold == 0.45
    assert audit.verify(settings).ok


def test_auc_gate_blocks_unless_forced_with_a_reason(promo_store, champion) -> None:
    # given a champion, and a tolerance that demands a strict improvement
    settings = champion
    before = _files(settings)
    # when an equal-AUC run is promoted / then the AUC gate stops it
    with pytest.raises(requests.GateFailedError, match="AUC vs champion") as info:
        promotion.promote(settings, ask(promo_store.second, 0.5, auc_tolerance=-0.01))
    assert [g.name for g in info.value.results if not g.ok] == ["AUC vs champion"]
    assert _files(settings) == before
    # and force without a reason is refused
    with pytest.raises(PromotionInputError, match="force reason"):
        promotion.promote(settings, ask(promo_store.second, 0.5, auc_tolerance=-0.01, force=True))
    # when forced with a reason / then it is promoted and both are recorded
    result = promotion.promote(
        settings,
        ask(
            promo_store.second,
            0.5,
            auc_tolerance=-0.01,
            force=True,
            force_reason="new data version, AUC not comparable",
        ),
    )
    assert result.manifest.forced
    assert result.manifest.force_reason == "new data version, AUC not comparable"
    gate = next(g for g in result.manifest.gate_results if g.name == "AUC vs champion")
    assert gate.overridden and not gate.passed


def test_unstable_cv_blocks_promotion(promo_store, settings) -> None:
    # given a run whose CV is unstable by the default rule
    gates_ = checklist.check_gates(settings, ask(promo_store.unstable))
    cv = next(g for g in gates_ if g.name == "CV stable")
    assert not cv.passed and "unstable" in cv.detail
    assert "expected from sampling noise alone" in cv.detail
    # when promoted / then it is refused and nothing is written
    with pytest.raises(requests.GateFailedError, match="CV stable"):
        promotion.promote(settings, ask(promo_store.unstable))
    assert _files(settings) == (None, None)


def test_absolute_rule_in_the_request_judges_the_small_governed_runs(promo_store, settings) -> None:
    # given a governed run of the small test book (3 folds, sound but noisy)
    run_id = promo_store.governed[0]
    absolute = StabilityRule(method="absolute")
    # when the gates are checked with the default rule and with the absolute one
    default = checklist.check_gates(settings, ask(run_id))
    fixed = checklist.check_gates(settings, ask(run_id, stability_rule=absolute))
    # then sampling noise explains its spread, while the fixed limits fail it
    assert next(g for g in default if g.name == "CV stable").passed
    assert not next(g for g in fixed if g.name == "CV stable").passed


def test_cv_gate_is_overridden_with_force_and_a_reason(promo_store, settings) -> None:
    # given the unstable run, forced without a reason / then refused, nothing written
    with pytest.raises(PromotionInputError, match="force reason"):
        promotion.promote(settings, ask(promo_store.unstable, force=True))
    assert _files(settings) == (None, None)
    # when forced with a reason
    why = "fold 0 is the 2019 vintage; accepted by the validator"
    result = promotion.promote(settings, ask(promo_store.unstable, force=True, force_reason=why))
    # then it is promoted, the gate is recorded as overridden with the reason, in the ledger
    gate = next(g for g in result.manifest.gate_results if g.name == "CV stable")
    assert gate.overridden and not gate.passed and why in gate.detail
    chain = ledger.read_chain(ledger_path(settings.promotion_manifest))
    recorded = chain.entries[-1].manifest
    assert recorded.forced and recorded.force_reason == why
    # and the history shows the override and its reason
    row = audit.history(settings).iloc[0]
    assert "overridden: CV stable" in row["gates"]
    assert f"[forced: {why}]" in row["reason"]


def test_check_gates_writes_nothing(promo_store, settings) -> None:
    results = checklist.check_gates(settings, ask(promo_store.first))
    assert all(g.ok for g in results)
    assert not settings.promotion_manifest.parent.exists()


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("unknown run", RunNotFoundError),
        ("deleted run", RunNotFoundError),
        ("run without a model", requests.GateFailedError),
        ("threshold 1.5", InvalidThresholdError),
        ("threshold abc", InvalidThresholdError),
        ("empty by", PromotionInputError),
        ("invalid JSON manifest", ManifestError),
    ],
)
def test_bad_input_leaves_manifest_and_ledger_unchanged(
    case: str, error: type[GovernanceError], promo_store, champion
) -> None:
    # given one successful promotion
    settings = champion
    if case == "invalid JSON manifest":
        settings.promotion_manifest.write_text('{"run_id": ')
    before = _files(settings)
    make_request = {
        "unknown run": lambda: ask("0" * 32),
        "deleted run": lambda: ask(promo_store.foreign["deleted"]),
        "run without a model": lambda: ask(promo_store.foreign["named_folds"]),
        "threshold 1.5": lambda: ask(promo_store.second, "1.5"),
        "threshold abc": lambda: ask(promo_store.second, "abc"),
        "empty by": lambda: requests.PromotionRequest(promo_store.second, 0.5, by="  ", reason="x"),
        "invalid JSON manifest": lambda: ask(promo_store.second, 0.5),
    }[case]
    # when the bad promotion is asked for (a bad threshold is refused as the request is made)
    with pytest.raises(error) as info:
        promotion.promote(settings, make_request())
    # then the message is clear and nothing changed
    assert info.value.message
    assert _files(settings) == before


def test_run_without_a_model_names_the_missing_model(promo_store, settings) -> None:
    with pytest.raises(requests.GateFailedError, match="logged no model"):
        promotion.promote(settings, ask(promo_store.foreign["named_folds"]))


def test_unwritable_manifest_path_is_refused(promo_store, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings = settings_for(promo_store.uri, blocker / "promotion.json")
    with pytest.raises(GovernanceError, match="deploy folder"):
        promotion.promote(settings, ask(promo_store.first))
    assert blocker.read_text() == "x"


def test_concurrent_promotions_wait_for_each_other(promo_store, settings) -> None:
    # given the promotion lock held, and two promotions started meanwhile
    from core.record.atomic_io import exclusive_lock

    waiting = [threading.Event(), threading.Event()]
    errors: list[BaseException] = []

    def run(index: int, run_id: str, threshold: float) -> None:
        try:
            promotion.promote(settings, ask(run_id, threshold), on_lock_wait=waiting[index].set)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(0, promo_store.first, 0.45)),
        threading.Thread(target=run, args=(1, promo_store.second, 0.5)),
    ]
    with exclusive_lock(settings.promotion_manifest):
        for thread in threads:
            thread.start()
        # when they find the lock taken / then both wait and nothing is written yet
        assert all(event.wait(timeout=60) for event in waiting)
        assert not settings.promotion_manifest.exists()
    for thread in threads:
        thread.join(timeout=120)
    # then both entries are in the ledger, the chain is valid and the manifest is the last
    assert errors == []
    chain = ledger.read_chain(ledger_path(settings.promotion_manifest))
    assert chain.valid and len(chain.entries) == 2
    assert {e.manifest.run_id for e in chain.entries} == {promo_store.first, promo_store.second}
    manifest = read_manifest(settings.promotion_manifest)
    assert manifest.ledger_entry_hash == chain.head_hash
    assert chain.entries[1].manifest.previous_run_id == chain.entries[0].manifest.run_id
    assert audit.verify(settings).ok


def test_rollback_to_a_run_deleted_since_is_refused(promo_store, two_promoted) -> None:
    # given two promotions, then the first run deleted in MLflow
    from mlflow.tracking import MlflowClient

    settings = two_promoted
    MlflowClient(promo_store.uri).delete_run(promo_store.first)
    before = _files(settings)
    # when rolling back to it / then it is refused with the reason and nothing changes
    with pytest.raises(RunNotFoundError, match="deleted"):
        promotion.rollback(settings, by="bob", reason="revert")
    assert _files(settings) == before


def test_a_promotion_reads_the_run_once(promo_store, settings, monkeypatch) -> None:
    # given a store and a deploy folder, and a count of run reads through the store layer
    from core.store import access, run_record

    calls: list[str] = []
    real_get_run = access.get_run

    def counting_get_run(client, run_id):
        calls.append(run_id)
        return real_get_run(client, run_id)

    monkeypatch.setattr(access, "get_run", counting_get_run)
    monkeypatch.setattr(run_record, "get_run", counting_get_run)
    # when a run is promoted
    promotion.promote(settings, ask(promo_store.first))
    # then the run was fetched once, as one run record
    assert calls == [promo_store.first]
