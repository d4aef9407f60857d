"""What-if scoring: which run to score with (the shared selection) and what it carries."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.runs.labels import run_label
from ui.shared.context import StoreContext
from ui.shared.selection import run_selectbox

RUN_KEY = "whatif_run"


@dataclass(frozen=True)
class RunChoice:
    """The run picked for scoring: its id, params and whether it logged a validation set."""

    run_id: str
    params: dict[str, str]
    has_validation_set: bool


def _labels(runs: pd.DataFrame) -> dict[str, str]:
    """'name · id8 · val AUC' for every run, for the run selectbox (one pass, not one per run)."""
    aucs = runs["metrics.val_auc"] if "metrics.val_auc" in runs.columns else None
    labels = {}
    for i, (run_id, name) in enumerate(zip(runs["run_id"], runs["run_name"], strict=True)):
        auc = None if aucs is None else aucs.iloc[i]
        auc_text = f" · val AUC {auc:.4f}" if auc is not None and pd.notna(auc) else ""
        labels[run_id] = f"{run_label(name, run_id)}{auc_text}"
    return labels


def pick_run(context: StoreContext, runs: pd.DataFrame) -> RunChoice | None:
    """Draw the run selectbox; None (with a message) when no run has a model."""
    scorable = runs.loc[runs["has_model"].astype(bool)]
    if scorable.empty:
        st.info(
            "No run in this experiment logged a model, so there is nothing to score. "
            "Train governed runs with `python -m core train --demo`, or log one with "
            "mlflow.lightgbm.log_model(model, name='model')."
        )
        return None
    labels = _labels(scorable)
    run_id = run_selectbox(
        "Run to score with",
        context,
        runs,
        scorable,
        key=RUN_KEY,
        why_unusable="logged no model, so it cannot be scored "
        "(log one with mlflow.lightgbm.log_model(model, name='model'))",
        format_func=labels.__getitem__,
        help="Runs that logged a model. Opens on the selected run, else the champion, "
        "else the recommended run.",
    )
    row = runs.loc[runs["run_id"] == run_id].iloc[0]
    params = {
        c.removeprefix("params."): str(row[c])
        for c in runs.columns
        if c.startswith("params.") and pd.notna(row[c])
    }
    return RunChoice(
        run_id=run_id, params=params, has_validation_set=bool(row["has_validation_set"])
    )
