"""`python -m core runs`: the experiment's runs with their verdicts and the recommended run."""

from __future__ import annotations

import argparse
import json
import sys

from core.runs.analysis import metric_label
from core.runs.stability import ABSOLUTE, NOISE, StabilityRule
from core.settings import Settings
from core.store.runs_listing import RunsListing, list_runs

FORMATS = ("table", "json")
_NONE = "—"


def register(commands: argparse._SubParsersAction) -> None:
    """Add the runs subcommand."""
    parser = commands.add_parser(
        "runs",
        help="list the experiment's runs, their CV stability verdicts and the recommended run",
        description="List the runs of MLFLOW_EXPERIMENT_NAME best first, each with its CV "
        "stability verdict, what it lacks of what a governed run carries (model, validation "
        "set, CV folds, KS), and the champion; then the recommended run and why, by the Runs "
        "page's rule. Exit 0, or 2 with one line naming the problem.",
    )
    parser.add_argument(
        "--metric", default="val_auc", help="rank and recommend by this metric (default: val_auc)"
    )
    parser.add_argument(
        "--stability",
        choices=(NOISE, ABSOLUTE),
        default=NOISE,
        help="judge CV stability against sampling noise (default) or by absolute limits",
    )
    parser.add_argument(
        "--explain", action="store_true", help="with the table: each run's verdict in a sentence"
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    parser.set_defaults(handler=run)


def _number(value: float | None) -> str:
    """A metric with four decimals, or a dash when the run lacks it."""
    return _NONE if value is None else f"{value:.4f}"


def _rows(listing: RunsListing) -> list[dict[str, str]]:
    """One row per run, as printed."""
    primary = metric_label(listing.metric)
    rows = []
    for run in listing.runs:
        numbers = {primary: run.primary} | {k: v for k, v in run.metrics.items() if k != primary}
        rows.append(
            {"role": run.role or _NONE, "run_name": run.run_name, "status": run.status}
            | {name: _number(value) for name, value in numbers.items()}
            | {
                "stability": run.stability,
                "lacks": ", ".join(run.lacks) or _NONE,
                "run_id": run.run_id,
            }
        )
    return rows


def _aligned(rows: list[dict[str, str]]) -> list[str]:
    """The rows under their headers, text left-aligned and numbers right-aligned."""
    columns = list(rows[0])
    width = {c: max(len(c), *(len(row[c]) for row in rows)) for c in columns}
    numeric = {
        c
        for c in columns
        if c != "run_id"
        and any(row[c] != _NONE for row in rows)
        and all(row[c] == _NONE or row[c][-1].isdigit() for row in rows)
    }

    def line(cells: dict[str, str]) -> str:
        return "  ".join(
            cells[c].rjust(width[c]) if c in numeric else cells[c].ljust(width[c]) for c in columns
        ).rstrip()

    return [line({c: c for c in columns}), *(line(row) for row in rows)]


def _print_table(listing: RunsListing, explain: bool) -> None:
    """The runs table, then the recommendation, the champion and the notes."""
    print(
        f"Experiment '{listing.experiment}' at {listing.tracking_uri}: {len(listing.runs)} "
        f"run(s), best first by {metric_label(listing.metric)}; CV stability judged by "
        f"{listing.rule.describe()}."
    )
    print()
    print("\n".join(_aligned(_rows(listing))))
    if explain:
        print()
        for run in listing.runs:
            print(f"{run.run_name} ({run.run_id[:8]}): {run.stability_explanation}")
    print()
    found = listing.recommendation
    if found.run_id:
        print(f"Recommended: {found.run_name} ({found.run_id}). {found.reason}")
    else:
        print(f"No recommendation. {found.reason}")
    print(listing.champion_note or "Champion: nothing promoted yet.")
    for note in listing.notes:
        print(f"note: {note}")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """List the runs as a table or JSON; warnings go to stderr."""
    listing = list_runs(settings, args.metric, StabilityRule(method=args.stability))
    for warning in listing.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(listing.as_dict(), indent=2, ensure_ascii=False))
    elif not listing.runs:
        print(
            f"Experiment '{listing.experiment}' has no runs yet. Train some with "
            "`python -m core train --demo`."
        )
    else:
        _print_table(listing, args.explain)
    return 0
