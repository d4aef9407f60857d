"""The reference profile frozen at promotion: written beside the export, hashed into the ledger."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from core.cli.main import main
from core.monitoring.profiles import load_profiles
from core.promotion import approvals, audit, requests
from core.promotion import use_cases as promotion
from core.record import ledger
from core.record.frozen import profile_path
from core.record.manifest import ledger_path
from core.runs.stability import StabilityRule
from core.store.client import open_client
from tests.helpers.apptest_helpers import exceptions, open_page, texts
from tests.helpers.decision_log_writer import write_scored_log
from tests.helpers.promotion_fixtures import settings_for


def _ask(run_id: str, threshold: float = 0.45) -> requests.PromotionRequest:
    """A request by alice with loose gates (the tests are about profiles, not the gates)."""
    return requests.PromotionRequest(
        run_id=run_id, threshold=threshold, by="alice", reason="monitoring test", force=True,
        force_reason="test", stability_rule=StabilityRule(max_std=0.1, max_worst_fold_drop=0.2),
    )  # fmt: skip


def _promote(settings, run_id: str) -> promotion.PromotionResult:
    """Promote a run at 0.45."""
    return promotion.promote(settings, _ask(run_id))


def _run_monitor_job(settings, store_uri: str, run_id: str, folder: Path, monkeypatch) -> int:
    """The monitor job's exit code on a 300-row decision log scored by run_id."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store_uri)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(settings.promotion_manifest))
    write_scored_log(folder / "decisions", store_uri, run_id, n_rows=300)
    return main(["monitor"])


def _monitors_with_the_frozen_profile(
    settings, run_id: str, folder: Path, monkeypatch, capsys
) -> str:
    """Monitoring loads run_id's frozen profile (threshold 0.45) without a note and the monitor
    job reads a log against it; returns what the job wrote to stderr."""
    found = load_profiles(settings, open_client(settings.tracking_uri), [run_id])
    assert found.notes == () and found.profiles[run_id].threshold == 0.45
    code = _run_monitor_job(settings, settings.tracking_uri, run_id, folder, monkeypatch)
    assert code in (0, 3)
    return capsys.readouterr().err


def test_promotion_freezes_the_profile_and_monitoring_uses_it(
    promo_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    # given a governed run promoted (it logged a validation set) and a seed-pattern run (none)
    settings = settings_for(promo_store.uri, tmp_path / "deploy" / "promotion.json")
    run_id = promo_store.governed[1]
    result = _promote(settings, run_id)
    # then the profile sits beside the export, and its sha256 is in the manifest and ledger
    manifest = result.manifest
    path = profile_path(manifest.exported_model_dir(settings.promotion_manifest))
    profile = json.loads(path.read_bytes())
    assert profile["run_id"] == run_id and profile["threshold"] == 0.45
    assert manifest.reference_profile_sha256 and len(manifest.reference_profile_sha256) == 64
    entry = ledger.read_chain(ledger_path(settings.promotion_manifest)).entries[-1]
    assert entry.manifest.reference_profile_sha256 == manifest.reference_profile_sha256
    assert audit.verify(settings).ok
    # when monitoring loads profiles, the frozen one is used without a note, and the monitor
    # job reads the log against it
    err = _monitors_with_the_frozen_profile(
        settings, run_id, tmp_path / "deploy", monkeypatch, capsys
    )
    assert "built now" not in err
    # when someone edits the frozen profile
    path.write_bytes(path.read_bytes().replace(b'"threshold": 0.45', b'"threshold": 0.5'))
    # then verify fails on it and monitoring rebuilds the profile from the run, saying why
    checks = {c.name: c for c in audit.verify(settings).checks}
    assert not checks["reference profile"].ok
    found = load_profiles(settings, open_client(settings.tracking_uri), [run_id])
    assert "does not match the sha256 in the ledger" in found.notes[0]
    assert found.profiles[run_id].threshold == 0.45


def test_run_without_validation_set_is_promoted_without_a_profile(
    promo_store, tmp_path: Path
) -> None:
    settings = settings_for(promo_store.uri, tmp_path / "deploy" / "promotion.json")
    # (the seed-pattern run "no_cv" logged no validation set; the promoted ones now have one)
    result = _promote(settings, promo_store.no_cv)
    assert result.manifest.reference_profile_sha256 is None
    found = load_profiles(settings, open_client(settings.tracking_uri), [promo_store.no_cv])
    assert found.profiles == {} and "No reference profile" in found.notes[0]


def test_a_pending_four_eyes_request_in_the_ledger_does_not_break_monitoring(
    promo_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    # given a promoted run, and then a four-eyes request (a ledger entry with no manifest)
    settings = settings_for(promo_store.uri, tmp_path / "deploy" / "promotion.json")
    run_id = promo_store.governed[1]
    _promote(settings, run_id)
    four_eyes = replace(settings, promotion_approvals=2)
    approvals.request_promotion(four_eyes, _ask(promo_store.governed[0], threshold=0.5))
    assert ledger.read_chain(ledger_path(settings.promotion_manifest)).entries[-1].manifest is None
    # when monitoring loads the profiles, then the promoted run's frozen profile is used, and
    # the monitor job runs on the log
    err = _monitors_with_the_frozen_profile(
        settings, run_id, tmp_path / "deploy", monkeypatch, capsys
    )
    assert "Traceback" not in err


def test_monitoring_page_after_approval_rollback_and_acknowledgements(
    promo_store, app_env, tmp_path: Path
) -> None:
    # given four-eyes promotions: R1 approved, R3 approved, then rolled back by carol and
    # the rollback acknowledged by dave (the ledger ends on an entry with no manifest)
    deploy = app_env(promo_store.uri, DECISION_LOG=str(tmp_path / "log")) / "deploy"
    settings = replace(settings_for(promo_store.uri, deploy / "promotion.json"),
                       promotion_approvals=2)  # fmt: skip
    first, second = promo_store.governed[1], promo_store.governed[0]
    for run_id, threshold in ((first, 0.45), (second, 0.5)):
        asked = approvals.request_promotion(settings, _ask(run_id, threshold))
        approvals.approve(settings, asked.request_id, by="bob", reason="checked")
    back = promotion.rollback(settings, by="carol", reason="approval rate fell")
    approvals.acknowledge(settings, back.entry.seq, by="dave", reason="seen")
    kinds = [e.kind for e in ledger.read_chain(ledger_path(settings.promotion_manifest)).entries]
    assert kinds[-2:] == ["rollback", "acknowledge"]
    write_scored_log(tmp_path / "log", promo_store.uri, first, n_rows=300)
    # when Monitoring opens
    at = open_page("pages/monitoring.py")
    # then it reads the decision log against the restored run's frozen profile
    assert exceptions(at) == []
    assert at.radio(key="monitoring_source").value == "Decision log"
    shown = texts(at)
    assert f"The promoted run is `{first[:8]}` at threshold 0.45" in shown
    assert "No reference profile" not in shown and "built now" not in shown
    # when the user scores a file with the promoted run instead
    at.radio(key="monitoring_source").set_value("Upload a file").run()
    # then the page names the restored champion, its threshold, and that carol restored it
    (promoted,) = [s.value for s in at.success if "Monitoring the promoted run" in s.value]
    assert f"(`{first}`) at threshold **0.45**, restored by a rollback by carol" in promoted
    assert exceptions(at) == []
