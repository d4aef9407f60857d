"""How far the ledger's signatures can be trusted: signed, unsigned up to entry N, or unsigned."""

from __future__ import annotations

from pathlib import Path

from core.record.ledger import ChainReport, untrusted
from core.record.verification import Check

SIGNATURES_CHECK = "ledger signatures"
_NO_KEY_FIX = (
    "create a key with `python -m core promote --init-keys` and set LEDGER_SIGNING_KEY_FILE "
    "and LEDGER_PUBLIC_KEY"
)


def _short(key: str | None) -> str:
    """A public key shortened for a sentence."""
    return f"{key[:16]}…" if key else "none"


def signature_check(chain: ChainReport, trusted_key: str | None) -> Check:
    """The signatures' verdict: FAIL when broken or missing although a key is configured,
    WARN when unsigned or signed with a key settings do not pin, ok when signed with it."""
    total = len(chain.entries)
    if not chain.valid:
        return Check(SIGNATURES_CHECK, False, "chain broken: signatures not trusted")
    if total == 0:
        return Check(SIGNATURES_CHECK, True, "nothing recorded yet")
    upto = chain.unsigned_upto
    prefix = f"unsigned up to entry {upto} (written before signing); " if upto else ""
    if not chain.signed:
        if trusted_key is not None:
            return Check(
                SIGNATURES_CHECK,
                False,
                f"UNSIGNED: none of the {total} entries is signed although a ledger key is "
                f"configured ({_short(trusted_key)}); the next promotion action signs from there",
            )
        return Check(
            SIGNATURES_CHECK,
            True,
            f"UNSIGNED: none of the {total} entries is signed, so anyone who can write the "
            f"deploy folder can rewrite this history; {_NO_KEY_FIX}",
            warning=True,
        )
    signed = f"entries {upto + 1}–{total} signed with key {_short(chain.public_key)}"
    if trusted_key is None:
        return Check(
            SIGNATURES_CHECK,
            True,
            f"{prefix}{signed}, which settings do not pin: set LEDGER_PUBLIC_KEY to trust it",
            warning=True,
        )
    return Check(SIGNATURES_CHECK, True, f"{prefix}{signed} (LEDGER_PUBLIC_KEY)", warning=upto > 0)


def require_signed_head(path: Path, chain: ChainReport, trusted_key: str | None) -> None:
    """LedgerError when a ledger key is configured but the head entry is unsigned."""
    check = signature_check(chain, trusted_key)
    if not check.ok:
        raise untrusted(path, f"cannot be trusted: {check.detail}")
