"""The outcome of verifying the deployed record: one check per part, and whether all passed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One verification check and its outcome."""

    name: str
    ok: bool
    detail: str
    warning: bool = False

    @property
    def mark(self) -> str:
        """How a listing marks the outcome: ok, WARN (passed with a caveat) or FAIL."""
        if not self.ok:
            return "FAIL"
        return "WARN" if self.warning else "ok"


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

    @property
    def warnings(self) -> tuple[Check, ...]:
        """The checks that passed with a caveat (an unsigned ledger, a key settings do not pin)."""
        return tuple(c for c in self.checks if c.ok and c.warning)

    @property
    def verdict(self) -> str:
        """'passed', 'passed with warnings' (never plainly verified) or 'FAILED'."""
        if not self.ok:
            return "FAILED"
        return "passed with warnings" if self.warnings else "passed"
