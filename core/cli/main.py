"""The `python -m core` command line: one subcommand per use case, on the same core functions."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from mlflow.exceptions import MlflowException

from core.cli import attach as cli_attach
from core.cli import bundle as cli_bundle
from core.cli import compact_log as cli_compact_log
from core.cli import monitor as cli_monitor
from core.cli import promote as cli_promote
from core.cli import report as cli_report
from core.cli import runs as cli_runs
from core.cli import score_batch as cli_score_batch
from core.cli import serve as cli_serve
from core.cli import train as cli_train
from core.errors import GovernanceError
from core.settings import load_settings
from core.store.client import access_denied

SUBCOMMANDS = (
    cli_train,
    cli_runs,
    cli_promote,
    cli_attach,
    cli_monitor,
    cli_compact_log,
    cli_serve,
    cli_score_batch,
    cli_report,
    cli_bundle,
)


def _prog() -> str:
    """The name the user typed: the console script's (credit-gov), else `python -m core`."""
    name = Path(sys.argv[0]).name
    return "python -m core" if name in ("__main__.py", "-m", "-c", "") else name


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog=_prog(),
        description="Govern LightGBM credit-risk models tracked in MLflow.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the subcommand, and turn user errors into one line and exit 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return int(args.handler(args, settings) or 0)
    except GovernanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MlflowException as exc:
        # A tracking server's 401/403 anywhere in a command is one line saying what to set.
        denied = access_denied(exc, load_settings().tracking_uri)
        if denied is None:
            raise
        print(f"error: {denied}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
