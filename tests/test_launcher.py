"""`python -m ui`: imports loaded and pages drawn (caches filled) before Streamlit serves."""

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
    from streamlit.runtime.caching import cache_data_api, cache_resource_api
    order = list(sys.modules)
    cached = [stat.cache_name for caches in (cache_data_api._data_caches,
              cache_resource_api._resource_caches)
              for stats in caches.get_stats().values() for stat in stats]
    print(json.dumps({
        "cached": sorted(set(cached)),
        "script": main_script_path,
        "port": flag_options.get("server_port"),
        "loaded": {name: name in sys.modules for name in MODULES},
        "scipy_before_mlflow": order.index("scipy.special") < order.index("mlflow"),
        "names": trusted.SCIPY_UFUNC_TYPE_NAMES + trusted.NUMPY_UFUNC_TYPE_NAMES,
    }))
    sys.exit(0)

bootstrap.run = probe
sys.argv = ["ui", *WARM, "--server.port", "8599", "--server.headless", "true"]
import runpy
runpy.run_module("ui", run_name="__main__")
"""
ALONE = """
import json
from skops.io import _trusted_types as trusted
print(json.dumps(trusted.SCIPY_UFUNC_TYPE_NAMES + trusted.NUMPY_UFUNC_TYPE_NAMES))
"""
MODULES = ("mlflow", "lightgbm", "sklearn", "skops.io", "plotly.graph_objects", "ui.runs.table")


def _child(script: str, **settings: str) -> object:
    """Run script in a fresh interpreter at the repository root; its last line as JSON."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **settings}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def _at_server_start(warm: list[str], uri: str, folder) -> dict:
    """What `python -m ui [warm] --server.port 8599` had done when it started the server."""
    return _child(
        f"MODULES = {MODULES!r}\nWARM = {warm!r}\n{AT_SERVER_START}",
        MLFLOW_TRACKING_URI=uri,
        MLFLOW_EXPERIMENT_NAME="credit_risk_experiment",
        MLFLOW_ALLOW_FILE_STORE="true",
        PROMOTION_MANIFEST=str(folder / "deploy" / "promotion.json"),
    )


def test_python_m_ui_imports_and_draws_the_pages_before_the_server_starts(
    file_store, tmp_path
) -> None:
    # given `python -m ui --server.port 8599` in a fresh process on a populated store
    seen = _at_server_start([], file_store.uri, tmp_path)
    # then Streamlit is started on app.py with the options given, after the imports
    assert seen["script"] == str(ROOT / "app.py") and seen["port"] == 8599
    assert all(seen["loaded"].values()), seen["loaded"]
    # and after every page was drawn once: the runs, the opening run's model and validation
    # set, and a page's figures are in Streamlit's process-wide caches
    shared, figures = "ui.shared.cache.", "ui.diagnostics.cache_figures.workbench_data"
    wanted = {shared + "_local_runs_table", shared + "model", shared + "validation_set", figures}
    assert wanted <= set(seen["cached"]), seen["cached"]
    # and scipy.special was imported ahead of mlflow, so skops.io's scan found the very names
    # it finds in a process of its own (its trusted types are unchanged)
    assert seen["scipy_before_mlflow"]
    assert seen["names"] == _child(ALONE)


def test_warm_imports_only_draws_no_page(file_store, tmp_path) -> None:
    # when the launcher is asked for imports only
    seen = _at_server_start(["--warm", "imports"], file_store.uri, tmp_path)
    # then the modules are loaded and nothing is cached yet
    assert all(seen["loaded"].values()) and seen["cached"] == []


def test_a_store_that_cannot_be_opened_still_starts_the_server(tmp_path) -> None:
    # given a tracking URI naming a folder that does not exist
    seen = _at_server_start([], f"file:{tmp_path / 'no-such-store'}", tmp_path)
    # then the pages were drawn (each shows its own message to the visitor) and the server
    # is started all the same, with no model cached
    assert seen["script"] == str(ROOT / "app.py")
    assert "ui.shared.cache.model" not in seen["cached"]


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
