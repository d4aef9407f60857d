"""`python -m ui`: the pages' imports and the model stack are loaded before Streamlit serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers import ROOT
from ui.shared import launcher

# In a child process: the launcher as `python -m ui` runs it, with Streamlit's server start
# replaced by a probe that reports what was imported at that moment, and the skops.io trusted
# names the warm import order produced.
AT_SERVER_START = """
import json, sys
import streamlit.web.bootstrap as bootstrap

def probe(main_script_path, is_hello, args, flag_options):
    from skops.io import _trusted_types as trusted
    order = list(sys.modules)
    print(json.dumps({
        "script": main_script_path,
        "port": flag_options.get("server_port"),
        "loaded": {name: name in sys.modules for name in MODULES},
        "scipy_before_mlflow": order.index("scipy.special") < order.index("mlflow"),
        "names": trusted.SCIPY_UFUNC_TYPE_NAMES + trusted.NUMPY_UFUNC_TYPE_NAMES,
    }))
    sys.exit(0)

bootstrap.run = probe
sys.argv = ["ui", "--server.port", "8599", "--server.headless", "true"]
import runpy
runpy.run_module("ui", run_name="__main__")
"""
ALONE = """
import json
from skops.io import _trusted_types as trusted
print(json.dumps(trusted.SCIPY_UFUNC_TYPE_NAMES + trusted.NUMPY_UFUNC_TYPE_NAMES))
"""
MODULES = ("mlflow", "lightgbm", "sklearn", "skops.io", "plotly.graph_objects", "ui.runs.table")


def _child(script: str) -> object:
    """Run script in a fresh interpreter at the repository root; its last line as JSON."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def test_python_m_ui_imports_the_pages_and_model_stack_before_the_server_starts() -> None:
    # given `python -m ui --server.port 8599` in a fresh process
    seen = _child(f"MODULES = {MODULES!r}\n{AT_SERVER_START}")
    # then Streamlit is started on app.py with the options given, after the imports
    assert seen["script"] == str(ROOT / "app.py") and seen["port"] == 8599
    assert all(seen["loaded"].values()), seen["loaded"]
    # and scipy.special was imported ahead of mlflow, so skops.io's scan found the very names
    # it finds in a process of its own (its trusted types are unchanged)
    assert seen["scipy_before_mlflow"]
    assert seen["names"] == _child(ALONE)


def test_warm_list_covers_every_page_import() -> None:
    # given the page scripts
    names = launcher.warm_modules()
    # then every module a page imports at the top is warmed, scipy.special first
    assert names[:2] == ["numpy", "scipy.special"]
    pages = sorted((ROOT / "pages").glob("*.py"))
    assert len(pages) == 5
    for page in pages:
        assert set(launcher.script_imports([page])) <= set(names), page.name
    assert {"ui.whatif.editor", "ui.runs.table", "core.scoring.loaded_model"} <= set(names)


def test_a_module_that_fails_to_import_is_reported_not_raised() -> None:
    # when the warm list holds a module that does not exist and a name that is no module
    failed = launcher.warm(["json", "json.dumps", "no_such_module_for_the_launcher"])
    # then only the missing module is reported, and nothing is raised
    assert failed == ["no_such_module_for_the_launcher"]
