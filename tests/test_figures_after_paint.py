"""A fresh browser tab's first view of Runs, Diagnostics and Monitoring draws the page without
Plotly figures (boxes of each figure's height in their places), and the browser's "painted"
signal brings every figure, in the boxes' places, without a click."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers.apptest_helpers import (
    exceptions,
    open_page,
    send_component_event,
    texts,
)
from ui.monitoring import sections as monitoring
from ui.runs import table as runs_table
from ui.shared import figures_after_paint
from ui.shared.static_table import NOTE_HEIGHT

PAGES = ("pages/runs.py", "pages/diagnostics.py", "pages/monitoring.py")
# What each page shows on its first view besides its figures (its headline content).
HEADLINES = {
    "pages/runs.py": ("Primary metric", "html"),  # the runs table, as static HTML at first
    "pages/diagnostics.py": ("Threshold policy", "metric"),
    "pages/monitoring.py": ("Decisions", "metric"),
}


def _boxes(at: AppTest) -> list[dict]:
    """The data of the boxes waiting for a figure."""
    return [
        json.loads(e.proto.json)
        for e in at.get("bidi_component")
        if e.proto.component_name == figures_after_paint.COMPONENT_NAME
    ]


def _figures(at: AppTest) -> list[dict]:
    """The Plotly figures drawn."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _headline_shown(at: AppTest, page: str) -> bool:
    """The page's headline text and element (runs table, metrics) are drawn."""
    text, kind = HEADLINES[page]
    labels = [m.label for m in at.metric] + [s.label for s in at.selectbox]
    return (text in labels or text in texts(at)) and len(at.get(kind)) > 0


def _expected_boxes(page: str, painted: list[dict]) -> list[tuple[int, str]]:
    """(height, text) of the boxes a fresh tab's first view shows: one per figure, of its
    height; on Monitoring one for everything below the headline numbers; on Runs first the
    note under the static runs table."""
    if page == "pages/monitoring.py":
        return [(monitoring.DETAILS_BOX_HEIGHT, monitoring.DETAILS_TEXT)]
    text = figures_after_paint.PENDING_TEXT
    figures = [(figure["layout"].get("height", 450), text) for figure in painted]
    if page == "pages/runs.py":
        return [(NOTE_HEIGHT, runs_table.TICKS_PENDING_TEXT), *figures]
    return figures


@pytest.mark.parametrize("page", PAGES)
def test_a_fresh_tab_gets_the_page_first_then_every_figure(file_store, app_env, page) -> None:
    # given a populated store, and the page as a painted tab draws it (figures at once)
    app_env(file_store.uri)
    painted = _figures(open_page(page))
    assert painted, "the page draws no figure to defer"
    # when a fresh tab opens the page
    at = open_page(page, painted=False)
    # then it shows its headline content and no figure: boxes waiting in their places
    assert exceptions(at) == [] and _headline_shown(at, page)
    assert _figures(at) == []
    assert [(box["height"], box["text"]) for box in _boxes(at)] == _expected_boxes(page, painted)
    # when the browser says it painted that view (the boxes' signal)
    at = send_component_event(at, figures_after_paint.COMPONENT_NAME, "painted", True)
    # then every figure is drawn in the boxes' places, the same figures a painted tab sees
    assert exceptions(at) == [] and _boxes(at) == []
    assert [f["layout"].get("title") for f in _figures(at)] == [
        f["layout"].get("title") for f in painted
    ]
    # and the session draws its figures at once from then on
    at.run()
    assert len(_figures(at)) == len(painted) and _boxes(at) == []


def test_without_the_signal_the_figures_stay_waiting(file_store, app_env) -> None:
    # given a fresh tab on the Runs page
    app_env(file_store.uri)
    at = open_page("pages/runs.py", painted=False)
    # when it reruns without the browser's signal (e.g. a filter typed at once)
    at.run()
    # then its figure is still a box that asks for it (no figure with the session unpainted),
    # under the static table's note, which asks too
    assert _figures(at) == [] and len(_boxes(at)) == 2
