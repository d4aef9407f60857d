"""Reading the promotion record: the manifest in force, history, rollback choices, verify."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.monitoring.profiles import frozen_profile
from core.monitoring.reference import ProfileError
from core.promotion import ledger
from core.promotion.export import ExportError, verify_export
from core.promotion.manifest import ManifestError, PromotionManifest, ledger_path, read_manifest
from core.promotion.state import manifest_problem
from core.settings import Settings
from core.store import registry


@dataclass(frozen=True)
class Check:
    """One verification check and its outcome."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class VerificationReport:
    """Ledger chain, manifest agreement, exported model checksum and registry agreement."""

    checks: tuple[Check, ...]
    entries: int = 0
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(c.ok for c in self.checks)


def show(settings: Settings) -> PromotionManifest | None:
    """The manifest in force (None before the first promotion)."""
    return read_manifest(settings.promotion_manifest)


def history(settings: Settings) -> pd.DataFrame:
    """The ledger as a table, newest first: who, when, run, threshold, reason, gates."""
    report = ledger.read_chain(ledger_path(settings.promotion_manifest))
    rows = []
    for entry in report.entries:
        m = entry.manifest
        failed = [g.name for g in m.gate_results if not g.passed]
        gate_text = f"{sum(g.passed for g in m.gate_results)}/{len(m.gate_results)} passed"
        if failed:
            gate_text += " (overridden: " + ", ".join(failed) + ")"
        rows.append(
            {
                "entry": entry.seq,
                "action": m.action + (f" (to #{entry.restores_seq})" if entry.restores_seq else ""),
                "when": m.promoted_at,
                "who": m.promoted_by,
                "run_name": m.run_name,
                "run_id": m.run_id,
                "threshold": m.threshold,
                "val_auc": m.metrics.get("val_auc"),
                "reason": m.reason + (f" [forced: {m.force_reason}]" if m.forced else ""),
                "gates": gate_text,
                "registry": f"{m.registry.name} v{m.registry.version}" if m.registry else "",
                "hash": entry.hash[:12],
            }
        )
    columns = ["entry", "when", "who", "action", "run_name", "threshold", "reason", "gates"]
    columns += ["val_auc", "registry", "run_id", "hash"]
    return pd.DataFrame(rows, columns=columns).iloc[::-1].reset_index(drop=True)


def rollback_choices(settings: Settings) -> list[ledger.LedgerEntry]:
    """Ledger entries a rollback may restore (not the state in force), newest first."""
    report = ledger.read_chain(ledger_path(settings.promotion_manifest))
    if not report.entries:
        return []
    current = report.entries[-1].manifest
    seen: set[tuple[str, float]] = {(current.run_id, current.threshold)}
    choices = []
    for entry in reversed(report.entries):
        key = (entry.manifest.run_id, entry.manifest.threshold)
        if key not in seen and entry.restores_seq is None:
            seen.add(key)
            choices.append(entry)
    return choices


def verify(settings: Settings) -> VerificationReport:
    """Check the ledger chain, the manifest against its head, the export and the registry."""
    path = settings.promotion_manifest
    chain = ledger.read_chain(ledger_path(path))
    count = f"{len(chain.entries)} entr{'y' if len(chain.entries) == 1 else 'ies'}"
    checks = [
        Check(
            "ledger chain",
            chain.valid,
            f"{count}, hash chain intact" if chain.valid else "; ".join(chain.problems),
        )
    ]
    try:
        manifest = read_manifest(path)
    except ManifestError as exc:
        checks.append(Check("manifest", False, exc.message))
        return VerificationReport(tuple(checks), len(chain.entries), chain.problems)
    problem = manifest_problem(manifest, chain) if chain.valid else None
    if manifest is None and not chain.entries:
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
    return VerificationReport(tuple(checks), len(chain.entries), chain.problems)
