"""`python -m core attach-validation`: give a run logged by other code a labelled validation set."""

from __future__ import annotations

import argparse

from core.settings import Settings
from core.training.attach import attach_validation_file


def register(commands: argparse._SubParsersAction) -> None:
    """Add the attach-validation subcommand."""
    parser = commands.add_parser(
        "attach-validation",
        help="score a labelled file with a run's model and log it as the run's validation set",
        description="Score a labelled CSV or Parquet file with the run's model and log it as "
        "the validation set governed runs carry (ROC/KS, what-if pickers, monitoring "
        "reference and approval rate then work for the run). Logs val_auc / val_ks when the "
        "run lacks them and tags the run with the file's name and sha256.",
    )
    parser.add_argument("--run-id", required=True, help="the run to attach to")
    parser.add_argument("--data", required=True, help="labelled CSV or Parquet file")
    parser.add_argument("--target", required=True, help="the 0/1 label column (1 = bad)")
    parser.add_argument("--id-column", help="applicant identifier column, kept as row_id")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="replace a validation set the run already has (recorded in a run tag)",
    )
    parser.add_argument(
        "--training-data",
        help="the run's training rows (CSV or Parquet, same label column), when at hand: logs "
        "each numeric feature's training range and a fingerprint per row, so monitoring judges "
        "out-of-range values against training and evaluations can find training rows",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Attach the file and print one line saying what was logged."""
    result = attach_validation_file(
        settings.tracking_uri,
        args.run_id,
        args.data,
        args.target,
        id_column=args.id_column,
        replace=args.replace,
        training_path=args.training_data,
    )
    print(result.summary())
    for warning in result.warnings():
        print(f"warning: {warning}")
    return 0
