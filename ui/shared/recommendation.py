"""The recommended run as the pages show it: ties judged with paired DeLong on shared rows."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.runs.recommendation import Recommendation
from core.runs.stability import StabilityRule, stability_flags
from core.store.paired_ties import paired_intervals, recommend_with_pairs
from ui.shared import cache

PAIRED_TTL_SECONDS = 300


@st.cache_data(ttl=PAIRED_TTL_SECONDS, show_spinner="Comparing tied runs on their validation rows…")
def paired_tie_intervals(
    tracking_uri: str, best_run_id: str, run_ids: tuple[str, ...]
) -> dict[str, tuple[float, float]]:
    """Paired DeLong intervals of each tied run's AUC − the best's, where rows are shared."""
    return paired_intervals(cache.client_for(tracking_uri), best_run_id, run_ids)


def recommended_run(
    tracking_uri: str,
    runs: pd.DataFrame,
    rule: StabilityRule,
    metric: str,
    flags: pd.Series | None = None,
) -> Recommendation:
    """The recommendation the Runs page, Promotion and the CLI agree on (one rule, one tie)."""
    flags = stability_flags(runs, rule) if flags is None else flags
    return recommend_with_pairs(
        runs,
        rule,
        metric,
        flags,
        lambda best, tied: paired_tie_intervals(tracking_uri, best, tied),
    )
