"""`python -m core compact-log`: past decision-log day files to Parquet, JSONL kept for audit."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from core.settings import Settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the compact-log subcommand."""
    parser = commands.add_parser(
        "compact-log",
        help="turn past decision-log day files into Parquet (monitoring reads both)",
        description="Write each JSONL day file before --before (default: today, UTC) as Parquet "
        "beside it, with the JSONL's sha256 in a .sha256 file and in the Parquet's metadata. "
        "The JSONL is kept unless --delete-jsonl, and then deleted only after the Parquet's row "
        "count is read back equal. Files with a corrupt line stay JSONL.",
    )
    parser.add_argument(
        "--before", type=dt.date.fromisoformat, help="compact days before this (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--folder", type=Path, action="append", help="a log folder (repeat; default DECISION_LOG)"
    )
    parser.add_argument("--delete-jsonl", action="store_true", help="delete verified JSONL files")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Compact each folder and print one line per file."""
    from core.decision_log.compact import compact_log

    before = args.before or dt.datetime.now(dt.UTC).date()
    for folder in args.folder or [settings.decision_log_dir]:
        done = compact_log(folder, before, args.delete_jsonl)
        for item in done.compacted:
            kept = "deleted after verifying rows" if item.deleted else "kept"
            print(
                f"{item.name}: {item.rows:,} rows, {item.jsonl_bytes / 1e6:,.1f} MB -> "
                f"{item.parquet_bytes / 1e6:,.1f} MB Parquet; JSONL sha256 {item.sha256[:12]}… "
                f"({kept})"
            )
        for line in done.left:
            print(f"left: {line}")
        print(f"{folder}: {len(done.compacted)} day file(s) compacted, {len(done.left)} left")
    return 0
