"""Runs: the open experiment's runs, what each carries, and their CV stability at a glance."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.context import get_context, require_runs

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

st.caption(
    f"{len(runs)} run(s) in **{context.experiment.name}**"
    + (
        f", {len(table.children)} nested child run(s) grouped under their parents"
        if len(table.children)
        else ""
    )
)


def _metric(name: str) -> pd.Series:
    """A metric column, or an empty column when no run logged it."""
    column = f"metrics.{name}"
    return runs[column] if column in runs.columns else pd.Series(float("nan"), index=runs.index)


view = pd.DataFrame(
    {
        "run_name": runs["run_name"],
        "status": runs["status"],
        "start_time": runs["start_time"].dt.tz_convert(None),
        "val_auc": _metric("val_auc"),
        "val_ks": _metric("val_ks"),
        "cv_auc_mean": runs["cv_auc_mean"],
        "cv_auc_std": runs["cv_auc_std"],
        "cv_auc_min": runs["cv_auc_min"],
        "data_version": runs["data_version"],
        "model": runs["has_model"],
        "validation_set": runs["has_validation_set"],
        "child_runs": runs["n_child_runs"],
        "run_id": runs["run_id"],
    }
)
st.dataframe(
    view,
    hide_index=True,
    width="stretch",
    key="runs_table",
    column_config={
        "run_name": st.column_config.TextColumn("Run", help="Run name (shown as text)"),
        "status": st.column_config.TextColumn("Status"),
        "start_time": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm"),
        "val_auc": st.column_config.NumberColumn("val AUC", format="%.4f"),
        "val_ks": st.column_config.NumberColumn("val KS", format="%.4f"),
        "cv_auc_mean": st.column_config.NumberColumn("CV AUC mean", format="%.4f"),
        "cv_auc_std": st.column_config.NumberColumn("CV AUC std", format="%.4f"),
        "cv_auc_min": st.column_config.NumberColumn("Worst fold AUC", format="%.4f"),
        "data_version": st.column_config.TextColumn("Data version"),
        "model": st.column_config.CheckboxColumn("Model"),
        "validation_set": st.column_config.CheckboxColumn("Validation set"),
        "child_runs": st.column_config.NumberColumn("Child runs"),
        "run_id": st.column_config.TextColumn("Run id", help="Double-click to copy"),
    },
)
missing_cv = int(runs["cv_auc_mean"].isna().sum())
missing_model = int((~runs["has_model"]).sum())
notes = []
if missing_cv:
    notes.append(
        f"{missing_cv} run(s) logged no CV folds (empty CV columns): "
        "retrain with `python -m core train`."
    )
if missing_model:
    notes.append(
        f"{missing_model} run(s) logged no model: they cannot be diagnosed, scored or promoted."
    )
if "metrics.val_ks" not in runs.columns or runs["metrics.val_ks"].isna().any():
    notes.append(
        "Empty KS means the run did not log val_ks; "
        "Model diagnostics computes it from labelled data."
    )
for note in notes:
    st.caption("ℹ️ " + note)
