"""Warm, in the background, the imports a page would otherwise pay on its first use.

The first model a server process loads imports `skops.io` (MLflow's LightGBM loader reads the
model with it), which scans every loaded module and costs 1-2 s; Diagnostics, What-if,
Promotion and Monitoring each load a model, and with it LightGBM and scikit-learn (about 1 s
more), which the Runs page no longer imports on its first view. (scipy.stats, which only
closed tabs import, is left to them: the warm-up adds no work a page may never need.)
app.py starts this once per process after the first page has been drawn, so the first page is
not slowed and the next one finds the work done (or waits on Python's import lock for the rest
of it, never doing it twice).
"""

from __future__ import annotations

import importlib
import logging
import threading

WARM_MODULES = (
    "core.scoring.loaded_model",
    "skops.io",
    "ui.shared.cache_evaluation",
    "ui.shared.report_download",
)

_lock = threading.Lock()
_started = False
log = logging.getLogger(__name__)


def warm_imports_once() -> bool:
    """Start the background imports unless this process already did; True when started."""
    global _started
    with _lock:
        if _started:
            return False
        _started = True
    threading.Thread(target=_import_all, name="warm-imports", daemon=True).start()
    return True


def _import_all() -> None:
    """Import each module; a failure is left for the page that needs it to report."""
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the page importing it reports the real error
            log.debug("warming %s failed", name, exc_info=True)
