"""Figures after the first paint: a tab's first view shows its page, then its Plotly figures.

Chromium compiles Plotly's 4.7 MB script on its main thread for the first figure a browser tab
shows (about 2 s here), and Streamlit shows none of the page's new elements (controls, tables,
numbers) until that script is ready. So, until this session's browser has said it painted a
view, each figure is drawn as a box of the figure's height saying it is on its way; the box is a
small component that, once the page's other elements are on screen, sends "painted", and the
rerun that follows draws the figures in the boxes' places. From then on the session draws its
figures at once (the tab has Plotly's script). No click is needed, and no figure is shown with
data of an earlier run: the figures are built by the rerun itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

PAINTED_KEY = "figures_after_paint_painted"
COMPONENT_NAME = "figure_after_paint"
EVENT = "painted"
PENDING_TEXT = "Drawing the chart…"
PLOTLY_DEFAULT_HEIGHT = 450
# Sent once the script has finished and the page shows no Streamlit skeleton (an element whose
# code is still loading), or after WAIT_MS at most; sent again if the box is still there
# RETRY_MS later with the script idle (the rerun it asked for was lost).
_JS = """
const WAIT_MS = 10000, RETRY_MS = 5000, PRELOAD_MS = 5000;
const onScreen = () =>
  !!document.querySelector("[data-testid=stApp][data-test-script-state=notRunning]")
  && !document.querySelector("[data-testid=stSkeleton]");
// Streamlit's own lazily loaded scripts that some box of the page wants (named by the server,
// beside its index script), loaded once per tab after the view is on screen and before any box
// asks for the rerun; a failure or PRELOAD_MS without an answer does not hold the rerun back.
const wanted = (window.__fapWanted ||= new Set());
const preloaded = () => {
  const index = document.querySelector("script[src*='/static/js/index.']");
  const cache = (window.__fapPreloads ||= {});
  const loads = (index ? [...wanted] : []).map((name) =>
    (cache[name] ||= import(new URL(name, index.src).href).catch(() => null)));
  const cap = new Promise((resolve) => setTimeout(resolve, PRELOAD_MS));
  return Promise.race([Promise.allSettled(loads), cap]);
};
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let box = parentElement.querySelector(".fap-box");
  if (!box) {
    box = document.createElement("div");
    box.className = "fap-box";
    box.setAttribute("data-figure-pending", "");
    parentElement.append(box);
  }
  box.textContent = data.text;
  box.style.height = data.height + "px";
  (data.preload || []).forEach((name) => wanted.add(name));
  if (parentElement.__fapAsked) return;
  parentElement.__fapAsked = true;
  let timer = null;
  const ask = (deadline) => {
    if (!parentElement.isConnected) return;
    if (!onScreen() && performance.now() < deadline) {
      return requestAnimationFrame(() => ask(deadline));
    }
    preloaded().then(() => {
      timer = setTimeout(() => {  // after this frame is painted
        if (!parentElement.isConnected) return;
        setTriggerValue("painted", true);
        // Still here RETRY_MS later, with the script idle: the rerun was lost, ask again.
        timer = setTimeout(() => ask(Infinity), RETRY_MS);
      }, 0);
    });
  };
  requestAnimationFrame(() => ask(performance.now() + WAIT_MS));
  return () => { parentElement.__fapAsked = false; clearTimeout(timer); };
}
"""
_CSS = """
.fap-box { box-sizing: border-box; display: flex; align-items: center; justify-content: center;
  border: 1px dashed currentColor; border-radius: 0.5rem; opacity: 0.45; font-size: 0.875rem; }
"""

_mount = st.components.v2.component(
    COMPONENT_NAME, css=_CSS, js=_JS, isolate_styles=False
)  # class names are prefixed fap-; the bench and browser tests read data-figure-pending


def painted() -> bool:
    """Whether this session's browser has painted a view, so figures are drawn at once."""
    return bool(st.session_state.get(PAINTED_KEY, False))


def mark_painted() -> None:
    """The browser painted a view: from now on this session draws its figures at once."""
    st.session_state[PAINTED_KEY] = True


def _inside(target: Any) -> AbstractContextManager:
    """Draw into target (a column or container), or where st draws now."""
    return target if isinstance(target, DeltaGenerator) else nullcontext()


def plotly_chart(target: Any, figure: go.Figure, pending_key: str, **options: Any) -> None:
    """`target.plotly_chart(figure, **options)` once the session's browser has painted a view;
    before that a box of the figure's height (keyed pending_key) that asks for it."""
    if painted():
        target.plotly_chart(figure, **options)
        return
    height = int(figure.layout.height or PLOTLY_DEFAULT_HEIGHT)
    with _inside(target):
        waiting_box(pending_key, height)


def waiting_box(
    key: str, height: int, text: str = PENDING_TEXT, preload: Sequence[str] = ()
) -> None:
    """A box of height pixels saying text, which asks for the figures once the page is on
    screen (a part of a page drawn only when painted() is true waits in such a box). Every box
    first waits for the scripts any box of the page names in preload (files beside Streamlit's
    index script), so what the rerun draws is not a skeleton while they load."""
    _mount(
        key=key,
        data={"height": height, "text": text, "preload": list(preload)},
        height=height,
        on_painted_change=mark_painted,
    )
