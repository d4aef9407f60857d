"""Background warm-up of first-use imports: started once per process, imports its modules."""

from __future__ import annotations

import sys
import threading

from ui.shared import warmup


def test_warm_imports_start_once_and_import_the_modules(monkeypatch) -> None:
    # given a process that has not warmed yet (AppTest runs app.py in this one)
    monkeypatch.setattr(warmup, "_started", False)
    # when the app asks twice (two sessions, or two runs of app.py)
    first, second = warmup.warm_imports_once(), warmup.warm_imports_once()
    # then one background thread does the work, once
    assert (first, second) == (True, False)
    for thread in threading.enumerate():
        if thread.name == "warm-imports":
            thread.join(timeout=60)
    assert all(name in sys.modules for name in warmup.WARM_MODULES)
