"""What the Monitoring page reads of a decision log besides the report: the files' key, sizes
in words and the engine chosen with its reason."""

from __future__ import annotations

from pathlib import Path

from core.monitoring.log_summary import choose_engine, log_files, size_text


def test_log_files_key_changes_when_a_day_file_grows(tmp_path: Path) -> None:
    folder = tmp_path / "log"
    folder.mkdir()
    day = folder / "decisions-2026-03-01.jsonl"
    day.write_text("{}\n")
    first = log_files(folder)
    day.write_text("{}\n{}\n")
    assert log_files(folder).key != first.key
    assert size_text(first.size) == "3 bytes" and size_text(2_800 * 2**20) == "2.7 GB"


def test_engine_choice_is_the_clis_with_its_reason(tmp_path: Path) -> None:
    folder = tmp_path / "log"
    folder.mkdir()
    (folder / "decisions-2026-03-01.jsonl").write_text("{}\n")
    files = log_files(folder)
    small = choose_engine("auto", files, with_outcomes=False)
    assert (small.engine, small.reason) == (
        "pandas",
        "3 bytes of day files, below the 256 MB at which auto picks DuckDB",
    )
    assert choose_engine("auto", files, with_outcomes=True).engine == "pandas"
    forced = choose_engine("duckdb", files, with_outcomes=True)
    assert (forced.engine, forced.outcomes_refused) == ("duckdb", True)
    assert choose_engine("pandas", files, with_outcomes=False).reason.startswith(
        "MONITORING_ENGINE=pandas"
    )


def test_the_spark_setting_is_counted_by_duckdb_on_the_page_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "log"
    folder.mkdir()
    (folder / "decisions-2026-03-01.jsonl").write_text("{}\n")
    choice = choose_engine("spark", log_files(folder), with_outcomes=True)
    assert (choice.engine, choice.outcomes_refused) == ("duckdb", True)
    assert choice.reason.startswith("MONITORING_ENGINE=spark: the page counts with DuckDB")
