"""Real-browser smoke test of the Runs page: it renders, a ticked row lands in the URL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.helpers.browser import SCRIPT_DONE

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/", "/runs"])
def test_runs_page_in_a_browser(chromium, dashboard_url: str, tmp_path: Path, path: str) -> None:
    page = chromium.new_page(viewport={"width": 1500, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # given the Runs page open in a browser, at the root or at its own address
    page.goto(dashboard_url + path)
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    # then it is the Runs page at /runs (the root opens it there), not "page not found"
    deadline = time.monotonic() + 30
    while page.evaluate("location.pathname") != "/runs" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert page.evaluate("location.pathname") == "/runs"
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    # then it rendered the runs table and the recommendation, with no exception
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.get_by_text("Runs", exact=True).first.is_visible()
    assert page.get_by_text("ecommend").first.is_visible()
    table = page.locator("[data-testid=stDataFrame]").first
    table.locator("canvas").first.wait_for(state="visible", timeout=30_000)
    time.sleep(1.0)  # the grid accepts clicks a moment after it is drawn
    # when the first row's checkbox is ticked (the first click on a freshly opened link)
    grid = table.bounding_box()
    assert grid is not None
    page.mouse.click(grid["x"] + 16, grid["y"] + 35 + 17)
    page.mouse.move(5, 5)
    deadline = time.monotonic() + 45
    # page.url lags behind history.replaceState; read the address the page itself shows
    while "run=" not in page.evaluate("location.search") and time.monotonic() < deadline:
        time.sleep(0.3)
    page.wait_for_selector(SCRIPT_DONE, timeout=60_000)
    page.screenshot(path=str(tmp_path / "runs_page.png"))
    # then the selected run is in the address, ready to be shared
    assert "run=" in page.evaluate("location.search")
    assert page.locator("[data-testid=stException]").count() == 0
    assert errors == []
    page.close()


# What the page shows after a filter, read in the page: the filter caption, the run names in
# the runs table's rows and in the CV stability tab (its summary grid and its verdict list),
# the top-runs note of that tab, and whether the page is idle with nothing stale.
SHOWN_JS = """
() => {
  const text = (el) => (el ? el.innerText : '');
  const grids = [...document.querySelectorAll('[data-testid=stDataFrame]')];
  const cells = (grid) => [...grid.querySelectorAll('table tr td')].map(text)
    .filter(t => /^(governed|lgb_|named|nested|failed|running|no_)/.test(t));
  const panel = document.querySelector('[role=tabpanel]:not([hidden])');
  return {
    idle: !!document.querySelector(
      '[data-testid=stApp][data-test-script-state=notRunning]')
      && !document.querySelector('[data-stale=true]'),
    caption: [...document.querySelectorAll('[data-testid=stCaptionContainer]')]
      .map(text).find(t => t.startsWith('Showing ')) || '',
    table: grids.length ? cells(grids[0]) : [],
    summary: grids.length > 1 ? cells(grids[grids.length - 1]) : [],
    ticked: grids.length
      ? [...grids[0].querySelectorAll('table tr[aria-selected=true] td')].map(text)
        .filter(t => /^(governed|lgb_|named|nested|failed|running|no_)/.test(t))
      : [],
    picked: [...document.querySelectorAll('[data-testid=stMultiSelect]')].map(text)
      .filter(t => t.startsWith('Selected runs')).join(''),
    verdicts: panel ? [...panel.querySelectorAll('li strong')].map(text) : [],
    note: panel ? text(panel).split('\\n').find(t => t.startsWith('No run selected')) || '' : '',
  };
}
"""


def _settled(page, names: set[str], focus: set[str], ticked: set[str] | frozenset[str]) -> dict:
    """Wait for the final state: names in the table (ticked rows among them), focus in the
    stability tab's summary and verdicts; the last state read when it does not come."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        shown = page.evaluate(SHOWN_JS)
        if (
            shown["idle"]
            and f"Showing {len(names)} of" in shown["caption"]
            and sorted(shown["table"]) == sorted(names)
            and sorted(shown["ticked"]) == sorted(ticked)
            and sorted(shown["summary"]) == sorted(focus)
            and sorted(shown["verdicts"]) == sorted(focus)
        ):
            return shown
        time.sleep(0.1)
    return page.evaluate(SHOWN_JS)


def _filter_shown(
    page,
    search: str,
    names: set[str],
    focus: set[str] | None = None,
    ticked: frozenset[str] = frozenset(),
) -> dict:
    """Type a search, press Enter and wait for the final state showing exactly names (and
    focus, the runs the stability tab explains: names when none is selected)."""
    field = page.locator('input[aria-label="Search name or run id"]')
    field.fill(search)
    field.press("Enter")
    return _settled(page, names, names if focus is None else focus, ticked)


def _new_page(chromium, height: int) -> tuple[object, list[str]]:
    """A fresh 1500-pixel-wide tab and the page errors it collects."""
    page = chromium.new_page(viewport={"width": 1500, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


def test_a_filter_updates_caption_table_and_stability_tab_together(
    chromium, dashboard_url: str, tmp_path: Path
) -> None:
    page, errors = _new_page(chromium, 2400)
    # given the Runs page with no run selected, the CV stability tab open (the default)
    page.goto(dashboard_url + "/runs")
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    page.get_by_text("Filters", exact=True).first.click()
    for search, names in (
        ("governed", {"governed_a", "governed_b"}),
        ("governed_b", {"governed_b"}),
        ("governed_", {"governed_a", "governed_b"}),
    ):
        # when a search is typed and Enter pressed
        shown = _filter_shown(page, search, names)
        # then the caption, the table's rows, the stability summary and verdicts and its note
        # all show the filtered runs at once (a stale part would keep the previous runs)
        assert shown["idle"], shown
        assert f"Showing {len(names)} of" in shown["caption"], shown
        assert sorted(shown["table"]) == sorted(names), shown
        assert sorted(shown["summary"]) == sorted(names), shown
        assert sorted(shown["verdicts"]) == sorted(names), shown
        assert f"showing the top {len(names)} run(s)" in shown["note"], shown
    page.screenshot(path=str(tmp_path / "runs_filtered.png"))
    # when the first row is ticked (the grid stays mounted across filters from here on)
    grid = page.locator("[data-testid=stDataFrame]").first
    box = grid.bounding_box()
    assert box is not None
    first, other = shown["table"][0], shown["table"][1]
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)
    page.mouse.move(5, 5)
    # then that run is selected, ticked and the one the stability tab explains
    shown = _settled(page, {"governed_a", "governed_b"}, {first}, {first})
    assert sorted(shown["ticked"]) == [first] and shown["summary"] == [first], shown
    assert shown["note"] == "" and first in shown["picked"], shown
    assert "run=" in page.evaluate("location.search")
    # when a search leaves only the other run, in the row the tick was on
    shown = _filter_shown(page, other, {other}, focus={first}, ticked=set())
    # then the tick does not pass to it: the selection is still the first run only
    assert shown["table"] == [other] and shown["ticked"] == [], shown
    assert shown["summary"] == [first] and shown["verdicts"] == [first], shown
    assert first in shown["picked"] and other not in shown["picked"], shown
    # when the search shows both again, the selected run's row is ticked again
    shown = _filter_shown(page, "governed_", {"governed_a", "governed_b"}, {first}, {first})
    assert shown["ticked"] == [first] and shown["summary"] == [first], shown
    assert other not in shown["picked"], shown
    assert page.locator("[data-testid=stException]").count() == 0
    assert errors == []
    page.close()


# Noted in the page from its first DOM change: when the runs table, the primary-metric control
# and the first Plotly figure appeared (ms since navigation), and whether a box waited.
FIRST_VIEW_JS = """
() => {
  window.__seen = {};
  const note = (name, found) => {
    if (found && !(name in window.__seen)) window.__seen[name] = performance.now();
  };
  new MutationObserver(() => {
    note('table', document.querySelector('[data-testid=staticTable]'));
    note('grid', document.querySelector('[data-testid=stDataFrame]'));
    note('control', document.body && document.body.innerText.includes('Primary metric'));
    note('box', document.querySelector('[data-figure-pending]'));
    note('figure', document.querySelector('.js-plotly-plot .main-svg'));
  }).observe(document, {subtree: true, childList: true, attributes: true});
}
"""


def test_a_fresh_tab_shows_the_table_before_the_figure_which_comes_unasked(
    chromium, dashboard_url: str, tmp_path: Path
) -> None:
    # given a fresh tab on the Runs page (its CV stability tab draws a Plotly figure), noting
    # when each part appears
    page, errors = _new_page(chromium, 1100)
    page.add_init_script(f"({FIRST_VIEW_JS})()")
    page.goto(dashboard_url + "/runs")
    # when nothing is clicked / then the figure arrives, and no box is left waiting
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90_000)
    page.wait_for_selector(SCRIPT_DONE, timeout=60_000)
    assert page.locator("[data-figure-pending]").count() == 0
    seen = page.evaluate("() => window.__seen")
    # and the table (as plain HTML) and the controls were on screen before it, with a box in
    # its place, and the interactive grid replaced the plain table, unasked too
    assert {"table", "grid", "control", "box", "figure"} <= seen.keys(), seen
    assert seen["table"] < seen["figure"] and seen["control"] < seen["figure"], seen
    assert seen["table"] < seen["grid"] and seen["box"] < seen["figure"], seen
    assert page.locator("[data-testid=staticTable]").count() == 0
    assert page.locator("[data-testid=stDataFrame]").first.is_visible()
    page.screenshot(path=str(tmp_path / "runs_first_view.png"))
    assert page.locator("[data-testid=stException]").count() == 0
    assert errors == []
    page.close()
