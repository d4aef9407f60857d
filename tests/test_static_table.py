"""The static first-view table: the grid's headers and formats, every value escaped, and the
Runs page's first (unpainted) view showing it in place of the grid."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from tests.helpers.apptest_helpers import exceptions, open_page
from ui.shared.static_table import cell_html, grid_height, grid_scripts, table_html

NUMBER = st.column_config.NumberColumn("★ val AUC", format="%.4f", help='AUC "on" <val>')
CONFIG = {
    "run_name": st.column_config.TextColumn("Run"),
    "auc": NUMBER,
    "started": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm"),
    "model": st.column_config.CheckboxColumn("Model"),
    "link": st.column_config.LinkColumn("Diagnostics", display_text="open ↗"),
    "share": st.column_config.NumberColumn("Share", format="percent"),
    "hidden": None,
    "plain": "Plain label",
}


def _frame() -> pd.DataFrame:
    """Two rows, one with a hostile name and every value missing."""
    return pd.DataFrame(
        {
            "run_name": ["<script>alert(1)</script> & co", "plain"],
            "auc": [0.83079, math.nan],
            "started": [pd.Timestamp("2026-12-07 02:05:59"), pd.NaT],
            "model": [True, False],
            "link": ['/diagnostics?run_id=a"b', None],
            "share": [0.125, None],
            "hidden": ["secret", "secret"],
            "plain": [3, 4],
        }
    )


def test_cells_follow_the_column_formats() -> None:
    # given the grid's column configs / when cells are rendered / then they read as the grid's
    assert cell_html(0.83079, CONFIG["auc"]) == "0.8308"
    assert cell_html(pd.Timestamp("2026-12-07 02:05:59"), CONFIG["started"]) == "2026-12-07 02:05"
    assert cell_html(True, CONFIG["model"]) == "✓" and cell_html(False, CONFIG["model"]) == ""
    assert cell_html(0.125, CONFIG["share"]) == "12.50%"
    assert cell_html(math.nan, CONFIG["auc"]) == "" and cell_html(None, None) == ""
    assert cell_html(math.inf, CONFIG["auc"]) == "inf"
    link = cell_html('/diagnostics?run_id=a"b', CONFIG["link"])
    assert link == '<a href="/diagnostics?run_id=a&quot;b">open ↗</a>'


def test_the_table_escapes_names_hides_none_columns_and_scrolls_at_its_height() -> None:
    # given a frame with a hostile run name, a hidden column and a label-only column
    markup = table_html(_frame(), list(CONFIG), CONFIG, grid_height(2))
    # then nothing of the name is markup, the hidden column is absent, labels are the config's
    assert "<script>" not in markup and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in markup
    assert "secret" not in markup and ">Plain label</th>" in markup
    assert 'title="AUC &quot;on&quot; &lt;val&gt;"' in markup
    assert "max-height:110px" in markup and markup.count("<tr>") == 3
    # and numbers are right-aligned, as the grid draws them, texts left
    assert 'text-align:right">0.8308</td>' in markup and 'nowrap;height:34px">plain</td>' in markup
    # and an order naming columns the frame lacks shows only those it has
    assert table_html(_frame(), ["plain", "absent"], CONFIG, 100).count("</th>") == 1


def test_grid_script_is_found_in_streamlits_static_folder() -> None:
    # given the installed Streamlit / then the grid's script is one file beside its index
    (name,) = grid_scripts()
    assert name.startswith("DataFrame.") and name.endswith(".js")


def test_a_fresh_tabs_runs_page_shows_the_static_tables_then_the_grids(file_store, app_env):
    # given the Runs page opened by a browser tab that has not painted a view yet
    app_env(file_store.uri)
    at = open_page("pages/runs.py", painted=False)
    # then there is no grid, and the runs and stability tables are static HTML of the runs
    assert exceptions(at) == []
    assert len(at.dataframe) == 0
    tables = [h.proto.body for h in at.get("html") if "staticTable" in h.proto.body]
    assert len(tables) == 2
    assert all(name in tables[0] for name in ("governed_a", "governed_b"))
    # when the browser says it painted (as the boxes' component does)
    at.session_state["figures_after_paint_painted"] = True
    at.run()
    # then both are grids with the same runs
    assert exceptions(at) == []
    assert {"governed_a", "governed_b"} <= set(at.dataframe[0].value["run_name"])
    assert not [h for h in at.get("html") if "staticTable" in h.proto.body]
