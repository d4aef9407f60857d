"""Entry point: page config, settings, the shared sidebar, and navigation over pages/."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.errors import SettingsError
from core.settings import load_settings, prepare_mlflow_environment
from ui.shared.context import set_context
from ui.shared.selection import attach_sidebar_slot
from ui.shared.sidebar import draw_sidebar
from ui.shared.warmup import warm_imports_once

# Shipped with the app: a material-icon page icon is fetched from the internet.
ICON = Path(__file__).resolve().parent / "assets" / "icon.png"

st.set_page_config(page_title="Credit-risk model governance", page_icon=str(ICON), layout="wide")

try:
    settings = load_settings()
except SettingsError as exc:
    st.error(f"**Configuration error.** {exc}")
    st.stop()
prepare_mlflow_environment(settings.tracking_uri)

RUNS = st.Page("pages/runs.py", title="Runs", icon=":material/table_chart:", url_path="runs")


def open_runs() -> None:
    """The root URL opens the Runs page at its own address, so /runs is a route like any page."""
    st.switch_page(RUNS, query_params={k: st.query_params.get_all(k) for k in st.query_params})


PAGES = [
    st.Page(open_runs, title="Home", url_path="home", default=True, visibility="hidden"),
    RUNS,
    st.Page(
        "pages/diagnostics.py",
        title="Model diagnostics",
        icon=":material/monitoring:",
        url_path="diagnostics",
    ),
    st.Page("pages/whatif.py", title="What-if scoring", icon=":material/tune:", url_path="whatif"),
    st.Page(
        "pages/promotion.py",
        title="Promotion",
        icon=":material/rocket_launch:",
        url_path="promotion",
    ),
    st.Page(
        "pages/monitoring.py", title="Monitoring", icon=":material/sensors:", url_path="monitoring"
    ),
]
navigation = st.navigation(PAGES)
set_context(draw_sidebar(settings))
attach_sidebar_slot()
navigation.run()
# After the first page is drawn (not before: it would compete with it), warm what the next
# page would pay on first use, once per server process.
warm_imports_once()
