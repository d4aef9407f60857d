"""Reading the promotion record: the manifest in force, history, rollback choices, verify."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.errors import GovernanceError
from core.monitoring.profiles import frozen_profile
from core.monitoring.reference import ProfileError
from core.promotion import anchor, registry, review
from core.record import ledger
from core.record.export import ExportError, verify_export
from core.record.frozen import EvidencePackError, verify_pack
from core.record.ledger_trust import signature_check
from core.record.manifest import (
    GateResult,
    ManifestError,
    PromotionManifest,
    ledger_path,
    read_manifest,
)
from core.record.signing import trusted_public_key
from core.record.state import manifest_problem
from core.record.verification import Check, VerificationReport
from core.settings import Settings
from core.store.client import open_client

NEEDS_REVIEW = "needs review"
HISTORY_COLUMNS = (
    "entry",
    "when",
    "who",
    "action",
    "status",
    "run_name",
    "threshold",
    "reason",
    "gates",
    "val_auc",
    "registry",
    "run_id",
    "hash",
)


def show(settings: Settings) -> PromotionManifest | None:
    """The manifest in force (None before the first promotion)."""
    return read_manifest(settings.promotion_manifest)


def _gate_text(gate_results: list[GateResult]) -> str:
    """'6/6 passed', naming overridden gates."""
    failed = [g.name for g in gate_results if not g.passed]
    text = f"{sum(g.passed for g in gate_results)}/{len(gate_results)} passed"
    return text + (" (overridden: " + ", ".join(failed) + ")" if failed else "")


def _action(entry: ledger.LedgerEntry) -> str:
    """What an entry did, in a few words."""
    event = entry.event
    if entry.restores_seq:
        return f"rollback (to #{entry.restores_seq})"
    if event is None:
        return entry.kind
    if event.kind in ("approve", "reject"):
        return f"{event.kind} {event.request_id}"
    if event.kind == "acknowledge":
        return f"acknowledge #{event.target_seq}"
    if event.kind == "request":
        return f"request {review.request_id_for(entry.seq)}"
    return event.kind


def _status(
    entry: ledger.LedgerEntry,
    requests: dict[str, review.RequestState],
    reviews: dict[int, ledger.LedgerEntry | None],
) -> str:
    """Where an entry stands: a request's outcome, a rollback's review, who requested."""
    if entry.seq in reviews:
        ack = reviews[entry.seq]
        if ack is None:
            return NEEDS_REVIEW
        return f"acknowledged by {review.who_did(ack)} (#{ack.seq})"
    event = entry.event
    if event is None:
        return ""
    if event.kind == "request":
        state = requests[review.request_id_for(entry.seq)]
        if state.status == "pending":
            return f"pending until {state.record.expires_at[:19].replace('T', ' ')} UTC"
        if state.decided_by is not None:
            who = review.who_did(state.decided_by)
            return f"{state.status} by {who} (#{state.decided_by.seq})"
        return state.status
    if event.kind == "approve" and event.request_id in requests:
        asked = requests[event.request_id].event
        return f"requested by {asked.signoff.label}"
    return ""


def history(settings: Settings) -> pd.DataFrame:
    """The ledger as a table, newest first: who, when, action, run, threshold, reason, status."""
    chain = ledger.read_chain(ledger_path(settings.promotion_manifest))
    requests = review.request_states(chain)
    reviews = review.rollback_reviews(chain)
    rows = []
    for entry in chain.entries:
        m, event = entry.manifest, entry.event
        asked = event.request if event is not None else None
        if m is None and event is not None and event.request_id in requests:
            asked = requests[event.request_id].record
        reason = event.reason if event is not None else m.reason if m else ""
        if m is not None and m.forced:
            reason += f" [forced: {m.force_reason}]"
        if m is not None and m.schema_change_reason and m.action != "rollback":
            reason += f" [schema change: {m.schema_change_reason}]"
        rows.append(
            {
                "entry": entry.seq,
                "action": _action(entry),
                "when": event.at if event is not None else m.promoted_at if m else "",
                "who": review.who_did(entry),
                "run_name": m.run_name if m else asked.run_name if asked else "",
                "run_id": m.run_id if m else asked.run_id if asked else "",
                "threshold": m.threshold if m else asked.threshold if asked else None,
                "val_auc": m.metrics.get("val_auc") if m else None,
                "reason": reason,
                "gates": _gate_text(m.gate_results if m else asked.gate_results)
                if (m or asked)
                else "",
                "status": _status(entry, requests, reviews),
                "registry": f"{m.registry.name} v{m.registry.version}" if m and m.registry else "",
                "hash": entry.hash[:12],
            }
        )
    return pd.DataFrame(rows, columns=list(HISTORY_COLUMNS)).iloc[::-1].reset_index(drop=True)


def rollback_choices(settings: Settings) -> list[ledger.LedgerEntry]:
    """Ledger entries a rollback may restore (not the state in force), newest first."""
    installs = ledger.read_chain(ledger_path(settings.promotion_manifest)).installs
    if not installs:
        return []
    current = installs[-1].manifest
    seen: set[tuple[str, float]] = {(current.run_id, current.threshold)}
    choices = []
    for entry in reversed(installs):
        key = (entry.manifest.run_id, entry.manifest.threshold)
        if key not in seen and entry.restores_seq is None:
            seen.add(key)
            choices.append(entry)
    return choices


def rollback_default(settings: Settings, choices: list[ledger.LedgerEntry]) -> int | None:
    """The entry a rollback should preselect: the newest one before the state in force.

    None when every choice came after it (restoring one would be a roll-forward, which needs
    an explicit choice), or when nothing is installed.
    """
    installs = ledger.read_chain(ledger_path(settings.promotion_manifest)).installs
    if not installs:
        return None
    origin = installs[-1].origin_seq
    return next((e.seq for e in choices if e.seq < origin), None)


def is_roll_forward(settings: Settings, entry: ledger.LedgerEntry) -> bool:
    """True when restoring entry would undo a rollback (it came after the state in force)."""
    installs = ledger.read_chain(ledger_path(settings.promotion_manifest)).installs
    return bool(installs) and entry.seq > installs[-1].origin_seq


def _packs_check(manifest_path: Path, chain: ledger.ChainReport) -> Check | None:
    """Every evidence pack the ledger names re-hashed against its entry's sha256."""
    named = {
        (e.manifest.exported_model_path, e.manifest.evidence_pack_sha256): e.seq
        for e in chain.installs
        if e.manifest.evidence_pack_sha256
    }
    if not named:
        return None
    for (folder, sha), seq in sorted(named.items(), key=lambda item: item[1]):
        try:
            verify_pack(manifest_path.parent / folder, sha)
        except EvidencePackError as exc:
            return Check("evidence pack", False, f"entry {seq}: {exc.message}")
    return Check("evidence pack", True, f"all {len(named)} packs match their ledger entries")


def _chain_checks(settings: Settings, chain: ledger.ChainReport) -> list[Check]:
    """The chain's hashes, its signatures and its head against the tracking store's anchor."""
    count = f"{len(chain.entries)} entr{'y' if len(chain.entries) == 1 else 'ies'}"
    checks = [
        Check(
            "ledger chain",
            chain.valid,
            f"{count}, hash chain intact" if chain.valid else "; ".join(chain.problems),
        ),
        signature_check(chain, trusted_public_key(settings)),
    ]
    if chain.valid and chain.installs:
        try:
            checks.append(anchor.anchor_check(open_client(settings.tracking_uri), chain))
        except GovernanceError as exc:
            checks.append(Check(anchor.ANCHOR_CHECK, False, f"not checked: {exc.message}"))
    return checks


def verify(settings: Settings) -> VerificationReport:
    """Check the ledger chain, its signatures and anchor, the manifest against its head, the
    export, every evidence pack the ledger names and the registry."""
    path = settings.promotion_manifest
    chain = ledger.read_chain(ledger_path(path), trusted_public_key(settings))
    checks = _chain_checks(settings, chain)
    try:
        manifest = read_manifest(path)
    except ManifestError as exc:
        checks.append(Check("manifest", False, exc.message))
        return VerificationReport(tuple(checks), len(chain.entries), chain.problems)
    problem = manifest_problem(manifest, chain) if chain.valid else None
    if manifest is None and not chain.installs:
        checks.append(Check("manifest", True, "nothing promoted yet"))
        return VerificationReport(tuple(checks), 0, chain.problems)
    checks.append(
        Check(
            "manifest matches ledger",
            problem is None and chain.valid,
            problem or ("matches the last entry" if chain.valid else "chain broken: not checked"),
        )
    )
    if manifest is not None:
        try:
            verify_export(manifest.exported_model_dir(path), manifest.exported_model_sha256)
            checks.append(Check("exported model", True, "sha256 matches the manifest"))
        except ExportError as exc:
            checks.append(Check("exported model", False, exc.message))
        if manifest.reference_profile_sha256:
            try:
                frozen_profile(settings, manifest)
                checks.append(Check("reference profile", True, "sha256 matches the manifest"))
            except ProfileError as exc:
                checks.append(Check("reference profile", False, exc.message))
        if manifest.registry is not None:
            client = registry.registry_client(settings.tracking_uri)
            issues = registry.registry_problems(client, manifest)
            checks.append(
                Check("registry", not issues, "; ".join(issues) or "champion alias agrees")
            )
        else:
            checks.append(Check("registry", True, manifest.registry_note or "not used"))
    packs = _packs_check(path, chain)
    checks += [packs] if packs is not None else []
    return VerificationReport(tuple(checks), len(chain.entries), chain.problems)


def verify_or_none(settings: Settings) -> VerificationReport | None:
    """The verification of the record, or None when it cannot be read at all."""
    try:
        return verify(settings)
    except GovernanceError:
        return None
