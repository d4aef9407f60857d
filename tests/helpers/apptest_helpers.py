"""AppTest helpers: open the app on a page and collect what a user would see."""

from __future__ import annotations

import json
from collections.abc import Mapping

from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT
from ui.shared import figures_after_paint

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


def open_app(query: Query | None = None, painted: bool = True) -> AppTest:
    """Run app.py as a link with these query parameters opens it; return the AppTest.

    painted: as a browser tab that has already painted a view, so the pages draw their figures
    at once (False: as a fresh tab, whose first view has boxes that ask for the figures).
    """
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_SECONDS)
    if painted:
        mark_painted(at)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def open_page(page: str, query: Query | None = None, painted: bool = True) -> AppTest:
    """Open the app (with query parameters), switch to page, and return it after it ran."""
    return open_app(query, painted).switch_page(page).run()


def mark_painted(at: AppTest) -> None:
    """The session's browser has painted a view (what the figures' boxes tell the server)."""
    at.session_state[figures_after_paint.PAINTED_KEY] = True


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


def send_component_event(at: AppTest, component: str, event: str, value: object) -> AppTest:
    """Run again as the browser does when the first mounted `component` (st.components.v2)
    sends `event` with `value` (its trigger), and return the AppTest.

    AppTest runs no component JavaScript, so the trigger is put into the widget states the
    next run gets, the way Streamlit's frontend sends it (a JSON list on the component's
    event aggregator).
    """
    from streamlit.components.v2.bidi_component.main import _make_trigger_id
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    mounted = [e for e in at.get("bidi_component") if e.proto.component_name == component]
    assert mounted, f"no {component} component on the page"
    states = at._tree.get_widget_states()
    trigger = WidgetState(id=_make_trigger_id(mounted[0].proto.id, "events"))
    trigger.json_trigger_value = json.dumps([{"event": event, "value": value}])
    states.widgets.append(trigger)
    return at._run(states)
