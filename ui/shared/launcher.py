"""Start the dashboard with every page's imports done before the server takes its first request.

`python -m ui [streamlit options]` is `streamlit run app.py [options]` in this same process,
after importing what app.py and pages/*.py import at the top (mlflow, pandas, plotly, our
modules) and what the first model load imports (LightGBM, scikit-learn, skops.io). A fresh
server then answers its first page without paying seconds of imports, at the cost of starting
to listen a few seconds later (the imports are paid once, before any browser waits on them).

numpy and scipy.special come first: importing skops.io scans `sys.modules` in import order for
every scipy ufunc (a trusted-type list), so imported after mlflow's thousand modules it costs
1-3 s more. Imported first, the scan stops at scipy's own modules and finds the same names
skops.io finds in a process of its own. Last, `inspect.stack()` once: Streamlit calls it on
the first element any session draws (to tell a REPL), and its first call maps every loaded
module's file (0.1-0.8 s with the dashboard's four thousand modules).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ui.shared.warmup import WARM_MODULES

ROOT = Path(__file__).resolve().parent.parent.parent
APP = ROOT / "app.py"
FIRST = ("numpy", "scipy.special")
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


def main(argv: Sequence[str] | None = None) -> None:
    """Warm the imports, then run `streamlit run app.py` with the given options here."""
    started = time.perf_counter()
    sys.stderr.write("Loading the dashboard's libraries before serving it...\n")
    sys.path.insert(0, str(ROOT))
    # Decorating a cached function outside a running server logs a warning per function.
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    warm(warm_modules())
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.NOTSET)
    inspect.stack()
    seconds = time.perf_counter() - started
    sys.stderr.write(f"Libraries loaded in {seconds:.1f} s; starting the dashboard.\n")
    from streamlit.web import cli

    args = list(sys.argv[1:] if argv is None else argv)
    cli.main(["run", str(APP), *args], prog_name="streamlit")
