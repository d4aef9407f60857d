"""Crash consistency and concurrent writers, with real processes.

A crash is a real `python -m core promote` subprocess that kills itself with SIGKILL at a named
point of its writes (PROMOTION_CRASH_AT); concurrency is N such processes promoting at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.promotion import audit
from core.promotion import use_cases as promotion
from core.record import crash_points, ledger
from core.record.atomic_io import exclusive_lock, lock_path
from core.record.frozen import frozen_pack_path
from core.record.manifest import ledger_path, read_manifest
from core.record.repair import installed_manifest, repair
from tests.helpers.promotion_fixtures import ask, settings_for

ROOT = Path(__file__).resolve().parent.parent
WRITERS = 4


def _env(settings, **extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess on these settings."""
    env = {key: value for key, value in os.environ.items() if key != crash_points.CRASH_ENV}
    env.update(
        MLFLOW_TRACKING_URI=settings.tracking_uri,
        PROMOTION_MANIFEST=str(settings.promotion_manifest),
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def _cli(settings, *args: str, **extra: str) -> subprocess.Popen:
    """Start `python -m core promote ARGS` as a real process."""
    return subprocess.Popen(
        [sys.executable, "-m", "core", "promote", *args],
        cwd=ROOT,
        env=_env(settings, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _promote_args(run_id: str, threshold: float, by: str = "alice") -> list[str]:
    """CLI arguments promoting run_id at threshold."""
    return ["--run-id", run_id, "--threshold", str(threshold), "--by", by, "--reason", "test"]


def _chain(settings) -> ledger.ChainReport:
    """The ledger as read back."""
    return ledger.read_chain(ledger_path(settings.promotion_manifest))


def _consistent(settings) -> None:
    """The ledger verifies and the manifest is exactly the last installed entry."""
    chain = _chain(settings)
    assert chain.valid, chain.problems
    assert read_manifest(settings.promotion_manifest) == installed_manifest(chain.installed)
    assert audit.verify(settings).ok


@pytest.fixture()
def crashed(promo_store, tmp_path: Path, given_promoted, request: pytest.FixtureRequest):
    """A champion promoted in-process (once per session, copied), then a second promotion
    SIGKILLed at request.param."""
    settings = settings_for(promo_store.uri, tmp_path / "deploy" / "promotion.json")
    given_promoted(settings, ask(promo_store.first))
    before = _chain(settings)
    process = _cli(
        settings,
        *_promote_args(promo_store.second, 0.5),
        **{crash_points.CRASH_ENV: request.param},
    )
    _, err = process.communicate(timeout=300)
    assert process.returncode == -signal.SIGKILL, err
    return settings, before, promo_store


@pytest.mark.parametrize(
    "crashed",
    [crash_points.EXPORT_INSTALLED, crash_points.FILES_STAGED],
    indirect=True,
)
def test_a_crash_before_the_ledger_commit_leaves_the_old_state(crashed) -> None:
    # given a promotion killed before its ledger entry was committed
    settings, before, _ = crashed
    # then the ledger and manifest still describe the first promotion
    assert _chain(settings).entries == before.entries
    _consistent(settings)
    folder = settings.promotion_manifest.parent
    leftovers = [p.name for p in [*folder.glob(".*.tmp"), *folder.glob(".export-*")]]
    named = {
        frozen_pack_path(e.manifest.exported_model_dir(settings.promotion_manifest), sha).name
        for e in before.installs
        if (sha := e.manifest.evidence_pack_sha256)
    }
    packs = {p.name for p in (folder / "models").glob("*.evidence-pack-*.html")}
    orphans = [f"models/{name}" for name in packs - named]
    # when the service starts (repair) / then only the staging leftovers and the killed
    # promotion's pack (no entry names it) are removed
    report = repair(settings)
    assert not report.repaired and report.problem is None
    assert sorted(report.removed) == sorted(leftovers + orphans)
    assert {p.name for p in (folder / "models").glob("*.evidence-pack-*.html")} == named
    assert not list(settings.promotion_manifest.parent.glob(".*.tmp"))
    assert not list(settings.promotion_manifest.parent.glob(".export-*"))
    assert _chain(settings).entries == before.entries


@pytest.mark.parametrize("crashed", [crash_points.LEDGER_COMMITTED], indirect=True)
def test_a_crash_between_ledger_and_manifest_is_repaired_at_service_start(crashed) -> None:
    # given a promotion killed after its ledger entry, before its manifest
    settings, before, store = crashed
    chain = _chain(settings)
    assert len(chain.entries) == len(before.entries) + 1
    assert read_manifest(settings.promotion_manifest).run_id == store.first
    assert not audit.verify(settings).ok
    # when the service starts and repairs
    report = repair(settings)
    # then the manifest is rebuilt from the ledger head, with a ledger note saying so
    assert report.repaired and "still at entry 1" in report.detail
    assert read_manifest(settings.promotion_manifest).run_id == store.second
    note = _chain(settings).head
    assert note.event.kind == "repair" and note.event.target_seq == 2 and note.manifest is None
    _consistent(settings)
    assert not repair(settings).repaired


@pytest.mark.parametrize("crashed", [crash_points.LEDGER_COMMITTED], indirect=True)
def test_a_crash_is_repaired_by_the_next_rollback_and_during_repair(crashed) -> None:
    # given a promotion killed after its ledger entry, then a repair killed after its note
    settings, _, store = crashed
    process = _cli(settings, "--repair", **{crash_points.CRASH_ENV: crash_points.REPAIR_NOTED})
    process.communicate(timeout=300)
    assert process.returncode == -signal.SIGKILL
    assert _chain(settings).head.event.kind == "repair"
    # when someone rolls back (the next write)
    result = promotion.rollback(settings, by="bob", reason="incident")
    # then the interrupted repair was finished first (a second note), then the rollback applied
    kinds = [e.kind for e in _chain(settings).entries]
    assert kinds == ["promote", "promote", "repair", "repair", "rollback"]
    assert result.manifest.run_id == store.first
    _consistent(settings)


@pytest.mark.parametrize("crashed", [crash_points.MANIFEST_COMMITTED], indirect=True)
def test_a_crash_after_the_manifest_needs_no_repair(crashed) -> None:
    settings, _, store = crashed
    _consistent(settings)
    assert read_manifest(settings.promotion_manifest).run_id == store.second
    assert not repair(settings).repaired


def _holders(lock: Path, pids: list[int]) -> set[int]:
    """The processes among pids that have the lock file open."""
    holding = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if Path(os.readlink(fd)) == lock:
                    holding.add(pid)
                    break
            except OSError:
                continue
    return holding


def test_concurrent_writers_each_win_one_ledger_position(promo_store, tmp_path: Path) -> None:
    # given N real processes promoting at different thresholds, all queued on the lock
    settings = settings_for(promo_store.uri, tmp_path / "deploy" / "promotion.json")
    thresholds = [0.3 + 0.05 * i for i in range(WRITERS)]
    lock = lock_path(settings.promotion_manifest).resolve()
    seen: list[bytes] = []
    stop = threading.Event()

    def watch() -> None:
        """Read the manifest over and over while the writers run."""
        while not stop.is_set():
            with contextlib.suppress(FileNotFoundError):
                seen.append(settings.promotion_manifest.read_bytes())
            time.sleep(0.005)

    with exclusive_lock(settings.promotion_manifest):
        processes = [_cli(settings, *_promote_args(promo_store.first, t)) for t in thresholds]
        deadline = time.monotonic() + 240
        while _holders(lock, [p.pid for p in processes]) != {p.pid for p in processes}:
            assert time.monotonic() < deadline, "the writers never reached the lock"
            assert all(p.poll() is None for p in processes), "a writer exited early"
            time.sleep(0.1)
    # when the lock is released they race for it, while a reader watches the manifest
    reader = threading.Thread(target=watch)
    reader.start()
    outputs = [p.communicate(timeout=300) for p in processes]
    stop.set()
    reader.join()
    # then every writer succeeded and each holds exactly one ledger position
    assert [p.returncode for p in processes] == [0] * WRITERS, outputs
    chain = _chain(settings)
    assert chain.valid, chain.problems
    assert [e.seq for e in chain.entries] == list(range(1, WRITERS + 1))
    assert sorted(e.manifest.threshold for e in chain.entries) == thresholds
    # and each writer saw its predecessor's state under the lock
    for earlier, later in zip(chain.entries, chain.entries[1:], strict=False):
        assert later.manifest.previous_threshold == earlier.manifest.threshold
    # and no reader ever saw a torn manifest: every read parses and names a ledger entry
    hashes = {e.hash for e in chain.entries}
    assert seen
    assert all(json.loads(raw)["ledger_entry_hash"] in hashes for raw in seen)
    _consistent(settings)
