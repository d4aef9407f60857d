"""Real-browser test: one threshold change on Diagnostics updates every number and figure it moves.

The threshold panel reruns alone (st.fragment) and redraws its figures from cached figure data
plus the threshold's marks; nothing shown may keep the old threshold after the same interaction.
"""

from __future__ import annotations

import pytest

from tests.conftest import SCRIPT_DONE

pytestmark = pytest.mark.browser

# "Threshold (probability of default)" on older commits, "Threshold (score)" since calibration
SLIDER = 'input[type=range][aria-label^="Threshold ("]'
STATE_JS = """
() => {
  const metric = (label) => {
    for (const m of document.querySelectorAll('[data-testid=stMetric]')) {
      if (m.querySelector('[data-testid=stMetricLabel]')?.innerText.trim() === label)
        return m.querySelector('[data-testid=stMetricValue]').innerText.trim();
    }
    return null;
  };
  const labels = [...document.querySelectorAll('.js-plotly-plot text')]
    .map(t => t.textContent.match(/threshold (\\d\\.\\d{4})/)).filter(Boolean).map(m => m[1]);
  const matrix = [...document.querySelectorAll('[data-testid=stTable] td')].map(c => c.innerText);
  return {
    idle: !!document.querySelector('[data-testid=stApp][data-test-script-state=notRunning]')
      && !document.querySelector('[data-stale=true]'),
    slider: Number(document.querySelector('SLIDER').value).toFixed(4),
    exact: Number(document.querySelector('input[aria-label="Exact threshold"]').value).toFixed(4),
    sidebar: document.querySelector('[data-testid=stSidebar]').innerText,
    url: new URLSearchParams(location.search).get('threshold'),
    approval: metric('Approval rate'), reject: metric('Reject rate'),
    bad_rate: metric('Bad rate among approved'), caught: metric('Bads caught (declined)'),
    matrix: matrix.join('|'), labels,
  };
}
""".replace("SLIDER", SLIDER.replace("'", "\\'"))


def _state(page) -> dict:
    """What the page shows that depends on the threshold."""
    return page.evaluate(STATE_JS)


def _wait_changed(page, before: dict) -> dict:
    """Wait until the app is idle and the approval rate moved; return the new state."""
    page.wait_for_function(
        f"() => {{ const s = ({STATE_JS})(); return s.idle && s.approval !== "
        f"{before['approval']!r} && s.labels.length >= {len(before['labels'])}; }}",
        timeout=60_000,
    )
    page.wait_for_selector(SCRIPT_DONE, timeout=60_000)
    return _state(page)


def _assert_consistent(state: dict) -> None:
    """Every place that shows the threshold shows the slider's value."""
    value = state["slider"]
    assert state["exact"] == value
    assert f"Threshold: {value}" in state["sidebar"]
    assert state["url"] == value
    assert state["labels"] and set(state["labels"]) == {value}


def test_a_threshold_change_updates_everything_it_moves(chromium, dashboard_url: str) -> None:
    page = chromium.new_page(viewport={"width": 1500, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # given Diagnostics open with its figures drawn
    page.goto(f"{dashboard_url}/diagnostics")
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot text')]"
        ".filter(t => /threshold \\d\\.\\d{4}/.test(t.textContent)).length >= 6",
        timeout=60_000,
    )
    before = _state(page)
    _assert_consistent(before)
    # when the analyst presses PageUp on the threshold slider
    page.locator(SLIDER).focus()
    page.keyboard.press("PageUp")
    after = _wait_changed(page, before)
    # then every number and figure label shows the new threshold, none the old one
    assert after["slider"] != before["slider"]
    _assert_consistent(after)
    assert len(after["labels"]) == len(before["labels"])
    assert after["matrix"] != before["matrix"] and after["reject"] != before["reject"]
    # when a suggested threshold is applied with "Use this threshold"
    page.get_by_role("button", name="Use this threshold").first.click()
    applied = _wait_changed(page, after)
    # then the slider moved there and everything follows it, the sidebar and the link too
    assert applied["slider"] != after["slider"]
    _assert_consistent(applied)
    assert page.locator("[data-testid=stException]").count() == 0
    assert errors == []
    page.close()
