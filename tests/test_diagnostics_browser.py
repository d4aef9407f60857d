"""Real-browser test: the threshold workbench shows exactly core's policy_at at every threshold.

The workbench computes the previewed threshold's numbers in the browser from the policy grid it
got once; every number and "threshold 0.xxxx" label it shows must equal what core.policy_at gives,
and "Use this threshold" must make the preview the shared threshold (sidebar and link).
"""

from __future__ import annotations

import pytest

from core.evaluation.threshold_policy import PolicyPoint, build_score_table, policy_at
from core.store import access as store
from core.store.client import open_client
from tests.helpers.browser import SCRIPT_DONE

pytestmark = pytest.mark.browser

SLIDER = '.tw-root input[type=range][aria-label="Threshold (score)"]'
EXACT = '.tw-root input[aria-label="Exact threshold"]'
STATE_JS = """
() => {
  const root = document.querySelector('.tw-root');
  if (!root) return null;
  const metrics = {};
  for (const m of root.querySelectorAll('[data-metric]')) {
    metrics[m.dataset.metric] = [m.querySelector('.tw-metric-value').textContent,
                                 m.querySelector('.tw-metric-help').textContent];
  }
  return {
    idle: !!document.querySelector('[data-testid=stApp][data-test-script-state=notRunning]')
      && !document.querySelector('[data-stale=true]'),
    slider: root.querySelector('input[type=range]').getAttribute('aria-valuetext'),
    exact: root.querySelector('input[aria-label="Exact threshold"]').value,
    preview: root.querySelector('[data-preview]').dataset.preview,
    status: root.querySelector('.tw-status').textContent,
    use: root.querySelector('.tw-use').textContent,
    metrics,
    matrix: [...root.querySelectorAll('.tw-matrix td')].map(c => c.textContent),
    economics: root.querySelector('.tw-economics').textContent,
    labels: [...root.querySelectorAll('.tw-mark-label')].map(t => t.textContent),
    sidebar: document.querySelector('[data-testid=stSidebar]').innerText,
    url: new URLSearchParams(location.search).get('threshold'),
    run: new URLSearchParams(location.search).get('run_id'),
  };
}
"""


def _state(page) -> dict:
    """What the page shows that depends on the threshold."""
    return page.evaluate(STATE_JS)


def _wait_for(page, condition: str) -> dict:
    """Wait until the app is idle and condition (JS over the state `s`) holds; return the state."""
    page.wait_for_function(
        f"() => {{ const s = ({STATE_JS})(); return s && s.idle && ({condition}); }}",
        timeout=60_000,
    )
    page.wait_for_selector(SCRIPT_DONE, timeout=60_000)
    return _state(page)


def _money(value: float | None) -> str:
    """The server's money format."""
    return "—" if value is None else f"{value:,.0f}"


def _expected(point: PolicyPoint) -> dict:
    """Every number the workbench shows for a policy point, formatted as the server formats."""
    n = point.n
    profit_help = (
        f"Loss from approved bads {_money(point.expected_loss)}"
        if point.has_economics
        else "Enter a loss per bad and a profit per good."
    )
    economics = ""
    if point.has_economics:
        economics = (
            f"Expected loss from the {point.bads_approved:,} approved bads: "
            f"{_money(point.expected_loss)}; profit from the {point.goods_approved:,} approved "
            f"goods: {_money(point.goods_approved * point.profit_per_good)}; net "
            f"{_money(point.expected_profit)}."
        )
    cells = (point.goods_approved, point.goods_declined, point.bads_approved, point.bads_declined)
    return {
        "metrics": {
            "Approval rate": [f"{point.approval_rate:.2%}", f"{point.approved:,} rows"],
            "Reject rate": [f"{point.reject_rate:.2%}", f"{point.declined:,} rows"],
            "Bad rate among approved": (
                [f"{point.bad_rate_approved:.2%}", ""]
                if point.approved
                else ["—", "Nobody is approved at this threshold."]
            ),
            "Bads caught (declined)": (
                [f"{point.bads_caught:.2%}", ""]
                if point.bads_approved + point.bads_declined
                else ["—", "The data has no bads (label 1)."]
            ),
            "Expected profit": [_money(point.expected_profit), profit_help],
        },
        "matrix": [f"{c:,} ({c / max(n, 1):.1%})" for c in cells],
        "economics": economics,
    }


def _assert_shows(state: dict, table, threshold: float, loss=None, profit=None) -> None:
    """Every number and label shown equals core's policy_at at threshold."""
    threshold = round(threshold, 4)  # the control's grid value, as the slider holds it
    point = policy_at(table, threshold, loss, profit)
    value = f"{threshold:.4f}"
    assert state["slider"] == state["exact"] == state["preview"] == value
    expected = _expected(point)
    assert state["metrics"] == expected["metrics"]
    assert state["matrix"] == expected["matrix"]
    assert state["economics"] == expected["economics"]
    # ROC point, KS, distribution and policy lines; the precision-recall point when someone is
    # declined (as core.charts.precision_recall_marks), the strategy point when someone is approved
    lines = 3 + bool(point.declined) + bool(point.approved)
    marks = [f"model at threshold {value}", *[f"threshold {value}"] * lines]
    assert sorted(state["labels"]) == sorted(marks)


def test_the_workbench_shows_policy_at_and_applies_the_chosen_threshold(
    chromium, dashboard_url: str, file_store_template
) -> None:
    page = chromium.new_page(viewport={"width": 1500, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # given Diagnostics open with the workbench drawn at the applied (business) threshold
    page.goto(f"{dashboard_url}/diagnostics")
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    start = _wait_for(page, "s.labels.length === 6")
    frame = store.load_validation_set(open_client(file_store_template.uri), start["run"])
    table = build_score_table(frame["label"], frame["score"])
    applied = start["preview"]
    _assert_shows(start, table, float(applied))
    assert f"Threshold: {applied}" in start["sidebar"] and start["url"] == applied
    # when the analyst presses PageUp, then arrow keys, on the slider
    page.locator(SLIDER).focus()
    page.keyboard.press("PageUp")
    moved = _wait_for(page, f"s.preview !== '{applied}'")
    # then every number and label previews the new threshold, exactly as core computes it
    _assert_shows(moved, table, float(applied) + 0.01)
    # and the applied threshold stays the shared one until it is applied, and says so
    assert moved["url"] == applied and f"Threshold: {applied}" in moved["sidebar"]
    assert f"applied {applied}" in moved["status"] and moved["preview"] in moved["use"]
    page.keyboard.press("ArrowLeft")
    after_arrow = _wait_for(page, f"s.preview !== '{moved['preview']}'")
    _assert_shows(after_arrow, table, float(moved["preview"]) - 0.0001)
    # when exact thresholds are typed, at the ends of the range too
    for typed in ("0.1234", "0.6001", "0.0001", "0.9999"):
        page.locator(EXACT).fill(typed)
        page.locator(EXACT).press("Enter")
        _assert_shows(_wait_for(page, f"s.preview === '{typed}'"), table, float(typed))
    # when a loss per bad and a profit per good are given (Streamlit inputs)
    page.locator(EXACT).fill("0.3579")
    page.locator(EXACT).press("Enter")
    for label, amount in (("Loss per bad approved", "5000"), ("Profit per good approved", "1000")):
        page.get_by_label(label).fill(amount)
        page.get_by_label(label).press("Enter")
        page.wait_for_timeout(200)
    priced = _wait_for(page, "s.economics !== ''")
    # then the expected profit is core's, and the preview survived the rerun
    _assert_shows(priced, table, 0.3579, 5000.0, 1000.0)
    # when the preview is applied with the workbench's "Use this threshold"
    page.locator(".tw-use").click()
    # (a fragment's rerun of the whole app leaves the page idle for a moment in between, so
    # wait until the link, the sidebar and the workbench have all settled before reading them)
    used = _wait_for(
        page, "s.url === '0.3579' && s.sidebar.includes('Threshold: 0.3579') && s.use === 'Applied'"
    )
    # then the sidebar and the link follow, and the workbench says it is applied
    assert "Threshold: 0.3579" in used["sidebar"] and used["status"].startswith("Applied 0.3579")
    assert used["use"] == "Applied"
    # and what lies outside the workbench follows too: the evidence pack is offered at it
    pack = page.get_by_role("button", name="Download the validation evidence pack")
    pack.filter(has_text="at threshold 0.3579").wait_for(timeout=30_000)
    # when a suggested threshold is applied with its own "Use this threshold"
    page.get_by_role("button", name="Use this threshold", exact=True).first.click()
    suggested = _wait_for(
        page,
        "s.url !== '0.3579' && s.preview === s.url && s.sidebar.includes('Threshold: ' + s.url)",
    )
    # then the workbench's control moved there and shows core's numbers for it
    assert suggested["preview"] == suggested["url"]
    assert f"Threshold: {suggested['url']}" in suggested["sidebar"]
    _assert_shows(suggested, table, float(suggested["url"]), 5000.0, 1000.0)
    assert page.locator("[data-testid=stException]").count() == 0
    assert errors == []
    page.close()
