"""A run selectbox shared by pages: runs shown as 'name · id prefix', with a default run."""

from __future__ import annotations

import pandas as pd
import streamlit as st


def run_names(runs: pd.DataFrame) -> dict[str, str]:
    """Map of run_id to run name for the runs given."""
    return dict(zip(runs["run_id"], runs["run_name"], strict=True))


def pick_run(label: str, runs: pd.DataFrame, default_run_id: str, key: str) -> str:
    """A selectbox over runs' ids, labelled by name, starting on default_run_id."""
    names = run_names(runs)
    ids = list(names)
    return st.selectbox(
        label,
        ids,
        index=ids.index(default_run_id) if default_run_id in names else 0,
        format_func=lambda rid: f"{names[rid]} · {rid[:8]}",
        key=key,
    )
