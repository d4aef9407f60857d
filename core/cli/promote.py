"""`python -m core promote`: promote a run, roll back, show the manifest, the history, verify."""

from __future__ import annotations

import argparse
import sys

from core.errors import GovernanceError
from core.promotion import audit, gates, requests
from core.promotion import use_cases as promotion
from core.settings import Settings

_MODES = (
    ("--rollback", "restore the previous promotion (or --to RUN_ID) as a new ledger entry"),
    ("--show", "print the manifest in force"),
    ("--history", "print the ledger, newest first"),
    ("--verify", "check the ledger chain, the manifest, the export and the registry"),
)
_TEXT_OPTIONS = (
    ("--threshold", "decision threshold in (0, 1) (default: DECISION_THRESHOLD)"),
    ("--by", "who promotes or rolls back (recorded in the ledger)"),
    ("--reason", "why (recorded; with --force it is also the reason for forcing)"),
    ("--to", "with --rollback: the run id to restore (default: the previous champion)"),
)
_FORCE_HELP = "promote although val_auc is below the champion's by more than the tolerance"


def register(commands: argparse._SubParsersAction) -> None:
    """Add the promote subcommand."""
    parser = commands.add_parser(
        "promote",
        help="promote a run to production, roll back, or audit the promotion record",
        description="Pass the promotion gates, export the model, append to the ledger and "
        "write the promotion manifest (PROMOTION_MANIFEST). Exit 0 on success, 2 with one "
        "line naming the problem otherwise (1 when --verify finds a problem).",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--run-id", help="promote this run")
    for flag, text in _MODES:
        mode.add_argument(flag, action="store_true", help=text)
    for flag, text in _TEXT_OPTIONS:
        parser.add_argument(
            flag, default=None if flag in ("--threshold", "--to") else "", help=text
        )
    parser.add_argument("--force", action="store_true", help=_FORCE_HELP)
    parser.add_argument(
        "--auc-tolerance",
        type=float,
        default=None,
        help="allowed val_auc drop against the champion "
        "(default: PROMOTION_AUC_TOLERANCE, else 0.005)",
    )
    parser.set_defaults(handler=run)


def _print_result(result: requests.PromotionResult) -> None:
    """Summarise a promotion or rollback."""
    m = result.manifest
    print(
        f"{m.action}: run {m.run_id} ({m.run_name}) threshold {m.threshold} by {m.promoted_by} "
        f"at {m.promoted_at}; ledger entry {result.entry.seq} {result.entry.hash[:12]}"
    )
    for gate in m.gate_results:
        mark = "pass" if gate.passed else ("OVERRIDDEN" if gate.overridden else "FAIL")
        print(f"  [{mark}] {gate.name}: {gate.detail}")
    print(f"  export: {m.exported_model_path} sha256 {m.exported_model_sha256}")
    if result.registry_message:
        print(f"  {result.registry_message}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _show(settings: Settings) -> int:
    """Print the manifest in force."""
    manifest = audit.show(settings)
    if manifest is None:
        print(f"Nothing promoted yet ({settings.promotion_manifest} does not exist).")
        return 0
    print(manifest.model_dump_json(indent=2))
    return 0


def _history(settings: Settings) -> int:
    """Print the ledger as a table."""
    table = audit.history(settings)
    if table.empty:
        print("The ledger is empty: nothing promoted yet.")
        return 0
    print(table.drop(columns=["val_auc"]).to_string(index=False))
    return 0


def _verify(settings: Settings) -> int:
    """Print each verification check; exit 1 when one fails."""
    report = audit.verify(settings)
    for check in report.checks:
        print(f"[{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    if report.ok:
        return 0
    failed = next(c for c in report.checks if not c.ok)
    print(f"error: verification failed: {failed.name}: {failed.detail}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch the promote subcommand's modes."""
    if args.show:
        return _show(settings)
    if args.history:
        return _history(settings)
    if args.verify:
        return _verify(settings)
    if args.rollback:
        if args.threshold is not None or args.force:
            raise gates.PromotionInputError(
                "--threshold and --force go with --run-id; a rollback restores the recorded "
                "threshold.",
                fix="Roll back first, then promote the run again with a new threshold.",
            )
        result = promotion.rollback(settings, by=args.by, reason=args.reason, to_run_id=args.to)
    else:
        if args.to:
            raise gates.PromotionInputError("--to only goes with --rollback.")
        request = requests.PromotionRequest(
            run_id=args.run_id,
            threshold=args.threshold if args.threshold is not None else settings.decision_threshold,
            by=args.by,
            reason=args.reason,
            force=args.force,
            force_reason=args.reason if args.force else "",
            auc_tolerance=(
                args.auc_tolerance
                if args.auc_tolerance is not None
                else settings.promotion_auc_tolerance
            ),
        )
        try:
            result = promotion.promote(settings, request)
        except requests.GateFailedError as exc:
            for gate in exc.results:
                print(f"  [{'pass' if gate.ok else 'FAIL'}] {gate.name}: {gate.detail}")
            raise GovernanceError(exc.message, fix=exc.fix) from exc
    _print_result(result)
    return 0
