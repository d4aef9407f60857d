"""AppTest helpers: open the app on a page and collect what a user would see."""

from __future__ import annotations

import json
from collections.abc import Mapping

from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT

APP = str(ROOT / "app.py")
PAGES = (
    "pages/runs.py",
    "pages/diagnostics.py",
    "pages/whatif.py",
    "pages/promotion.py",
    "pages/monitoring.py",
)
TIMEOUT_SECONDS = 120
Query = Mapping[str, str | list[str]]


def open_app(query: Query | None = None) -> AppTest:
    """Run app.py as a link with these query parameters opens it; return the AppTest."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def open_page(page: str, query: Query | None = None) -> AppTest:
    """Open the app (with query parameters), switch to page, and return it after it ran."""
    return open_app(query).switch_page(page).run()


def exceptions(at: AppTest) -> list[str]:
    """Uncaught exceptions the page showed."""
    return [e.value for e in at.exception]


def texts(at: AppTest) -> str:
    """Every markdown, caption, info, warning, error and success text on the page, joined."""
    parts = []
    for kind in (
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
        "title",
        "header",
        "subheader",
    ):
        parts += [str(e.value) for e in at.get(kind)]
    return "\n".join(parts)


def workbench_data(at: AppTest) -> dict:
    """The data Diagnostics sent to its threshold workbench component (applied threshold etc.)."""
    (element,) = [
        e for e in at.get("bidi_component") if e.proto.component_name == "threshold_workbench"
    ]
    return json.loads(element.proto.json)
