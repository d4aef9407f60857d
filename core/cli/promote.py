"""`python -m core promote`: promote (or request) a run, approve, reject, roll back, audit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from core.errors import GovernanceError
from core.identity.actor import Actor
from core.promotion import approvals, audit, audit_export, gates, requests
from core.promotion import use_cases as promotion
from core.promotion.signers import actor_from_id_token
from core.record.manifest import GateResult
from core.record.repair import repair
from core.record.signing import DEFAULT_KEY_FILE, create_key_file
from core.scoring.calibrator import scale_label
from core.serving.version_check import compare_with_service
from core.settings import Settings
from core.store.runs_listing import recommended_run

_MODES = (
    ("--rollback", "emergency: restore the previous promotion (or --to RUN_ID); flagged "
     "'needs review' until a second person acknowledges it"),
    ("--show", "print the manifest in force"),
    ("--history", "print the ledger, newest first (--format csv|json for auditors)"),
    ("--verify", "check the ledger chain, the manifest, the export, the registry and, when "
     "SCORING_URL is set, the running scoring service's /version"),
    ("--repair", "rebuild the manifest from the ledger after an interrupted write"),
)  # fmt: skip
_ID_MODES = (
    ("--approve", "REQUEST_ID", "approve a pending request (PROMOTION_APPROVALS=2)"),
    ("--reject", "REQUEST_ID", "reject a pending request"),
    ("--acknowledge", "ENTRY", "acknowledge an emergency rollback (ledger entry number)"),
)
_TEXT_OPTIONS = (
    ("--threshold", "decision threshold in (0, 1) (default: DECISION_THRESHOLD)"),
    (
        "--by",
        "who acts (recorded in the ledger as a declared name; only where no sign-in is set up)",
    ),
    (
        "--id-token-file",
        "who acts, signed in: a file holding an ID token from the [auth] "
        "provider (verified against its keys, issuer, audience and expiry)",
    ),
    ("--reason", "why (recorded; with --force it is also the reason for forcing)"),
    ("--to", "with --rollback: the run id to restore (default: the previous champion)"),
)
_FORCE_HELP = (
    "promote although the AUC-vs-champion, CV-stability or protected-inputs gate fails or is "
    "inconclusive (--reason says why; both are recorded in the ledger)"
)


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
    mode.add_argument(
        "--run-id", help="promote this run (with PROMOTION_APPROVALS=2: request its promotion)"
    )
    mode.add_argument(
        "--recommended",
        action="store_true",
        help="promote the run `runs` recommends (the Runs page's rule: the stable run with the "
        "highest val_auc), like --run-id",
    )
    for flag, metavar, text in _ID_MODES:
        mode.add_argument(flag, metavar=metavar, help=text)
    for flag, text in _MODES:
        mode.add_argument(flag, action="store_true", help=text)
    for flag, text in _TEXT_OPTIONS:
        parser.add_argument(
            flag,
            default=None if flag in ("--threshold", "--to", "--id-token-file") else "",
            help=text,
        )
    mode.add_argument(
        "--init-keys",
        metavar="KEY_FILE",
        nargs="?",
        const=str(DEFAULT_KEY_FILE),
        help="create an Ed25519 ledger signing key (default "
        f"{DEFAULT_KEY_FILE}; never inside the deploy folder) and print the settings to use",
    )
    parser.add_argument("--force", action="store_true", help=_FORCE_HELP)
    parser.add_argument(
        "--if-none",
        action="store_true",
        help="with --run-id or --recommended: do nothing when a run is already promoted",
    )
    parser.add_argument(
        "--auc-tolerance",
        type=float,
        default=None,
        help="allowed val_auc drop against the champion "
        "(default: PROMOTION_AUC_TOLERANCE, else 0.005)",
    )
    parser.add_argument(
        "--schema-change",
        metavar="REASON",
        default="",
        help="an intended change of the slot's feature contract (added, removed or retyped "
        "features, new category levels): the contract gate passes with this written reason, "
        "recorded in the manifest and the ledger",
    )
    parser.add_argument(
        "--slot",
        default="",
        help="the model slot the deploy folder serves (default: the run's experiment); a run "
        "of another slot is refused by the contract gate",
    )
    parser.add_argument(
        "--format",
        choices=("table", *audit_export.EXPORT_FORMATS),
        default="table",
        help="with --history: table (default), or csv / json with the verification result",
    )
    parser.set_defaults(handler=run)


def _print_result(result: requests.PromotionResult) -> None:
    """Summarise a promotion or rollback."""
    m = result.manifest
    print(
        f"{m.action}: run {m.run_id} ({m.run_name}) threshold {m.threshold} on the "
        f"{scale_label(m.score_scale)} scale by {m.promoted_by} "
        f"at {m.promoted_at}; ledger entry {result.entry.seq} {result.entry.hash[:12]}"
    )
    _print_gate_lines(m.gate_results)
    if m.feature_contract is not None:
        print(f"  slot {m.served_slot}: feature contract {m.feature_contract.describe()}")
    if m.schema_change_reason:
        print(f"  schema change: {m.schema_change_reason}")
    print(f"  export: {m.exported_model_path} sha256 {m.exported_model_sha256}")
    if m.evidence_pack_sha256:
        print(f"  evidence pack: sha256 {m.evidence_pack_sha256} (in the ledger entry)")
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


def _history(settings: Settings, fmt: str) -> int:
    """Print the ledger as a table, or export it as CSV / JSON with the verification result."""
    if fmt != "table":
        sys.stdout.write(audit_export.export_history(settings, fmt))
        return 0
    table = audit.history(settings)
    if table.empty:
        print("The ledger is empty: nothing promoted yet.")
        return 0
    shown = table.drop(columns=["val_auc"]).astype(object)
    shown = shown.where(shown.notna() & (shown != ""), "—")
    print(shown.to_string(index=False))
    return 0


def _verify(settings: Settings) -> int:
    """Print each verification check; exit 1 when one fails."""
    report = audit.verify(settings)
    checks = [(c.name, c.ok, c.detail) for c in report.checks]
    if settings.scoring_url:
        service = compare_with_service(
            audit.show(settings), settings.scoring_url, settings.scoring_api_token
        )
        checks.append(("scoring service", service.in_step, service.detail))
    marks = {c.name: c.mark for c in report.checks}
    for name, ok, detail in checks:
        print(f"[{marks.get(name, 'ok' if ok else 'FAIL')}] {name}: {detail}")
    failed = next((c for c in checks if not c[1]), None)
    if failed is None:
        return 0
    print(f"error: verification failed: {failed[0]}: {failed[2]}", file=sys.stderr)
    return 1


def _actor(args: argparse.Namespace, settings: Settings) -> Actor | None:
    """The signed-in person of --id-token-file, or None (then --by is a declared name)."""
    if args.id_token_file is None:
        return None
    if args.by:
        raise gates.PromotionInputError(
            "Give --by or --id-token-file, not both.",
            fix="With an ID token the name comes from the token.",
        )
    return actor_from_id_token(settings, Path(args.id_token_file))


def _request(args: argparse.Namespace, settings: Settings) -> requests.PromotionRequest:
    """The promotion asked for on the command line."""
    if args.to:
        raise gates.PromotionInputError("--to only goes with --rollback.")
    return requests.PromotionRequest(
        run_id=args.run_id or _recommended_id(settings),
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
        actor=_actor(args, settings),
        slot=args.slot.strip(),
        schema_change_reason=args.schema_change.strip(),
    )


def _recommended_id(settings: Settings) -> str:
    """The recommended run's id, after a line saying which run it is and why."""
    found = recommended_run(settings)
    print(f"recommended run {found.run_name} ({found.run_id}): {found.reason}")
    return str(found.run_id)


def _already_promoted(settings: Settings) -> bool:
    """With --if-none: True, after a line naming it, when a run is already promoted."""
    manifest = audit.show(settings)
    if manifest is not None:
        print(
            f"Run {manifest.run_id} ({manifest.run_name}) is already promoted at threshold "
            f"{manifest.threshold}; nothing to promote."
        )
    return manifest is not None


def _print_gate_lines(gates: Iterable[GateResult]) -> None:
    """One line per gate: [pass], [OVERRIDDEN] (failed, forced with a reason) or [FAIL]."""
    for gate in gates:
        mark = "pass" if gate.passed else ("OVERRIDDEN" if gate.overridden else "FAIL")
        print(f"  [{mark}] {gate.name}: {gate.detail}")


def _print_gates(exc: requests.GateFailedError) -> None:
    """Each gate's outcome, before the one-line error."""
    _print_gate_lines(exc.results)


def _decide(args: argparse.Namespace, settings: Settings) -> int:
    """Reject a request or acknowledge a rollback, and say what was recorded."""
    if args.reject:
        entry = approvals.reject(
            settings, args.reject, by=args.by, reason=args.reason, actor=_actor(args, settings)
        )
        print(f"rejected {entry.event.request_id}: ledger entry {entry.seq} {entry.hash[:12]}")
        return 0
    if not args.acknowledge.strip().lstrip("#").isdigit():
        raise gates.PromotionInputError(
            f"--acknowledge '{args.acknowledge}' is not a ledger entry number.",
            fix="Give the number of the rollback entry shown by --history.",
        )
    seq = int(args.acknowledge.strip().lstrip("#"))
    entry = approvals.acknowledge(
        settings, seq, by=args.by, reason=args.reason, actor=_actor(args, settings)
    )
    print(f"acknowledged rollback {seq}: ledger entry {entry.seq} {entry.hash[:12]}")
    return 0


def _init_keys(settings: Settings, key_file: str) -> int:
    """Create a signing key file and print the two settings that use it."""
    path = Path(key_file).expanduser()
    public = create_key_file(path, settings)
    print(f"created the ledger signing key {path} (mode 600; keep it out of the deploy folder)")
    print(f"  promoters:  LEDGER_SIGNING_KEY_FILE={path}")
    print(f"  everyone (service, monitoring, --verify):  LEDGER_PUBLIC_KEY={public}")
    return 0


def _repair(settings: Settings) -> int:
    """Repair an interrupted write; exit 1 when something is left that repair cannot fix."""
    report = repair(settings)
    print(("repaired: " if report.repaired else "") + report.detail)
    if report.removed:
        print(f"  removed leftovers: {', '.join(report.removed)}")
    if report.problem:
        print(f"error: not repaired: {report.problem}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch the promote subcommand's modes."""
    if args.format != "table" and not args.history:
        raise gates.PromotionInputError("--format goes with --history.")
    if args.if_none and not (args.run_id or args.recommended):
        raise gates.PromotionInputError("--if-none goes with --run-id or --recommended.")
    if args.init_keys:
        return _init_keys(settings, args.init_keys)
    if args.show:
        return _show(settings)
    if args.history:
        return _history(settings, args.format)
    if args.verify:
        return _verify(settings)
    if args.repair:
        return _repair(settings)
    if args.reject or args.acknowledge:
        return _decide(args, settings)
    if args.rollback:
        if args.threshold is not None or args.force:
            raise gates.PromotionInputError(
                "--threshold and --force go with --run-id; a rollback restores the recorded "
                "threshold.",
                fix="Roll back first, then promote the run again with a new threshold.",
            )
        result = promotion.rollback(
            settings,
            by=args.by,
            reason=args.reason,
            to_run_id=args.to,
            actor=_actor(args, settings),
        )
        _print_result(result)
        print("  flagged 'needs review' until a second person acknowledges it with "
              f"--acknowledge {result.entry.seq}")  # fmt: skip
        return 0
    if args.if_none and _already_promoted(settings):
        return 0
    try:
        if args.approve:
            outcome = approvals.approve(
                settings, args.approve, by=args.by, reason=args.reason, actor=_actor(args, settings)
            )
        else:
            outcome = approvals.submit(settings, _request(args, settings))
    except requests.GateFailedError as exc:
        _print_gates(exc)
        raise GovernanceError(exc.message, fix=exc.fix) from exc
    if isinstance(outcome, approvals.RequestResult):
        record = outcome.record
        print(
            f"requested {outcome.request_id}: run {record.run_id} threshold {record.threshold} "
            f"by {outcome.entry.event.by}; pending until {record.expires_at}. Another person "
            f"approves with: python -m core promote --approve {outcome.request_id} --by NAME "
            "--reason TEXT"
        )
        return 0
    _print_result(outcome)
    return 0
