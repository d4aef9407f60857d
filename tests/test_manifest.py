"""The manifest schema, reading it, and writing it atomically (a kill mid-write changes nothing)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.record import atomic_io
from core.record.manifest import (
    ManifestError,
    PromotionManifest,
    ledger_path,
    read_manifest,
)
from tests.test_ledger import _manifest

ROOT = Path(__file__).resolve().parent.parent


def test_manifest_round_trips_through_json(tmp_path: Path) -> None:
    # given a manifest written as JSON bytes
    manifest = _manifest("r1")
    path = tmp_path / "promotion.json"
    atomic_io.write_atomic(path, manifest.to_json_bytes())
    # when it is read back / then it is equal and carries a schema version
    assert read_manifest(path) == manifest
    assert '"schema_version": 1' in path.read_text()


@pytest.mark.parametrize(
    "change", [{"threshold": 1.5}, {"threshold": 0.0}, {"unexpected": "x"}, {"run_id": None}]
)
def test_schema_refuses_invalid_fields(change: dict) -> None:
    # given a valid manifest's fields with one made invalid / then validation fails
    data = _manifest("r1").model_dump() | change
    with pytest.raises(ValidationError):
        PromotionManifest.model_validate(data)


def test_missing_manifest_reads_as_none(tmp_path: Path) -> None:
    assert read_manifest(tmp_path / "promotion.json") is None


def test_hand_edited_invalid_json_is_a_clear_error(tmp_path: Path) -> None:
    # given a manifest edited into invalid JSON
    path = tmp_path / "promotion.json"
    path.write_text('{"run_id": "r1",')
    # when it is read / then the error names the file and says how to restore it
    with pytest.raises(ManifestError, match=r"promotion\.json") as info:
        read_manifest(path)
    assert "--rollback" in (info.value.fix or "")


def test_ledger_and_exports_sit_beside_the_manifest(tmp_path: Path) -> None:
    path = tmp_path / "deploy" / "promotion.json"
    assert ledger_path(path) == tmp_path / "deploy" / "promotion.ledger.jsonl"
    assert _manifest("r1").exported_model_dir(path) == tmp_path / "deploy" / "models" / "r1"


def test_failed_rename_leaves_the_old_manifest_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a manifest in place
    path = tmp_path / "promotion.json"
    atomic_io.write_atomic(path, _manifest("old").to_json_bytes())
    before = path.read_bytes()

    # when the rename of a new version fails
    def broken_replace(src: object, dst: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic_io.os, "replace", broken_replace)
    with pytest.raises(atomic_io.DeployPathError):
        atomic_io.write_atomic(path, _manifest("new").to_json_bytes())
    # then the old manifest is intact and no temporary file is left
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["promotion.json"]


_KILLED_WRITER = """
import sys, time
from pathlib import Path
from core.record import atomic_io
staged = atomic_io.stage_file(Path(sys.argv[1]), sys.argv[2].encode())
print("staged", flush=True)
time.sleep(120)
atomic_io.commit_file(staged, Path(sys.argv[1]))
"""


def test_kill_between_temp_write_and_rename_leaves_old_manifest(tmp_path: Path) -> None:
    # given a manifest in place
    path = tmp_path / "promotion.json"
    atomic_io.write_atomic(path, _manifest("old").to_json_bytes())
    before = path.read_bytes()
    # when a writer process is killed after writing its temp file, before the rename
    writer = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path), "{half"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "staged"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    # then readers still see the old, valid manifest
    assert path.read_bytes() == before
    assert read_manifest(path).run_id == "old"
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_lock_makes_a_second_holder_wait(tmp_path: Path) -> None:
    # given the lock held by one holder
    path = tmp_path / "promotion.json"
    waited = threading.Event()
    order: list[str] = []

    def second() -> None:
        with atomic_io.exclusive_lock(path, on_wait=waited.set):
            order.append("second")

    with atomic_io.exclusive_lock(path):
        thread = threading.Thread(target=second)
        thread.start()
        # when the second asks for it / then it waits until the first lets go
        assert waited.wait(timeout=30)
        order.append("first")
    thread.join(timeout=30)
    assert order == ["first", "second"]


def test_lock_gives_up_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "promotion.json"
    with (
        atomic_io.exclusive_lock(path),
        pytest.raises(atomic_io.PromotionLockedError),
        atomic_io.exclusive_lock(path, timeout=0.2),
    ):
        pass


def test_unwritable_deploy_folder_is_a_clear_error(tmp_path: Path) -> None:
    # given a manifest path below a regular file (no folder can be made there)
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    # when / then
    with pytest.raises(atomic_io.DeployPathError, match="Cannot create the deploy folder"):
        atomic_io.ensure_writable_dir(blocker / "deploy")
