"""`python -m core report`: the validation evidence pack of a run (HTML, optionally PDF)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.promotion import audit
from core.report.use_cases import write_pack
from core.settings import Settings
from core.threshold import parse_threshold


def register(commands: argparse._SubParsersAction) -> None:
    """Add the report subcommand."""
    parser = commands.add_parser(
        "report",
        help="write a run's validation evidence pack (self-contained HTML, optionally PDF)",
        description="Write the evidence pack a model validator signs off: purpose and use, "
        "data, conceptual soundness, outcomes, benchmarking against the champion, monitoring, "
        "limitations, governance record and reproducibility. The HTML opens offline; --pdf "
        "prints it with headless Chromium (CHROMIUM_PATH, else found on PATH).",
    )
    parser.add_argument("--run-id", required=True, help="the run to report on")
    parser.add_argument(
        "--out", type=Path, default=None, help="HTML file (default: pack-<run_id>.html)"
    )
    parser.add_argument("--pdf", type=Path, help="also print the pack to this PDF file")
    parser.add_argument(
        "--threshold",
        type=float,
        help="threshold for the policy section (default: the run's promotion, else "
        "DECISION_THRESHOLD)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Write the pack and print where it went."""
    out = args.out or Path(f"pack-{args.run_id}.html")
    threshold = parse_threshold(args.threshold) if args.threshold is not None else None
    verification = audit.verify_or_none(settings)
    written = write_pack(settings, args.run_id, out, args.pdf, threshold, verification)
    print(f"Evidence pack written to {written.html_path} (sha256 {written.sha256}).")
    if written.pdf_path is not None:
        print(f"PDF printed to {written.pdf_path}.")
    return 0
