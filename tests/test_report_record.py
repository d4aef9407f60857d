"""The evidence pack's governance record after a rollback: the promotion's author and reason,
the rollback on its own line, every ledger entry naming the run, and the entry hash printed."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from core.promotion.approvals import acknowledge
from core.promotion.requests import PromotionRequest
from core.promotion.use_cases import promote, rollback
from core.record import ledger
from core.record.manifest import ledger_path
from core.report.sections import build_pack, monotone_hint
from core.settings import load_settings
from core.store.access import load_model
from core.store.run_record import fetch_run_record
from tests.helpers.store_builders import copy_file_store


@pytest.fixture(scope="module")
def rolled_back(file_store_template, tmp_path_factory):
    """Alice promotes run B, Bob promotes run A (forced), Carol rolls back to B, Dave acks."""
    folder = tmp_path_factory.mktemp("record")
    path = copy_file_store(file_store_template.path, folder / "mlruns")
    settings = load_settings(
        {"MLFLOW_TRACKING_URI": f"file:{path}",
         "PROMOTION_MANIFEST": str(folder / "deploy" / "promotion.json")}
    )  # fmt: skip
    run_a, run_b = file_store_template.governed
    promote(settings, PromotionRequest(run_b, 0.45, "Alice Owner", "first champion, validated"))
    promote(
        settings,
        PromotionRequest(run_a, 0.45, "Bob Dev", "challenger", force=True, force_reason="test"),
    )
    back = rollback(settings, by="Carol Ops", reason="Approval rate dropped after release")
    acknowledge(settings, back.entry.seq, by="Dave Risk", reason="reviewed")
    return settings, run_b


def test_the_pack_after_a_rollback_names_the_promotions_author(rolled_back) -> None:
    settings, champion = rolled_back
    client = MlflowClient(settings.tracking_uri)
    # when the champion's pack is built after the rollback that reinstalled it
    pack = build_pack(settings, client, fetch_run_record(client, champion))
    governance = pack.governance
    # then the manifest and the first record line are Alice's promotion, not Carol's rollback
    assert governance.manifest.promoted_by == "Alice Owner"
    assert governance.manifest.reason == "first champion, validated"
    promoted, reinstalled = governance.lines
    assert (promoted.role, promoted.by) == ("promoted", "Alice Owner")
    assert (reinstalled.role, reinstalled.by) == ("reinstalled by rollback", "Carol Ops")
    # and the entry hash printed is the one that installed the run now
    chain = ledger.read_chain(ledger_path(settings.promotion_manifest)).entries
    rollback_entry = next(e for e in chain if e.kind == "rollback")
    assert governance.installed_hash == rollback_entry.hash
    # and every entry naming the run is listed: promote, rollback and its acknowledgement
    assert governance.entries["action"].tolist() == ["promote", "rollback", "acknowledge"]
    assert "Bob Dev" not in governance.entries["who"].tolist()


def test_the_champion_is_benchmarked_against_the_previous_champion(rolled_back) -> None:
    settings, champion = rolled_back
    client = MlflowClient(settings.tracking_uri)
    # when the champion's pack is built: the rollback replaced run A
    pack = build_pack(settings, client, fetch_run_record(client, champion))
    # then it is compared with run A, named the previous champion, with the rows each trained on
    benchmark = pack.benchmark
    assert benchmark is not None and benchmark.role == "previous champion"
    assert benchmark.champion_run_id != champion
    assert [o.model for o in benchmark.overlaps] == ["this run", "the previous champion"]
    assert all(o.checkable for o in benchmark.overlaps) and benchmark.verdict


def test_the_monotone_hint_names_the_models_own_features(file_store_template) -> None:
    model = load_model(file_store_template.uri, file_store_template.seed_pattern)
    hint = monotone_hint(model)
    named = hint.split("--monotone ")[1].split("`")[0].split(",")
    assert named and all(part.split(":")[0] in model.feature_names for part in named)
