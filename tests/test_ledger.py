"""The hash-chained ledger: a valid chain verifies, an edited or removed entry is detected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.record import ledger
from core.record.atomic_io import commit_file
from core.record.manifest import GateResult, PromotionManifest


def _manifest(run_id: str, threshold: float = 0.45) -> PromotionManifest:
    """A minimal valid manifest."""
    return PromotionManifest(
        run_id=run_id,
        experiment_id="1",
        experiment_name="credit_risk_experiment",
        tracking_uri="file:./mlruns",
        model_uri=f"runs:/{run_id}/model",
        exported_model_path=f"models/{run_id}",
        exported_model_sha256="a" * 64,
        threshold=threshold,
        promoted_by="alice",
        promoted_at="2026-01-01T00:00:00+00:00",
        reason="test",
        gate_results=[GateResult(name="run finished", passed=True)],
    )


def _write_chain(path: Path, run_ids: list[str]) -> list[ledger.LedgerEntry]:
    """Append one entry per run id through the real staging + commit path."""
    entries: list[ledger.LedgerEntry] = []
    for run_id in run_ids:
        entry = ledger.new_entry(entries[-1] if entries else None, _manifest(run_id))
        commit_file(ledger.stage_append(path, entry), path)
        entries.append(entry)
    return entries


def test_entries_chain_to_their_predecessor(tmp_path: Path) -> None:
    # given three appended entries
    path = tmp_path / "promotion.ledger.jsonl"
    written = _write_chain(path, ["r1", "r2", "r3"])
    # when the ledger is read back
    report = ledger.read_chain(path)
    # then it verifies, in order, each entry pointing at the previous hash
    assert report.valid, report.problems
    assert [e.seq for e in report.entries] == [1, 2, 3]
    assert report.entries[0].prev_hash == ledger.GENESIS_HASH
    assert report.entries[2].prev_hash == written[1].hash
    assert report.head_hash == written[2].hash


def test_appending_keeps_earlier_bytes(tmp_path: Path) -> None:
    # given a ledger with two entries
    path = tmp_path / "l.jsonl"
    _write_chain(path, ["r1", "r2"])
    before = path.read_bytes()
    # when a third is appended
    head = ledger.read_chain(path).entries[-1]
    commit_file(ledger.stage_append(path, ledger.new_entry(head, _manifest("r3"))), path)
    # then the old content is an unchanged prefix
    assert path.read_bytes().startswith(before)


def test_an_edited_entry_is_detected(tmp_path: Path) -> None:
    # given a valid ledger whose second entry's threshold is edited by hand
    path = tmp_path / "l.jsonl"
    _write_chain(path, ["r1", "r2", "r3"])
    lines = path.read_text().splitlines()
    raw = json.loads(lines[1])
    raw["manifest"]["threshold"] = 0.9
    lines[1] = json.dumps(raw)
    path.write_text("\n".join(lines) + "\n")
    # when it is verified
    report = ledger.read_chain(path)
    # then the edited entry is named
    assert not report.valid
    assert any("entry 2" in p and "edited" in p for p in report.problems)


def test_a_removed_entry_is_detected(tmp_path: Path) -> None:
    # given a valid ledger whose middle entry is deleted
    path = tmp_path / "l.jsonl"
    _write_chain(path, ["r1", "r2", "r3"])
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    # when it is verified / then the break in the chain is reported
    report = ledger.read_chain(path)
    assert not report.valid
    assert any("does not follow" in p for p in report.problems)


def test_a_garbled_line_is_detected_and_blocks_appending(tmp_path: Path) -> None:
    # given a ledger with a line that is not JSON
    path = tmp_path / "l.jsonl"
    _write_chain(path, ["r1"])
    path.write_text(path.read_text() + "{not json\n")
    # when / then verification names the line and appending is refused
    assert any("line 2" in p for p in ledger.read_chain(path).problems)
    with pytest.raises(ledger.LedgerError, match="fails verification"):
        ledger.require_intact(path)


def test_missing_ledger_is_an_empty_valid_chain(tmp_path: Path) -> None:
    report = ledger.read_chain(tmp_path / "none.jsonl")
    assert report.valid and report.entries == () and report.head_hash == ledger.GENESIS_HASH


def test_ledgers_written_before_events_still_verify_and_extend(tmp_path: Path) -> None:
    # given a ledger in the format used before event entries existed (no "event" key)
    path = tmp_path / "promotion.ledger.jsonl"
    first = ledger.new_entry(None, _manifest("r1"))
    legacy = first.model_dump(mode="json")
    del legacy["event"]
    path.write_text(json.dumps(legacy) + "\n")
    # when it is read, then a request event and a promotion are appended
    report = ledger.read_chain(path)
    assert report.valid, report.problems
    event = ledger.LedgerEvent(kind="reject", by="bob", at="2026-01-02T00:00:00+00:00")
    note = ledger.new_entry(report.head, None, None, event)
    commit_file(ledger.stage_append(path, note), path)
    third = ledger.new_entry(note, _manifest("r2"))
    commit_file(ledger.stage_append(path, third), path)
    # then the old line is kept byte for byte and the chain verifies across formats
    chain = ledger.read_chain(path)
    assert chain.valid, chain.problems
    assert path.read_text().splitlines()[0] == json.dumps(legacy)
    assert [e.kind for e in chain.entries] == ["promote", "reject", "promote"]
    assert [e.seq for e in chain.installs] == [1, 3]
    # and an edited event is detected
    lines = path.read_text().splitlines()
    raw = json.loads(lines[1])
    raw["event"]["by"] = "mallory"
    path.write_text("\n".join([lines[0], json.dumps(raw), lines[2]]) + "\n")
    assert "entry 2" in ledger.read_chain(path).problems[0]
