"""The promotion state found under the lock: manifest, ledger chain, and whether they agree."""

from __future__ import annotations

from dataclasses import dataclass

from core.record import ledger, signing
from core.record.manifest import ManifestError, PromotionManifest, ledger_path, read_manifest
from core.settings import Settings


@dataclass(frozen=True)
class LedgerState:
    """The manifest and ledger as found under the lock."""

    manifest: PromotionManifest | None
    manifest_problem: str | None
    chain: ledger.ChainReport

    @property
    def head(self) -> ledger.LedgerEntry | None:
        """The last ledger entry (the one a new entry chains to)."""
        return self.chain.head

    @property
    def installed(self) -> ledger.LedgerEntry | None:
        """The last entry that installed a manifest."""
        return self.chain.installed


def manifest_problem(manifest: PromotionManifest | None, chain: ledger.ChainReport) -> str | None:
    """How the manifest disagrees with the ledger's last installed entry, or None."""
    head = chain.installed
    if manifest is None:
        return "the manifest is missing but the ledger has entries" if head else None
    if head is None:
        return "the manifest has no entry in the ledger (it was not written by a promotion)"
    if manifest.ledger_entry_hash != head.hash:
        return "the manifest does not point at the last installed ledger entry"
    if manifest.model_copy(update={"ledger_entry_hash": None}) != head.manifest:
        return "the manifest differs from the last installed ledger entry (edited by hand?)"
    return None


def read_state(settings: Settings, *, tolerate_bad_manifest: bool) -> LedgerState:
    """Read manifest and ledger; refuse a broken chain, and a bad manifest unless tolerated."""
    chain = ledger.require_intact(
        ledger_path(settings.promotion_manifest), signing.trusted_public_key(settings)
    )
    try:
        manifest = read_manifest(settings.promotion_manifest)
    except ManifestError as exc:
        if not tolerate_bad_manifest:
            raise
        return LedgerState(None, exc.message, chain)
    problem = manifest_problem(manifest, chain)
    if problem and not tolerate_bad_manifest:
        raise ManifestError(
            f"The promotion manifest '{settings.promotion_manifest}' cannot be trusted: {problem}.",
            fix="Restore it from the ledger with `python -m core promote --rollback` "
            "(without --to it restores the last recorded promotion).",
        )
    return LedgerState(None if problem else manifest, problem, chain)
