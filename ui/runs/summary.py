"""The Runs page's recommendation banner and how it compares with the promoted champion."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import GovernanceError
from core.record.manifest import read_manifest
from core.runs import analysis as runs_analysis
from core.runs.stability import StabilityRule
from core.settings import Settings
from ui.shared.context import show_error
from ui.shared.markdown_text import literal, with_literal_names
from ui.shared.recommendation import recommended_run


def recommendation_banner(
    settings: Settings,
    runs: pd.DataFrame,
    shown: pd.DataFrame,
    rule: StabilityRule,
    primary: str,
    flags: pd.Series,
) -> None:
    """The recommended run among those shown and why, then one line about the champion."""
    recommendation = recommended_run(settings.tracking_uri, shown, rule, primary, flags)
    noun = "run" if len(shown) == 1 else "runs"
    scope = f" (among the {len(shown):,} {noun} shown)" if len(shown) < len(runs) else ""
    if recommendation.run_id:
        st.success(
            f"**Recommended{scope}: {literal(recommendation.run_name)}.** "
            f"{with_literal_names(recommendation.reason)}",
            icon=":material/emoji_events:",
        )
    else:
        st.warning(
            f"**No recommendation{scope}.** {recommendation.reason}", icon=":material/balance:"
        )
    try:
        manifest = read_manifest(settings.promotion_manifest)
    except GovernanceError as exc:
        manifest = None
        show_error(exc)
    note = runs_analysis.champion_comparison(
        runs, recommendation, manifest, settings.experiment_name
    )
    st.caption(
        with_literal_names(note)
        if note
        else "No promotion manifest yet: there is no champion to compare with."
    )
