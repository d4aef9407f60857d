"""The threshold workbench: a bidirectional component that previews thresholds in the browser.

It gets the policy grid (core.evaluation.threshold_policy.policy_grid) and the light chart specs
once per score table, computes every number policy_at gives for the previewed threshold on the
client, and sends the chosen value back as the trigger "use" ("Use this threshold").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

_HERE = Path(__file__).parent
COMPONENT_NAME = "threshold_workbench"
TRIGGER = "use"

_mount = st.components.v2.component(
    COMPONENT_NAME,
    css=(_HERE / "workbench.css").read_text(encoding="utf-8"),
    js=(_HERE / "workbench.js").read_text(encoding="utf-8"),
    isolate_styles=False,  # class names are prefixed tw-; the page's tests can read the numbers
)


def threshold_workbench(key: str, data: dict, on_use: Callable[[], None]) -> None:
    """Mount the workbench; on_use runs when the analyst presses "Use this threshold".

    The value sent back is in st.session_state[key][TRIGGER] during that callback.
    """
    _mount(key=key, data=data, on_use_change=on_use)
