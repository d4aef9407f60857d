"""Named points in a promotion's writes where a test can make the process kill itself.

Inert unless PROMOTION_CRASH_AT names the point: the crash-consistency tests set it on a real
subprocess, which then stops with SIGKILL exactly there (no cleanup, no finally blocks), the
way a power cut or an OOM kill would.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "PROMOTION_CRASH_AT"
EXPORT_INSTALLED = "export-installed"
FILES_STAGED = "files-staged"
LEDGER_COMMITTED = "ledger-committed"
MANIFEST_COMMITTED = "manifest-committed"
REPAIR_NOTED = "repair-noted"
POINTS = (EXPORT_INSTALLED, FILES_STAGED, LEDGER_COMMITTED, MANIFEST_COMMITTED, REPAIR_NOTED)


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL when PROMOTION_CRASH_AT names this point."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
