"""Chromium: gate results render without an emoji font, and a What-if borderline edit survives a
threshold change (both once broke only in a real browser's eyes)."""

from __future__ import annotations

import pytest

from tests.helpers.browser import SCRIPT_DONE

pytestmark = pytest.mark.browser

GATE_OUTCOMES = {"passed", "FAILED", "overridden", "not run"}
# Characters drawn as colour emoji by default: they need an emoji font, or show an empty box.
_EMOJI_IN_BMP = {0x231A, 0x231B, 0x23F3, 0x2705, 0x274C, 0x274E, 0x2753, 0x2754, 0x2755, 0x2757}
_EMOJI_IN_BMP |= {0x2B50, 0x2B55, 0xFE0F}


def emoji_in(text: str) -> list[str]:
    """The characters of text that only an emoji font draws."""
    return [c for c in text if ord(c) >= 0x1F000 or ord(c) in _EMOJI_IN_BMP]


def _settle(page) -> None:
    """Wait for the script to finish twice around a short pause (a rerun may follow)."""
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)
    page.wait_for_timeout(700)
    page.wait_for_selector(SCRIPT_DONE, timeout=90_000)


def _open(chromium, url: str):
    """A fresh page on url, settled."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(url, wait_until="domcontentloaded")
    _settle(page)
    return page


def test_gate_results_render_as_words_and_font_icons(chromium, dashboard_url: str) -> None:
    # given the Promotion page
    page = _open(chromium, f"{dashboard_url}/promotion")
    # when the checklist is run (it writes nothing)
    page.get_by_role("button", name="Run the checklist (writes nothing)").click()
    page.wait_for_timeout(500)
    _settle(page)
    # then the gate list is visible, each outcome is a word, and no cell needs an emoji font
    gates = page.locator("[data-testid=stDataFrame]").filter(has_text="run finished")
    gates.first.wait_for(state="visible", timeout=60_000)
    cells = gates.first.locator("td, [role=gridcell]").all_text_contents()
    outcomes = cells[1::3]
    assert len(cells) % 3 == 0 and outcomes and set(outcomes) <= GATE_OUTCOMES, cells
    assert emoji_in(" ".join(cells)) == []
    # and every icon on the page is a glyph of the bundled icon font: an icon whose font failed
    # would show its name as text ("check_circle"), far wider than tall
    icons = page.locator("[data-testid=stIconMaterial]")
    assert icons.count() > 0
    for index in range(icons.count()):
        box = icons.nth(index).bounding_box()
        if box is not None and box["height"] > 0:
            assert box["width"] <= 1.5 * box["height"], icons.nth(index).inner_text()
    assert emoji_in(page.locator("[data-testid=stMain]").inner_text()) == []
    assert page.locator("[data-testid=stException]").count() == 0
    page.close()


def test_borderline_edit_survives_a_threshold_change(chromium, dashboard_url: str) -> None:
    # given What-if on a borderline applicant whose debt-to-income the user edited
    page = _open(chromium, f"{dashboard_url}/whatif")
    page.locator(".st-key-whatif_source").get_by_text("Borderline", exact=True).click()
    _settle(page)
    picker = page.locator(".st-key-whatif_borderline")
    picked = picker.inner_text()
    field = page.locator('input[aria-label^="debt_to_income"]').first
    field.fill("0.77")
    field.press("Enter")
    page.wait_for_timeout(500)
    _settle(page)
    # when the threshold moves far enough to change which applicants are closest
    threshold = page.locator(".st-key-whatif_threshold input")
    threshold.fill("0.15")
    threshold.press("Enter")
    page.wait_for_timeout(500)
    _settle(page)
    # then the same applicant stays picked, with the user's edit in the form
    assert page.locator(".st-key-whatif_threshold input").input_value() == "0.1500"
    assert picker.inner_text() == picked
    assert page.locator('input[aria-label^="debt_to_income"]').first.input_value() == "0.77"
    assert page.get_by_text("What changed").count() >= 1
    assert page.locator("[data-testid=stException]").count() == 0
    page.close()
