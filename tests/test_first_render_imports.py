"""The Runs page's first render imports no model or statistics library it does not draw with."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers import ROOT

# What the first Runs view must not pay for: the model stack and the stats used by closed tabs.
HEAVY = ("lightgbm", "shap", "sklearn", "scipy.stats", "skops.io")

FIRST_RENDER = """
import json, sys
from streamlit.testing.v1 import AppTest
from ui.shared import warmup
warmup.warm_imports_once = lambda: False  # the background warm-up is not the render path
at = AppTest.from_file("app.py", default_timeout=120).run()
print(json.dumps({
    "title": [t.value for t in at.title],
    "exceptions": [e.value for e in at.exception],
    "loaded": [name for name in HEAVY if name in sys.modules],
}))
"""


def test_runs_first_render_imports_no_heavy_module(file_store, tmp_path) -> None:
    # given a fresh process on a populated store (the root URL opens Runs)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": file_store.uri,
        "MLFLOW_EXPERIMENT_NAME": "credit_risk_experiment",
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "PROMOTION_MANIFEST": str(tmp_path / "deploy" / "promotion.json"),
        "PYTHONPATH": str(ROOT),
    }
    # when the Runs page renders for the first time
    script = f"HEAVY = {HEAVY!r}\n{FIRST_RENDER}"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    seen = json.loads(done.stdout.decode().strip().splitlines()[-1])
    # then it drew the runs with no error, and none of the heavy modules was imported
    assert seen["title"] == ["Runs"] and seen["exceptions"] == []
    assert seen["loaded"] == [], f"the first Runs render imported {seen['loaded']}"
