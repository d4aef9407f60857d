"""Browser tests: the What-if page renders, scores and rescores in real Chromium, and nothing
that depends on the edited field is left stale after an edit."""

from __future__ import annotations

import math
import re
import time

import pytest

from tests.helpers.browser import SCRIPT_DONE

pytestmark = pytest.mark.browser

# The result of an edit is one HTML block (.wi-result): metrics, tables and CSS bar charts.
# Done when the script is idle, nothing is marked stale and the "What changed" table shows
# the edited value: the final state of the edit, not a first sign of change.
EDIT_SHOWN = """
(want) => {
  if (!document.querySelector('[data-testid=stApp][data-test-script-state=notRunning]')
      || document.querySelector('[data-stale=true]')) return false;
  for (const table of document.querySelectorAll('.wi-result table')) {
    const head = [...table.querySelectorAll('thead th')].map(c => c.innerText.trim());
    const column = head.indexOf('Edited value');
    if (column < 0) continue;
    for (const row of table.querySelectorAll('tbody tr')) {
      const cells = [...row.querySelectorAll('th, td')].map(c => c.innerText.trim());
      if (cells[0] === 'debt_to_income') return cells[column] === want;
    }
  }
  return false;
}
"""
TABLES_JS = """
() => [...document.querySelectorAll('.wi-result table')].map(table => ({
  head: [...table.querySelectorAll('thead th')].map(c => c.innerText.trim()),
  rows: [...table.querySelectorAll('tbody tr')].map(
    r => [...r.querySelectorAll('th, td')].map(c => c.innerText.trim())),
}))
"""
# Each chart's texts: title, row labels, printed values and axis note.
CHART_TEXTS_JS = """
() => Object.fromEntries([...document.querySelectorAll('.wi-result [data-chart]')].map(
  chart => [chart.dataset.chart, [...chart.querySelectorAll(
    '.wi-chart-title, .wi-label, .wi-value, .wi-axis')].flatMap(
      t => t.innerText.split('\\n')).map(t => t.trim())]))
"""


def _settle(page) -> None:
    """Wait until the script finished running, plus a moment for the browser to paint."""
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    time.sleep(1)


def _metric(page, label: str) -> str:
    """The shown value of the result's metric with this label."""
    metric = page.locator(f'.wi-result .wi-metric[data-label="{label}"] .wi-metric-value')
    return metric.first.inner_text().strip()


def _percent(text: str) -> float:
    """'41.23%' or '+3.10 pp' as a number of percent."""
    return float(text.removesuffix("%").removesuffix(" pp"))


def _table_with(tables: list[dict], header: str) -> dict:
    """The first static table with this column header."""
    return next(t for t in tables if header in t["head"])


def _column(table: dict, header: str) -> list[str]:
    """One column of a static table (the header row counts the index cell when shown)."""
    offset = len(table["rows"][0]) - len(table["head"]) if table["rows"] else 0
    index = table["head"].index(header) + offset
    return [row[index] for row in table["rows"]]


def _edit(page, value: str) -> None:
    """Type a debt-to-income value, press Enter, and wait for the edit's final state."""
    field = page.locator('input[aria-label^="debt_to_income"]').first
    field.fill(value)
    field.press("Enter")
    page.wait_for_function(EDIT_SHOWN, arg=value, timeout=90_000, polling=100)


def _assert_nothing_stale(page, original: str) -> None:
    """Every number and figure on the page agrees with the score the page shows."""
    score = _metric(page, "Risk score")
    decision = _metric(page, "Decision").lower()
    distance = _percent(_metric(page, "Distance to threshold"))
    threshold = float(page.locator(".st-key-whatif_threshold input").input_value())
    # the distance is the score minus the threshold, in percentage points
    assert distance == pytest.approx(_percent(score) - threshold * 100, abs=0.011)
    # "What changed": original and edited side by side, the edited one as shown above
    tables = page.evaluate(TABLES_JS)
    summary = _table_with(tables, "Edited")
    assert summary["rows"][0][1:] == [original, score]
    assert summary["rows"][1][2] == decision
    # the reason codes follow the decision
    shown = page.locator("[data-testid=stMain]").inner_text()
    if decision == "decline":
        assert "Reasons for the decline" in shown
    else:
        assert "Approved: no reason codes are given for an approval." in shown
    # the waterfall explains this score; the moved-contributions chart shows the edit
    charts = page.evaluate(CHART_TEXTS_JS)
    waterfall, moved = charts["waterfall"], charts["moved"]
    title = next(t for t in waterfall if t.startswith("Why this score"))
    found = re.search(r"risk score (\d+\.\d)% \(log-odds (-?\d+\.\d{3})\)", title)
    assert float(found.group(1)) == pytest.approx(_percent(score), abs=0.051)
    # its bars add up to this score (an uncalibrated run: the score is the sigmoid)
    log_odds = float(found.group(2))
    assert 100 / (1 + math.exp(-log_odds)) == pytest.approx(_percent(score), abs=0.03)
    assert found.group(2) in waterfall  # the total bar
    # the waterfall's row of the edited feature shows the edited value
    want = page.locator('input[aria-label^="debt_to_income"]').first.input_value()
    assert f"debt_to_income = {float(want):.6g}" in waterfall
    assert "debt_to_income" in moved
    # the counterfactuals flip this decision, from this applicant's value
    flipped = {"approve": "decline", "decline": "approve"}[decision]
    assert f"the decision {flipped}" in shown
    counterfactuals = _table_with(tables, "Share of range")
    assert set(_column(counterfactuals, "Decision")) == {flipped}


def _wait_until(page, condition, what: str) -> None:
    """Poll until the app is idle and the condition holds (the final state, not a first sign)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        idle = page.locator(SCRIPT_DONE).count() and not page.locator("[data-stale=true]").count()
        if idle and condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _apply_then_change_threshold(page) -> None:
    """Apply the smallest change: the form shows it and the result scores it; a threshold edit
    after it keeps the applied value and moves only the decision's distance."""
    shown = page.locator("[data-testid=stMain]").inner_text()
    feature, proposed = re.search(r"(?:Raise|Lower) (\S+) from \S+ to (\S+) \(", shown).groups()
    new_score = _column(_table_with(page.evaluate(TABLES_JS), "Share of range"), "New score")[0]
    field = page.locator(f'input[aria-label^="{feature}"]').first
    page.get_by_role("button", name="Apply the smallest change to the form").click()
    _wait_until(
        page,
        lambda: (
            float(field.input_value() or "nan") == pytest.approx(float(proposed), rel=1e-5)
            and _metric(page, "Risk score") == new_score
        ),
        f"the form's {feature} to show {proposed} and the result to score it",
    )
    box = page.locator(".st-key-whatif_threshold input")
    box.fill("0.3")
    box.press("Enter")
    _wait_until(
        page,
        lambda: (
            _percent(_metric(page, "Distance to threshold"))
            == pytest.approx(_percent(new_score) - 30, abs=0.011)
        ),
        "the distance to the new threshold 0.3",
    )
    # the applied value survived the full rerun the threshold edit caused
    assert float(field.input_value()) == pytest.approx(float(proposed), rel=1e-5)
    assert _metric(page, "Risk score") == new_score
    assert "threshold 30.00%" in page.locator(".wi-result").inner_text()


def test_whatif_page_scores_and_rescores_in_a_browser(chromium, dashboard_url: str) -> None:
    page = chromium.new_page(viewport={"width": 1500, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # given the app opened once, then the What-if page
    page.goto(dashboard_url)
    _settle(page)
    page.goto(f"{dashboard_url}/whatif")
    _settle(page)
    # then an applicant is scored with no exception
    assert page.locator("[data-testid=stException]").count() == 0
    original = _metric(page, "Risk score")
    assert original.endswith("%")
    # when the debt-to-income ratio is raised, then lowered
    for value in ("0.9", "0.05"):
        _edit(page, value)
        # then everything that depends on it shows the edited applicant's score
        assert page.locator("[data-testid=stException]").count() == 0
        assert _metric(page, "Risk score") != original
        _assert_nothing_stale(page, original)
    _apply_then_change_threshold(page)
    # (404s for optional static resources are the server's, not the page's)
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []
    page.close()
