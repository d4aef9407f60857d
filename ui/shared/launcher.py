"""Start the dashboard with its imports done and its pages drawn once before it takes a request.

`python -m ui [--warm pages|imports|none] [streamlit options]` is `streamlit run app.py
[options]` in this same process, after (`imports`) importing what app.py and pages/*.py import
at the top (mlflow, pandas, plotly, our modules) and what the first model load imports
(LightGBM, scikit-learn, skops.io), and (`pages`, the default) drawing the root and every page
once headlessly with Streamlit's AppTest, as a first visitor with default settings would open
them: the store's runs, the recommendation, the opening run's model, validation set and
figures are then in Streamlit's process-wide caches, which the browser sessions share. A fresh
server answers its first view of every page without paying seconds of imports and reads, at
the cost of starting to listen that much later (the work is paid once, before any browser
waits on it). A page that fails to draw is left to show its own error to the visitor.

numpy and scipy.special come first: importing skops.io scans `sys.modules` in import order for
every scipy ufunc (a trusted-type list), so imported after mlflow's thousand modules it costs
1-3 s more. Imported first, the scan stops at scipy's own modules and finds the same names
skops.io finds in a process of its own. Last, `inspect.stack()` once: Streamlit calls it on
the first element any session draws (to tell a REPL), and its first call maps every loaded
module's file (0.1-0.8 s with the dashboard's four thousand modules).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ui.shared.warmup import WARM_MODULES

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent.parent
APP = ROOT / "app.py"
FIRST = ("numpy", "scipy.special")
WARM_CHOICES = ("pages", "imports", "none")
PAGE_TIMEOUT_SECONDS = 120
# Streamlit warnings that only say the work happens before the server exists, as intended:
# logger name -> the start of the message dropped.
WARM_NOISE = {
    "streamlit.runtime.caching.cache_data_api": "No runtime found",
    "streamlit.runtime.scriptrunner_utils.script_run_context": "Thread 'MainThread': missing",
    # The config read before serving makes Streamlit's own read of the flags look like a
    # change of the [server] section; the flags are applied all the same.
    "streamlit.config": "An update to the [server] config option section",
}
log = logging.getLogger(__name__)


def script_imports(scripts: Sequence[Path]) -> list[str]:
    """The modules the scripts import at their top level (`from a import b`: a.b when a module)."""
    names: list[str] = []
    for script in scripts:
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
                names += [f"{node.module}.{alias.name}" for alias in node.names]
    return list(dict.fromkeys(names))


def warm_modules(root: Path = ROOT) -> list[str]:
    """Everything to import before serving, in order: FIRST, the scripts' imports, WARM_MODULES."""
    scripts = [root / "app.py", *sorted((root / "pages").glob("*.py"))]
    return list(dict.fromkeys([*FIRST, *script_imports(scripts), *WARM_MODULES]))


def warm(names: Sequence[str]) -> list[str]:
    """Import each name that is a module; the ones that failed (a page reports its own error)."""
    failed = []
    for name in names:
        parent, _, attribute = name.rpartition(".")
        if parent in sys.modules and hasattr(sys.modules[parent], attribute):
            continue  # `from a import b` of a name a defines, not a submodule
        try:
            importlib.import_module(name)
        except ImportError:
            if not parent or parent not in sys.modules:
                failed.append(name)
        except Exception:  # the page importing it shows the real error
            log.debug("warming %s failed", name, exc_info=True)
            failed.append(name)
    return failed


def page_scripts(root: Path = ROOT) -> list[str]:
    """The pages to draw before serving, relative to root: pages/*.py, Runs (the root's) first."""
    pages = sorted(str(page.relative_to(root)) for page in (root / "pages").glob("*.py"))
    return sorted(pages, key=lambda page: page != "pages/runs.py")


def _painted_session(app: Path, timeout: float) -> AppTest:
    """A headless session of app that draws its figures at once (as after a browser's first
    view), so the figures' data and Plotly's figure code are warm too."""
    from streamlit.testing.v1 import AppTest

    from ui.shared.figures_after_paint import PAINTED_KEY

    at = AppTest.from_file(str(app), default_timeout=timeout)
    at.session_state[PAINTED_KEY] = True
    return at


def draw_pages(app: Path = APP, timeout: float = PAGE_TIMEOUT_SECONDS) -> list[str]:
    """Draw the root URL and every page once headlessly (AppTest, in this process) so what a
    first view reads and computes is cached; the problems met, one line per page."""
    problems = []
    at = _painted_session(app, timeout)
    for page in [None, *page_scripts(app.parent)[1:]]:
        try:
            (at.switch_page(page) if page else at).run()
        except Exception as exc:  # e.g. a timeout: the visitor's own view reports the real error
            problems.append(f"{page or 'root'}: {type(exc).__name__}: {exc}")
            at = _painted_session(app, timeout)
            continue
        problems += [f"{page or 'root'}: {error.value}" for error in at.exception]
    return problems


class _DropWarmNoise(logging.Filter):
    """Drop the one expected warning of a Streamlit logger (WARM_NOISE)."""

    def __init__(self, start: str) -> None:
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the expected warning, True for anything else."""
        return not record.getMessage().startswith(self.start)


def _quiet_warm_noise() -> None:
    """Attach the filters of WARM_NOISE to their loggers (for the life of this process)."""
    for name, start in WARM_NOISE.items():
        logging.getLogger(name).addFilter(_DropWarmNoise(start))


def _warm_imports() -> None:
    """Import every module the pages need, then build inspect's module map."""
    warm(warm_modules())
    inspect.stack()


def main(argv: Sequence[str] | None = None) -> None:
    """Warm as asked (default: imports and pages), then run `streamlit run app.py` here."""
    parser = argparse.ArgumentParser(prog="python -m ui", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--warm",
        choices=WARM_CHOICES,
        default="pages",
        help="before serving: import the libraries and draw every page once (pages), only "
        "import (imports), or nothing (none, as `streamlit run app.py`)",
    )
    options, streamlit_args = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    if options.warm != "none":
        _quiet_warm_noise()
        sys.stderr.write("Loading the dashboard's libraries before serving it...\n")
        _warm_imports()
    if options.warm == "pages":
        sys.stderr.write("Drawing each page once, so the first views are read and cached...\n")
        for problem in draw_pages():
            sys.stderr.write(f"  (left to the page to report) {problem}\n")
    seconds = time.perf_counter() - started
    sys.stderr.write(f"Warmed ({options.warm}) in {seconds:.1f} s; starting the dashboard.\n")
    from streamlit.web import cli

    cli.main(["run", str(APP), *streamlit_args], prog_name="streamlit")
