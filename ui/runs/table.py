"""The runs table with row ticks kept in step with the URL-bound selection, and its links."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from core.runs import analysis as runs_analysis
from core.runs.stability import StabilityRule
from core.runs.views import sync_selection, table_column_order
from core.settings import DEFAULT_OVERFIT_GAP
from core.store.access import RunsTable, run_inventory
from ui.shared.figures_after_paint import painted
from ui.shared.static_table import HEADER_HEIGHT, ROW_HEIGHT, grid_waiting_box, static_table

DIAGNOSTICS_PAGE, WHATIF_PAGE = "pages/diagnostics.py", "pages/whatif.py"
LINK_PATHS = {"diagnostics": "/diagnostics", "whatif": "/whatif"}
MAX_LINKED_RUNS = 6
PAGE_ROWS = 200  # rows sent to the browser per rerun: a 20,000-row grid serialises every row
PAGE_KEY = "runs_page"
TABLE_PREVIOUS_KEY = "_runs_table_previous"
TABLE_KEY = "runs_table"  # one key: the grid stays mounted across filters and pages
TABLE_VIEW_KEY = "_runs_table_view"
TABLE_PENDING_KEY = "runs_table_pending"
MAX_TABLE_HEIGHT = 420  # pixels: about eleven rows, then the grid scrolls
TICKS_PENDING_TEXT = "Row ticks and column sorting come in a moment…"


def _column_config(primary: str, rule: StabilityRule, extra_columns: list[str]) -> dict:
    """Headers, formats and help texts of the runs table."""
    label = runs_analysis.metric_label(primary)
    number = st.column_config.NumberColumn
    config = {
        "run_name": st.column_config.TextColumn("Run", pinned=True),
        "role": st.column_config.TextColumn(
            "Role", width=90, help="Champion: the promoted run, in force in production"
        ),
        "status": st.column_config.TextColumn("Status"),
        "start_time": st.column_config.DatetimeColumn(
            "Started (UTC)", format="YYYY-MM-DD HH:mm", width=140
        ),
        "primary": number(
            f"★ {label}", format="%.4f", help=f"Primary metric; empty: run has no {label}"
        ),
        "val_auc": number("val AUC", format="%.4f", help="Empty: the run logged no val_auc"),
        "val_ks": number(
            "val KS",
            format="%.4f",
            help="Empty: the run logged no val_ks; Model diagnostics computes it from labelled "
            "data",
        ),
        "cv_auc_mean": number("CV AUC mean", format="%.4f", help="Empty: no CV folds logged"),
        "cv_auc_std": number("± std", format="%.4f"),
        "cv_auc_min": number("Worst fold", format="%.4f"),
        "cv_ks_mean": number("CV KS mean", format="%.4f"),
        "stability": st.column_config.TextColumn(
            "Stability", help=rule.describe() + ". The CV stability tab explains each verdict."
        ),
        "overfit": st.column_config.TextColumn(
            "Overfit",
            help=f"Train AUC − mean CV AUC above {DEFAULT_OVERFIT_GAP:g}.",
            width=90,
        ),
        "data_version": st.column_config.TextColumn("Data version"),
        "child_runs": number("Child runs", help="Nested (fold) runs"),
        "model": st.column_config.CheckboxColumn("Model"),
        "diagnostics": st.column_config.LinkColumn("Diagnostics", display_text="open ↗"),
        "whatif": st.column_config.LinkColumn("What-if", display_text="open ↗"),
        "run_id": st.column_config.TextColumn("Run id", help="Select the cell and copy"),
    }
    for column in extra_columns:
        if column.startswith("metrics."):
            config[column] = number(runs_analysis.metric_label(column), format="%.4f")
        else:
            config[column] = st.column_config.TextColumn(column.replace(".", ": ", 1))
    return config


def extra_column_picker(table: RunsTable) -> list[str]:
    """The URL-bound 'Add columns' picker over every param, metric and tag."""
    runs = table.runs
    choices = [
        c for c in [*table.param_columns, *table.metric_columns, *table.tag_columns]
        if c in runs.columns
    ]  # fmt: skip
    return st.multiselect(
        "Add columns",
        choices,
        key="cols",
        bind="query-params",
        format_func=lambda c: c.replace(".", ": ", 1),
        placeholder="Any param, metric or tag",
    )


def table_page(view: pd.DataFrame, ranked_by: str) -> pd.DataFrame:
    """The rows of the chosen page of a ranked view; a page picker when there is more than one.

    The ranking (and the filters) cover every row; the grid's own column sorting orders the
    rows of the page shown.
    """
    pages = max(1, -(-len(view) // PAGE_ROWS))
    if pages == 1:
        return view
    if st.session_state.get(PAGE_KEY) not in range(1, pages + 1):
        st.session_state[PAGE_KEY] = 1  # the filters changed the page count
    left, right = st.columns([1, 4], vertical_alignment="bottom")
    page = left.selectbox("Page", list(range(1, pages + 1)), key=PAGE_KEY)
    first = (page - 1) * PAGE_ROWS
    last = min(first + PAGE_ROWS, len(view))
    right.caption(
        f"Rows {first + 1:,}–{last:,} of {len(view):,}, ranked by "
        f"{runs_analysis.metric_label(ranked_by)} over all rows; a column header sorts this "
        "page only."
    )
    return view.iloc[first:last]


def _selected_before(label_of: dict[str, str]) -> list[str]:
    """The selection of the last script run, or the URL's on the first."""
    if "run" in st.session_state:
        return [r for r in st.session_state["run"] if r in label_of]
    return [r for r in st.query_params.get_all("run") if r in label_of]


def _ticks_shown(view_ids: list[str]) -> set[str] | None:
    """The runs the grid shows ticked now (its state from the browser), if it shows view_ids.

    None when the grid showed other rows on the last run (a filter, a page or the data
    changed): its ticks are then row numbers of those other rows, and mean nothing here.
    """
    previous_view = st.session_state.get(TABLE_VIEW_KEY)
    state = st.session_state.get(TABLE_KEY)
    if previous_view != _view_signature(view_ids) or state is None:
        return None
    return {view_ids[i] for i in state["selection"]["rows"] if i < len(view_ids)}


def _view_signature(view_ids: list[str]) -> str:
    """A short key of the rows the grid shows, in order."""
    return hashlib.sha1("\n".join(view_ids).encode()).hexdigest()[:16]


def _tick(view_ids: list[str], runs: list[str]) -> None:
    """Set the grid's ticks to runs (those of view_ids) before it is drawn."""
    rows = [view_ids.index(r) for r in runs if r in view_ids]
    st.session_state[TABLE_KEY] = {"selection": {"rows": rows, "columns": [], "cells": []}}


def runs_table(
    view: pd.DataFrame,
    label_of: dict[str, str],
    primary: str,
    rule: StabilityRule,
    extra_columns: list[str],
) -> list[str]:
    """Show the table page view with tickable rows and the 'Selected runs' box; return the
    selection. The box offers the selected runs and this page's runs only (not every run).

    The grid keeps one key, so it stays mounted across filters and pages (redrawing only its
    rows). Its ticks and the box (mirrored in the URL) are kept in step: ticks added or removed
    since the last run of the same rows are applied to the selection; when the rows change, or
    the box changed the selection, the grid's ticks are set from the selection, so a tick left
    on a row number from other rows never reaches the selection.
    """
    view_ids = list(view["run_id"])
    selected_before = _selected_before(label_of)
    order = table_column_order(primary, extra_columns, view.columns)
    config = _column_config(primary, rule, extra_columns)
    height = min(MAX_TABLE_HEIGHT, HEADER_HEIGHT + ROW_HEIGHT * max(len(view), 1))
    if not painted():  # a fresh tab: the rows at once, the grid once the page is on screen
        static_table(view, order, config, height)
        grid_waiting_box(TABLE_PENDING_KEY, TICKS_PENDING_TEXT)
        return _selected_runs(selected_before, view_ids, label_of)
    wanted = set(selected_before) & set(view_ids)
    ticks_now = _ticks_shown(view_ids)
    previous_key, previous = st.session_state.get(TABLE_PREVIOUS_KEY, (None, None))
    if ticks_now is None or (ticks_now == previous and ticks_now != wanted):
        _tick(view_ids, selected_before)  # new rows, or the box changed: the grid follows
    event = st.dataframe(
        view,
        hide_index=True,
        column_order=order,
        width="stretch",
        height=height,
        key=TABLE_KEY,
        column_config=config,
        on_select="rerun",
        selection_mode="multi-row",
        placeholder="",
    )
    ticked = {view_ids[i] for i in event.selection.rows if i < len(view_ids)}
    baseline = previous if previous_key == TABLE_KEY and ticks_now is not None else wanted
    st.session_state["run"] = sync_selection(selected_before, view_ids, ticked, baseline)
    st.session_state[TABLE_PREVIOUS_KEY] = (TABLE_KEY, ticked)
    st.session_state[TABLE_VIEW_KEY] = _view_signature(view_ids)
    return _selected_runs(st.session_state["run"], view_ids, label_of)


def _selected_runs(
    selection: list[str], view_ids: list[str], label_of: dict[str, str]
) -> list[str]:
    """The 'Selected runs' box over the selection and this page's runs, mirrored in the URL."""
    st.session_state["run"] = selection
    selected = st.multiselect(
        "Selected runs (tick rows above, or pick from this page's runs)",
        list(dict.fromkeys([*selection, *view_ids])),
        key="run",
        format_func=lambda r: f"{label_of[r]} · {r[:8]}",
    )
    # Not bound with bind=: a bound widget writes its formatted labels to the URL, not run ids.
    if selected:
        st.query_params["run"] = selected
    elif "run" in st.query_params:
        del st.query_params["run"]
    return selected


def selected_run_links(table: RunsTable, selected: list[str], label_of: dict[str, str]) -> None:
    """Per selected run: links to its pages and what it lacks."""
    for run_id in selected[:MAX_LINKED_RUNS]:
        name_col, diag_col, whatif_col = st.columns([3, 2, 2])
        name_col.markdown(f"**{label_of[run_id]}** `{run_id[:8]}`")
        diag_col.page_link(
            DIAGNOSTICS_PAGE,
            label="Model diagnostics",
            icon=":material/monitoring:",
            query_params={"run_id": run_id},
        )
        whatif_col.page_link(
            WHATIF_PAGE,
            label="What-if scoring",
            icon=":material/tune:",
            query_params={"run_id": run_id},
        )
        for missing in run_inventory(table, run_id).missing:
            name_col.caption(missing)
    if len(selected) > MAX_LINKED_RUNS:
        st.caption(f"Links shown for the first {MAX_LINKED_RUNS}; every row links in the table.")
