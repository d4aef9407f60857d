"""Runs: compare runs and their CV stability, and pick the winner the way a validator would."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from core.charts import runs as charts
from core.errors import GovernanceError
from core.promotion.manifest import read_manifest
from core.runs import analysis as runs_analysis
from core.runs.stability import (
    NO_CV,
    STABLE,
    UNSTABLE,
    StabilityRule,
    recommend_run,
    stability_flags,
)
from core.store.access import run_inventory
from ui import cache_runs
from ui.context import get_context, require_runs, show_error

URL = "query-params"
DIAGNOSTICS_PAGE, WHATIF_PAGE = "pages/diagnostics.py", "pages/whatif.py"
LINK_PATHS = {"diagnostics": "/diagnostics", "whatif": "/whatif"}
FLAG_TEXT = {STABLE: "✔ stable", UNSTABLE: "⚠ unstable", NO_CV: "— no CV logged"}
DEFAULT_RULE = StabilityRule()
MAX_DEFAULT_FOLD_RUNS = 5
MAX_LINKED_RUNS = 6
TABLE_PREVIOUS_KEY = "_runs_table_previous"


def _column_picker(container, label: str, columns: list[str], key: str, none_label: str) -> str:
    """A URL-bound selectbox of columns with an empty first choice; returns '' for none."""
    return container.selectbox(
        label,
        ["", *columns],
        key=key,
        bind=URL,
        format_func=lambda c: runs_analysis.metric_label(c) if c else none_label,
    )


def _show_table(frame: pd.DataFrame, column_config: dict | None = None) -> None:
    """A read-only table without index, full width, missing values left empty."""
    st.dataframe(
        frame, hide_index=True, width="stretch", placeholder="", column_config=column_config
    )


context = get_context()
st.title("Runs")
table = require_runs(context)
runs = table.runs
if runs.empty:
    st.info(
        f"Experiment '{context.experiment.name}' has no runs yet. Train some with "
        "`python -m core train --demo`."
    )
    st.stop()

label_of = runs_analysis.run_labels(runs, list(runs["run_id"]))
st.caption(
    f"{len(runs)} run(s) in **{context.experiment.name}**"
    + (
        f"; {len(table.children)} nested child run(s) are grouped under their parents"
        if len(table.children)
        else ""
    )
    + ". Selections and filters live in the page address: copy it to share exactly this view."
)

# ---- primary metric and stability rule -------------------------------------------------
metric_options = runs_analysis.primary_metric_options(runs)
left, middle, right = st.columns([2, 1, 1])
primary = left.selectbox(
    "Primary metric",
    metric_options,
    key="metric",
    bind=URL,
    format_func=runs_analysis.metric_label,
    help="Ranks runs and picks the recommendation. Losses and errors are minimised.",
)
rule_inputs = {
    key: column.number_input(
        label,
        min_value=0.0,
        max_value=1.0,
        value=value,
        step=step,
        format="%.4f",
        key=key,
        bind=URL,
    )
    for column, label, value, step, key in (
        (middle, "Stable if std(CV AUC) ≤", DEFAULT_RULE.max_std, 0.001, "max_std"),
        (right, "and worst fold ≥ mean −", DEFAULT_RULE.max_worst_fold_drop, 0.005, "max_drop"),
    )
}
rule = StabilityRule(float(rule_inputs["max_std"]), float(rule_inputs["max_drop"]))

# ---- filters ------------------------------------------------------------------------------
param_columns = table.param_columns
metric_columns = [c for c in metric_options if c in runs.columns]
filter_keys = ("q", "status", "tag", "param", "pval", "range", "min", "max")
filters_set = any(st.session_state.get(k) or k in st.query_params for k in filter_keys)
with st.expander("Filters", expanded=filters_set):
    row1 = st.columns([2, 2, 2])
    search = row1[0].text_input("Search name or run id", key="q", bind=URL)
    statuses = row1[1].multiselect(
        "Status", sorted(runs["status"].dropna().unique()), key="status", bind=URL
    )
    tag = row1[2].text_input(
        "Tag (key=value, or key)",
        key="tag",
        bind=URL,
        help="Tags present: "
        + (", ".join(runs_analysis.metric_label(c) for c in table.tag_columns) or "none"),
    )
    row2 = st.columns([2, 2, 2, 1, 1])
    param = _column_picker(row2[0], "Param", param_columns, "param", "(any)")
    values = sorted(runs[param].dropna().astype("str").unique()) if param else []
    param_values = row2[1].multiselect(
        "Param value", values, key="pval", bind=URL, disabled=not param
    )
    range_metric = _column_picker(row2[2], "Metric range", metric_columns, "range", "(none)")
    range_min = row2[3].number_input(
        "min", value=None, format="%.4f", key="min", bind=URL, disabled=not range_metric
    )
    range_max = row2[4].number_input(
        "max", value=None, format="%.4f", key="max", bind=URL, disabled=not range_metric
    )
run_filter = runs_analysis.RunFilter(
    search=search,
    statuses=tuple(statuses),
    tag=tag,
    param=param or "",
    param_values=tuple(param_values),
    range_metric=range_metric or "",
    range_min=range_min,
    range_max=range_max,
)
shown = runs_analysis.apply_filter(runs, run_filter)
flags = stability_flags(runs, rule)

# ---- recommendation -----------------------------------------------------------------------
recommendation = recommend_run(shown, rule, primary)
scope = f" (among the {len(shown)} runs shown)" if len(shown) < len(runs) else ""
if recommendation.run_id:
    st.success(
        f"**Recommended{scope}: {recommendation.run_name}.** {recommendation.reason}",
        icon=":material/emoji_events:",
    )
else:
    st.warning(f"**No recommendation{scope}.** {recommendation.reason}", icon=":material/balance:")
try:
    manifest = read_manifest(context.settings.promotion_manifest)
except GovernanceError as exc:
    manifest = None
    show_error(exc)
champion_note = runs_analysis.champion_comparison(runs, recommendation, manifest)
st.caption(champion_note or "No promotion manifest yet: there is no champion to compare with.")

# ---- runs table ---------------------------------------------------------------------------
extra_choices = [
    c for c in [*param_columns, *table.metric_columns, *table.tag_columns] if c in runs.columns
]
extra_columns = st.multiselect(
    "Add columns",
    extra_choices,
    key="cols",
    bind=URL,
    format_func=lambda c: c.replace(".", ": ", 1),
    placeholder="Any param, metric or tag",
)
if run_filter.describe():
    st.caption(f"Showing {len(shown)} of {len(runs)} runs: " + "; ".join(run_filter.describe()))
if shown.empty:
    st.info("No run matches these filters. Clear a filter to see runs again.")
ranked = shown.assign(_score=runs_analysis.numeric_column(shown, primary)).sort_values(
    "_score",
    ascending=not runs_analysis.higher_is_better(primary),
    na_position="last",
    kind="stable",
)
view = runs_analysis.table_view(
    ranked, primary, flags.map(FLAG_TEXT), extra_columns, link_paths=LINK_PATHS
)
view_ids = list(view["run_id"])
all_ids = list(runs["run_id"])
if "run" in st.session_state:
    selected_before = [r for r in st.session_state["run"] if r in label_of]
else:
    selected_before = [r for r in st.query_params.get_all("run") if r in label_of]
table_key = "runs_table_" + hashlib.sha1("".join(view_ids).encode()).hexdigest()[:12]
primary_label = runs_analysis.metric_label(primary)
column_config = {
    "run_name": st.column_config.TextColumn("Run", pinned=True),
    "status": st.column_config.TextColumn("Status"),
    "start_time": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm"),
    "primary": st.column_config.NumberColumn(
        f"★ {primary_label}",
        format="%.4f",
        help=f"Primary metric; empty: run has no {primary_label}",
    ),
    "val_auc": st.column_config.NumberColumn(
        "val AUC", format="%.4f", help="Empty: the run logged no val_auc"
    ),
    "val_ks": st.column_config.NumberColumn(
        "val KS",
        format="%.4f",
        help="Empty: the run logged no val_ks; Model diagnostics computes it from labelled data",
    ),
    "cv_auc_mean": st.column_config.NumberColumn(
        "CV AUC mean", format="%.4f", help="Empty: no CV folds logged"
    ),
    "cv_auc_std": st.column_config.NumberColumn("± std", format="%.4f"),
    "cv_auc_min": st.column_config.NumberColumn("Worst fold", format="%.4f"),
    "cv_ks_mean": st.column_config.NumberColumn("CV KS mean", format="%.4f"),
    "stability": st.column_config.TextColumn("Stability", help=rule.describe()),
    "data_version": st.column_config.TextColumn("Data version"),
    "child_runs": st.column_config.NumberColumn("Child runs", help="Nested (fold) runs"),
    "model": st.column_config.CheckboxColumn("Model"),
    "diagnostics": st.column_config.LinkColumn("Diagnostics", display_text="open ↗"),
    "whatif": st.column_config.LinkColumn("What-if", display_text="open ↗"),
    "run_id": st.column_config.TextColumn("Run id", help="Select the cell and copy"),
}
for column in extra_columns:
    if column.startswith("metrics."):
        column_config[column] = st.column_config.NumberColumn(
            runs_analysis.metric_label(column), format="%.4f"
        )
    else:
        column_config[column] = st.column_config.TextColumn(column.replace(".", ": ", 1))
# Links come right after the headline columns so they stay visible without scrolling.
column_order = [
    "run_name", "status", "primary", "val_auc", "val_ks", "cv_auc_mean", "cv_auc_std",
    "cv_auc_min", "cv_ks_mean", "stability", "diagnostics", "whatif", *extra_columns,
    "start_time", "data_version", "child_runs", "model", "run_id",
]  # fmt: skip
# The primary column already shows a headline metric when it is the one picked.
headline = {"metrics.val_auc": "val_auc", "metrics.val_ks": "val_ks"}
column_order = [c for c in column_order if c != headline.get(primary)]
event = st.dataframe(
    view,
    hide_index=True,
    column_order=[c for c in dict.fromkeys(column_order) if c in view.columns],
    width="stretch",
    height=min(420, 38 + 35 * max(len(view), 1)),
    key=table_key,
    column_config=column_config,
    on_select="rerun",
    selection_mode="multi-row",
    selection_default={
        "selection": {"rows": [view_ids.index(r) for r in selected_before if r in view_ids]}
    },
    placeholder="",
)

# The table's ticks and the "Selected runs" box (mirrored in the URL) are kept in step: ticks
# added or removed since the last run of this same table are applied to the selection.
ticked = {view_ids[i] for i in event.selection.rows if i < len(view_ids)}
previous_key, previous = st.session_state.get(TABLE_PREVIOUS_KEY, (None, None))
baseline = previous if previous_key == table_key else set(selected_before) & set(view_ids)
added, removed = ticked - baseline, baseline - ticked
st.session_state["run"] = [r for r in selected_before if r not in removed] + [
    r for r in view_ids if r in added and r not in selected_before
]
st.session_state[TABLE_PREVIOUS_KEY] = (table_key, ticked)
selected = st.multiselect(
    "Selected runs (tick rows above, or pick here)",
    all_ids,
    key="run",
    format_func=lambda r: f"{label_of[r]} · {r[:8]}",
)
# Not bound with bind=: a bound widget writes its formatted labels to the URL, not run ids.
if selected:
    st.query_params["run"] = selected
elif "run" in st.query_params:
    del st.query_params["run"]
if selected:
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

notes = []
if runs["cv_auc_mean"].isna().any():
    notes.append(
        f"{int(runs['cv_auc_mean'].isna().sum())} run(s) logged no CV folds: their CV columns "
        "are empty and they are flagged 'no CV logged' (retrain with `python -m core train`)."
    )
if (~runs["has_model"].astype(bool)).any():
    notes.append(
        f"{int((~runs['has_model'].astype(bool)).sum())} run(s) logged no model: they cannot "
        "be diagnosed, scored, recommended or promoted."
    )
if (runs["status"] != "FINISHED").all():
    notes.append("No run finished: nothing can be recommended until a run finishes.")
for note in notes:
    st.caption(":material/info: " + note)

# ---- analysis tabs ------------------------------------------------------------------------
# Only the open tab runs (on_change="rerun"); the open tab is part of the shared link too.
stability_tab, compare_tab, effects_tab, children_tab = st.tabs(
    ["CV stability", "Compare selected runs", "Which hyper-parameters matter", "Child runs"],
    key="tab",
    on_change="rerun",
    bind=URL,
)

with stability_tab:
    if stability_tab.open:
        focus = selected or list(ranked["run_id"][:MAX_DEFAULT_FOLD_RUNS])
        if not selected:
            st.caption(
                f"No run selected: showing the top {len(focus)} run(s) shown by {primary_label}. "
                "Tick rows in the table to choose."
            )
        chosen = runs_analysis.selected_in_order(runs, focus)
        summary = chosen[["run_name", *[c for c in runs_analysis.CV_STAT_COLUMNS if c in chosen]]]
        summary = summary.assign(
            folds=chosen["cv_auc_n"],
            source=chosen["cv_source"],
            stability=[FLAG_TEXT[f] for f in stability_flags(chosen, rule)],
        )
        _show_table(
            summary,
            {
                "run_name": st.column_config.TextColumn("Run"),
                **{
                    c: st.column_config.NumberColumn(
                        f"{c.split('_')[1].upper()} {c.split('_')[2]}", format="%.4f"
                    )
                    for c in runs_analysis.CV_STAT_COLUMNS
                },
                "stability": st.column_config.TextColumn("Stability", help=rule.describe()),
                "folds": st.column_config.NumberColumn("Folds"),
                "source": st.column_config.TextColumn(
                    "CV logged as",
                    help="step metric, named per-fold metrics, child runs, or summary",
                ),
            },
        )
        folds = table.folds[table.folds["run_id"].isin(focus)]
        summary_only = [
            r
            for r in chosen.loc[chosen["cv_auc_mean"].notna(), "run_id"]
            if r not in set(folds["run_id"])
        ]
        if summary_only:
            fetched = [cache_runs.run_folds(context.tracking_uri, r) for r in summary_only]
            folds = pd.concat([folds, *fetched], ignore_index=True)
        focus_labels = {r: label_of[r] for r in focus}
        if folds.empty:
            st.info(
                "None of these runs logged per-fold CV metrics, so there are no folds to plot. "
                "Log cv_auc with step = fold, per-fold metrics (cv_auc_fold_0…) or nested runs."
            )
        else:
            auc_col, ks_col = st.columns(2)
            auc_col.plotly_chart(charts.fold_figure(folds, focus_labels, "auc"), width="stretch")
            if (folds["metric"] == "ks").any():
                ks_col.plotly_chart(charts.fold_figure(folds, focus_labels, "ks"), width="stretch")
            else:
                ks_col.info("No fold KS logged for these runs.")
        gaps = runs_analysis.auc_gaps(chosen)
        if gaps[["train_auc", "cv_auc_mean", "val_auc"]].notna().sum(axis=1).ge(2).any():
            st.plotly_chart(charts.gap_figure(gaps, focus_labels), width="stretch")
            st.caption(
                "A train AUC far above CV and validation AUC means over-fitting; CV far from "
                "validation means the validation split is unlike the training data. "
                "Runs that logged no train_auc show CV and validation only."
            )
        else:
            st.info(
                "These runs lack at least two of train_auc, CV AUC and val_auc: no gap to show."
            )

with compare_tab:
    if compare_tab.open:
        if len(selected) < 2:
            st.info(
                "Select two or more runs (tick rows in the table) to compare them side by side."
            )
        else:
            diff_only = st.toggle("Differences only", value=False, key="diff", bind=URL)
            params_table = runs_analysis.compare_params(runs, selected, differences_only=diff_only)
            st.markdown("**Params**")
            if params_table.empty:
                st.caption(
                    "These runs logged identical params." if diff_only else "No params logged."
                )
            else:
                st.dataframe(params_table, width="stretch", key="compare_params")
            st.markdown("**Metrics** (Δ = difference to the first selected run)")
            st.dataframe(
                runs_analysis.compare_metrics(runs, selected),
                width="stretch",
                key="compare_metrics",
                placeholder="",
                column_config={"_index": st.column_config.TextColumn("metric")},
            )
        st.markdown("**Hyper-parameters against the primary metric**")
        scope_all = st.toggle(
            "Use every run shown in the table", value=len(selected) < 2, key="scope_all"
        )
        plot_runs = ranked if scope_all else runs_analysis.selected_in_order(runs, selected)
        varying = [c for c in param_columns if plot_runs[c].dropna().astype("str").nunique() > 1]
        if len(plot_runs) < 2 or not varying:
            st.info("Parallel coordinates need at least two runs whose params differ.")
        else:
            axes = st.multiselect(
                "Axes",
                varying,
                default=varying[:6],
                key="axes",
                format_func=runs_analysis.metric_label,
            )
            if axes:
                st.plotly_chart(charts.parallel_figure(plot_runs, axes, primary), width="stretch")
        if param_columns:
            x_col, y_col = st.columns(2)
            shown_varying = [
                c for c in param_columns if ranked[c].dropna().astype("str").nunique() > 1
            ]
            x_param = x_col.selectbox(
                "Scatter: param",
                shown_varying + [c for c in param_columns if c not in shown_varying],
                key="x",
                format_func=runs_analysis.metric_label,
                help="Params that vary among the runs shown come first.",
            )
            y_metric = y_col.selectbox(
                "against metric",
                metric_options,
                index=metric_options.index(primary),
                key="y",
                format_func=runs_analysis.metric_label,
            )
            st.plotly_chart(
                charts.scatter_figure(ranked, x_param, y_metric, selected, label_of),
                width="stretch",
            )

with effects_tab:
    if effects_tab.open:
        effects = runs_analysis.param_effects(runs, primary)
        if effects.empty:
            st.info(
                f"Not enough finished runs with {primary_label} and varying params "
                f"(at least {runs_analysis.MIN_RUNS_FOR_EFFECTS}) to say which params matter."
            )
        else:
            st.plotly_chart(charts.effects_figure(effects, primary), width="stretch")
            _show_table(
                effects,
                {
                    "param": st.column_config.TextColumn("Param"),
                    "kind": st.column_config.TextColumn("Kind"),
                    "effect": st.column_config.NumberColumn(
                        "Effect", format="%.2f", help="Spearman ρ (numeric) or η (text)"
                    ),
                    "strength": st.column_config.ProgressColumn(
                        "Strength", min_value=0.0, max_value=1.0, format="%.2f"
                    ),
                    "n_runs": st.column_config.NumberColumn("Runs"),
                    "n_values": st.column_config.NumberColumn("Distinct values"),
                    "note": st.column_config.TextColumn("Note"),
                },
            )
            st.caption(
                f"Across {int(effects['n_runs'].max())} finished run(s) of the whole experiment. "
                "Association, not causation: params changed together cannot be told apart."
            )

with children_tab:
    if children_tab.open:
        children = runs_analysis.child_runs_view(table.children, runs)
        if children.empty:
            st.caption("No nested child runs in this experiment.")
        else:
            _show_table(children)
