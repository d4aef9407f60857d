"""The decision log at scale: several folders and per-writer day files read together, and day
files compacted to Parquet (JSONL kept with its sha256, or deleted after verified counts)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pytest

from core.cli.main import main
from core.decision_log.compact import compact_log
from core.decision_log.contract import decision_record, record_line
from core.decision_log.reader import read_decision_log

DAY = dt.date(2026, 1, 1)


def _write(path: Path, day: dt.date, count: int, start: int, corrupt: bool = False) -> None:
    """count decisions of one day (ids from start), optionally with a truncated line."""
    lines = []
    for i in range(start, start + count):
        record = decision_record(
            time=f"{day.isoformat()}T{i % 24:02d}:00:00.000000+00:00",
            request_id=f"r{i}",
            run_id="run-a" if day.day < 3 else "run-b",
            threshold=0.45,
            applicant_id=f"A{i}",
            probability=(i % 97) / 100,
            decision="decline" if (i % 97) / 100 >= 0.45 else "approve",
            features={"income": float(i), "home": ["rent", "own", "boat"][i % 3]},
        )
        lines.append(record_line(record))
    if corrupt:
        lines.insert(1, '{"time": "2026-01-0\n')
    path.write_text("".join(lines), encoding="utf-8")


@pytest.fixture()
def two_workers(tmp_path: Path) -> list[Path]:
    """Two service workers' folders: one-writer and per-writer day files, one corrupt line."""
    first, second = tmp_path / "w1", tmp_path / "w2"
    first.mkdir(), second.mkdir()
    _write(first / "decisions-2026-01-01.jsonl", DAY, 40, 0)
    _write(first / "decisions-2026-01-02.w1.jsonl", DAY + dt.timedelta(1), 30, 100)
    _write(second / "decisions-2026-01-02.w2.jsonl", DAY + dt.timedelta(1), 20, 200)
    _write(second / "decisions-2026-01-03.w2.jsonl", DAY + dt.timedelta(2), 10, 300, corrupt=True)
    return [first, second]


def _read(folders: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """Decisions sorted by request, their features, the notes."""
    recent = read_decision_log(folders)
    order = recent.decisions["request_id"].argsort(kind="stable").to_numpy()
    decisions = recent.decisions.iloc[order].reset_index(drop=True)
    features = recent.features.iloc[order].reset_index(drop=True)
    return decisions, features, recent.notes


def test_several_folders_and_per_writer_files_are_all_read(two_workers: list[Path]) -> None:
    # given two workers' folders with per-writer file names / when read together
    decisions, _, notes = _read(two_workers)
    # then every well-formed line of every file is there, and the corrupt one is counted
    assert len(decisions) == 40 + 30 + 20 + 10
    assert decisions["request_id"].nunique() == 100
    assert any("Skipped 1 corrupt" in note for note in notes)


def test_compacted_days_read_the_same_and_keep_their_jsonl(two_workers: list[Path]) -> None:
    # given the log as read from JSONL
    before = _read(two_workers)
    # when every past day is compacted (the JSONL kept)
    done = [compact_log(folder, DAY + dt.timedelta(5)) for folder in two_workers]
    # then the well-formed files have a Parquet copy and a sha256, the corrupt one stays JSONL,
    # and the log reads the same rows
    assert sorted(c.name for d in done for c in d.compacted) == [
        "decisions-2026-01-01.jsonl",
        "decisions-2026-01-02.w1.jsonl",
        "decisions-2026-01-02.w2.jsonl",
    ]
    assert any("2026-01-03.w2" in line for d in done for line in d.left)
    jsonl = two_workers[0] / "decisions-2026-01-01.jsonl"
    digest = hashlib.sha256(jsonl.read_bytes()).hexdigest()
    assert (two_workers[0] / "decisions-2026-01-01.jsonl.sha256").read_text().startswith(digest)
    after = _read(two_workers)
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])


def test_delete_jsonl_after_counts_and_a_grown_jsonl_wins(two_workers: list[Path]) -> None:
    # given a compacted log whose JSONL files are deleted after verification
    before = _read(two_workers)
    compact_log(two_workers[0], DAY + dt.timedelta(5), delete_jsonl=True)
    assert not (two_workers[0] / "decisions-2026-01-01.jsonl").exists()
    pd.testing.assert_frame_equal(before[0], _read(two_workers)[0])
    # when a kept JSONL grows after its compaction (a late writer)
    compact_log(two_workers[1], DAY + dt.timedelta(5))
    grown = two_workers[1] / "decisions-2026-01-02.w2.jsonl"
    with grown.open("a", encoding="utf-8") as handle:
        _write(two_workers[1] / "extra.txt", DAY + dt.timedelta(1), 5, 400)
        handle.write((two_workers[1] / "extra.txt").read_text())
    # then the reader reads the JSONL, not the stale Parquet
    assert len(_read(two_workers)[0]) == len(before[0]) + 5


def test_the_compact_log_command_prints_each_file(two_workers: list[Path], capsys) -> None:
    # given a folder / when the command compacts it before 2026-01-02
    code = main(["compact-log", "--folder", str(two_workers[0]), "--before", "2026-01-02"])
    # then only the first day is compacted, and said so
    out = capsys.readouterr().out
    assert code == 0 and "decisions-2026-01-01.jsonl: 40 rows" in out and "1 day file(s)" in out
    assert not (two_workers[0] / "decisions-2026-01-02.w1.parquet").exists()
