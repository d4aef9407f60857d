"""/ready while the record changes: no 503 in the moment a promotion has written its ledger
entry but not yet its manifest, and a 503 naming the change when the served export is replaced
on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.record.manifest import ledger_path
from core.serving import model_holder
from core.serving.model_holder import ModelHolder, load_promoted
from tests.helpers.promotion_fixtures import ask, settings_for
from tests.helpers.serving_fixtures import SERVED_THRESHOLD, promoted_copy


def _holder(settings, **options) -> ModelHolder:
    """A holder following settings' manifest (polled by hand with check_once)."""
    loaded = load_promoted(settings.promotion_manifest, settings.reason_codes_file)
    return ModelHolder(loaded, settings.promotion_manifest, settings.reason_codes_file, **options)


def test_ready_stays_200_between_the_ledger_entry_and_the_manifest(
    promotion_template, promoted_states, tmp_path: Path, monkeypatch
) -> None:
    # given a service following the first run's promotion, and the state a promotion of the
    # second run leaves
    promoted = promoted_copy(promotion_template, promoted_states, tmp_path / "now")
    after = settings_for(promoted.store.uri, tmp_path / "after" / "deploy" / "promotion.json")
    steps = (ask(promoted.store.first, SERVED_THRESHOLD), ask(promoted.store.second, 0.3))
    promoted_states.install(promotion_template.path, after, *steps)
    holder = _holder(promoted.settings)
    deploy, next_deploy = (
        promoted.settings.promotion_manifest.parent,
        after.promotion_manifest.parent,
    )
    # when the promotion has installed its export and committed its ledger entry, not yet the
    # manifest (the moment every swap goes through)
    shutil.copytree(next_deploy / "models", deploy / "models", dirs_exist_ok=True)
    shutil.copy(
        ledger_path(after.promotion_manifest), ledger_path(promoted.settings.promotion_manifest)
    )
    holder.check_once()
    # then the old model serves and /ready stays 200
    assert holder.readiness().ready, holder.readiness().detail
    assert holder.model.identity.run_id == promoted.store.first
    # and once the manifest is committed, the new model serves, still ready
    shutil.copy(after.promotion_manifest, promoted.settings.promotion_manifest)
    holder.check_once()
    assert holder.model.identity.run_id == promoted.store.second and holder.readiness().ready
    # while a record that stays wrong past the grace is reported
    monkeypatch.setattr(model_holder, "SWAP_GRACE_SECONDS", 0.0)
    promoted.settings.promotion_manifest.write_text(
        promoted.settings.promotion_manifest.read_text().replace(
            '"threshold": 0.3', '"threshold": 0.2'
        )
    )
    holder.check_once()
    holder.check_once()
    assert not holder.readiness().ready and "cannot be trusted" in holder.readiness().detail


def test_ready_says_when_the_served_export_changes_on_disk(
    promotion_template, promoted_states, tmp_path: Path
) -> None:
    # given a service that re-hashes its export at every poll
    promoted = promoted_copy(promotion_template, promoted_states, tmp_path)
    holder = _holder(promoted.settings, export_check_seconds=0.0)
    holder.check_once()
    assert holder.readiness().ready
    # when a file of the served export is replaced on disk
    export = holder.model.identity
    folder = promoted.settings.promotion_manifest.parent / "models" / export.run_id
    target = next(p for p in sorted(folder.rglob("*")) if p.is_file())
    target.write_bytes(target.read_bytes() + b" ")
    holder.check_once()
    # then /ready says so and names the run still served from memory
    readiness = holder.readiness()
    assert not readiness.ready
    assert "changed after it was verified" in readiness.detail and export.run_id in readiness.detail
