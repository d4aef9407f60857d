"""The Runs page's CV stability tab: verdicts with their numbers, fold plots and AUC gaps."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.charts import runs as charts
from core.runs import analysis as runs_analysis
from core.runs import views
from core.runs.stability import StabilityRule, stability_verdicts
from core.store.access import RunsTable
from ui.runs import cache as cached
from ui.shared import figures_after_paint
from ui.shared.markdown_text import literal
from ui.shared.static_table import dataframe_after_paint

MAX_DEFAULT_FOLD_RUNS = 5
STATIC = {"staticPlot": True}  # no hover layer: the summary above gives every number
_NUMBER = st.column_config.NumberColumn


def _summary_config(rule: StabilityRule) -> dict:
    """Headers and help texts of the stability summary."""
    stats = {
        c: _NUMBER(f"{c.split('_')[1].upper()} {c.split('_')[2]}", format="%.4f")
        for c in views.SUMMARY_STAT_COLUMNS
    }
    return {
        "run_name": st.column_config.TextColumn("Run"),
        **stats,
        "expected_std": _NUMBER(
            "Noise std", format="%.4f", help="Fold AUC std sampling noise alone gives"
        ),
        "p_value": _NUMBER("p-value", format="%.3g", help="χ² test of the spread against noise"),
        "worst_fold_se": _NUMBER("Worst fold (SE below mean)", format="%.1f"),
        "sizes": st.column_config.TextColumn(
            "Fold sizes", help="logged at training, estimated from rows × bad rate, or unknown"
        ),
        "stability": st.column_config.TextColumn("Stability", help=rule.describe()),
        "folds": _NUMBER("Folds"),
        "source": st.column_config.TextColumn(
            "CV logged as", help="step metric, named per-fold metrics, child runs, or summary"
        ),
    }


def _folds_of(context_uri: str, table: RunsTable, chosen: pd.DataFrame) -> pd.DataFrame:
    """The chosen runs' folds, reading histories for runs the table holds only summaries of."""
    folds = table.folds[table.folds["run_id"].isin(chosen["run_id"])]
    fetched = [cached.run_folds(context_uri, r) for r in views.folds_to_fetch(chosen, folds)]
    return pd.concat([folds, *fetched], ignore_index=True) if fetched else folds


def stability_tab(
    tracking_uri: str,
    table: RunsTable,
    ranked: pd.DataFrame,
    selected: list[str],
    rule: StabilityRule,
    label_of: dict[str, str],
    primary: str,
) -> None:
    """Verdicts explained in a sentence each, fold AUC/KS per run, and the train/CV/val gap."""
    focus = selected or list(ranked["run_id"][:MAX_DEFAULT_FOLD_RUNS])
    if not selected:
        st.caption(
            f"No run selected: showing the top {len(focus)} run(s) shown by "
            f"{runs_analysis.metric_label(primary)}. Tick rows in the table to choose."
        )
    chosen = runs_analysis.selected_in_order(table.runs, focus)
    verdicts = stability_verdicts(chosen, rule)
    dataframe_after_paint(
        views.stability_summary(chosen, verdicts),
        width="stretch",
        placeholder="",
        column_config=_summary_config(rule),
        key="stability_summary",  # stays mounted across filters: only its rows change
    )
    for name, sentence in zip(chosen["run_name"], verdicts["explanation"], strict=True):
        st.markdown(f"- **{literal(name)}**: {sentence}")
    folds = _folds_of(tracking_uri, table, chosen)
    focus_labels = {r: label_of[r] for r in focus}
    if folds.empty:
        st.info(
            "None of these runs logged per-fold CV metrics, so there are no folds to plot. "
            "Log cv_auc with step = fold, per-fold metrics (cv_auc_fold_0…) or nested runs."
        )
    elif not (folds["metric"] == "ks").any():
        st.caption("No fold KS logged for these runs.")
    gaps = runs_analysis.auc_gaps(chosen)
    has_gaps = views.has_gap_data(gaps)
    if not has_gaps:
        st.info("These runs lack at least two of train_auc, CV AUC and val_auc: no gap to show.")
    if folds.empty and not has_gaps:
        return
    figures_after_paint.plotly_chart(
        st,
        charts.stability_figure(folds, gaps if has_gaps else None, focus_labels),
        "stability_figure",
        width="stretch",
        config=STATIC,
    )
    if has_gaps:
        st.caption(
            "A train AUC far above CV and validation AUC means over-fitting; CV far from "
            "validation means the validation split is unlike the training data. "
            "Runs that logged no train_auc show CV and validation only."
        )
