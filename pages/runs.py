"""Runs: compare runs and their CV stability, and pick the winner the way a validator would."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.runs import analysis as runs_analysis
from core.runs import views
from core.scoring.feature_policy import load_feature_policy
from ui.runs import cache as cached
from ui.runs import compare, controls, stability, summary
from ui.runs import table as runs_table
from ui.shared import selection
from ui.shared.context import get_context, require_runs
from ui.shared.markdown_text import literal, with_literal_names

context = get_context()
st.title("Runs")
table = require_runs(context)
runs = table.runs
if runs.empty:
    st.info(
        f"Experiment '{literal(context.experiment.name)}' has no runs yet. Train some with "
        "`python -m core train --demo`."
    )
    st.stop()

fingerprint = cached.runs_fingerprint(runs)
label_of = cached.run_labels(fingerprint, runs)
champion = selection.champion_run_id(context.settings)
caption = views.runs_caption(len(runs), len(table.children), context.experiment.name)
st.caption(with_literal_names(caption))
policy = load_feature_policy(context.settings.feature_policy_file)
if protected := views.protected_input_note(runs, policy):
    st.warning(with_literal_names(protected), icon=":material/gpp_maybe:")
metric_options = runs_analysis.primary_metric_options(runs)
primary, rule = controls.primary_and_rule(metric_options)
selection.remember_stability_rule(rule)  # Promotion, What-if and Diagnostics use it too
flags = cached.stability_flags(fingerprint, rule, runs)


@st.fragment
def filtered_runs() -> None:
    """Everything a filter, a tick, a page or a tab changes: reruns alone on those widgets.

    It reads the page's values of its last full run: the store read, labels, primary metric,
    stability rule and every run's verdict, which no widget in here changes. A change to any
    of those reruns the whole page, this included.
    """
    run_filter = controls.run_filter(table, metric_options)
    if problem := run_filter.range_problem():
        st.warning(problem, icon=":material/swap_vert:")
    shown = runs_analysis.apply_filter(runs, run_filter)
    summary.recommendation_banner(context.settings, runs, shown, rule, primary, flags)
    extra_columns = runs_table.extra_column_picker(table)
    if run_filter.describe():
        st.caption(f"Showing {len(shown)} of {len(runs)} runs: " + "; ".join(run_filter.describe()))
    if shown.empty:
        st.info("No run matches these filters. Clear a filter to see runs again.")
    ranked = views.rank_runs(shown, primary)
    view = runs_analysis.table_view(
        ranked,
        primary,
        flags.map(views.FLAG_TEXT),
        extra_columns,
        link_paths=runs_table.LINK_PATHS,
        champion=champion,
    )
    page = runs_table.table_page(view, primary)
    selected = runs_table.runs_table(page, label_of, primary, rule, extra_columns)
    runs_table.selected_run_links(table, selected, label_of)
    for note in views.table_notes(runs):
        st.caption(":material/info: " + note)

    analysis_tabs(ranked, selected)


def analysis_tabs(ranked: pd.DataFrame, selected: list[str]) -> None:
    """The open analysis tab over the ranked, filtered runs and the selection."""
    # Only the open tab runs (on_change="rerun"); the open tab is part of the shared link too.
    stability_tab, compare_tab, effects_tab, children_tab = st.tabs(
        ["CV stability", "Compare selected runs", "Which hyper-parameters matter", "Child runs"],
        key="tab",
        on_change="rerun",
        bind=controls.URL,
    )
    with stability_tab:
        if stability_tab.open:
            stability.stability_tab(
                context.tracking_uri, table, ranked, selected, rule, label_of, primary
            )
    with compare_tab:
        if compare_tab.open:
            compare.compare_tab(
                runs,
                ranked,
                selected,
                table.param_columns,
                metric_options,
                primary,
                label_of,
                tracking_uri=context.tracking_uri,
                champion=champion,
            )
    with effects_tab:
        if effects_tab.open:
            compare.effects_tab(runs, primary)
    with children_tab:
        if children_tab.open:
            compare.children_tab(table.children, runs)


filtered_runs()
