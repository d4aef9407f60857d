"""Model diagnostics: the fair-lending check by protected attribute, and performance by segment."""

from __future__ import annotations

import streamlit as st

from core.errors import GovernanceError
from core.evaluation.eval_data import EvaluationData
from core.evaluation.fairness import GroupOutcomes, fairness_sentences, outcomes_by_group
from core.settings import FAIRNESS_MIN_GROUP, Settings
from ui.shared.context import show_error
from ui.shared.feature_policy import feature_policy
from ui.shared.selection import selected_threshold

COLUMNS = {
    "group": st.column_config.TextColumn("Group"),
    "applicants": st.column_config.NumberColumn("Applicants", format="localized"),
    "share": st.column_config.NumberColumn("Share", format="percent"),
    "approval_rate": st.column_config.NumberColumn("Approval rate", format="percent"),
    "adverse_impact_ratio": st.column_config.NumberColumn(
        "Adverse impact ratio", format="%.2f", help="Approval rate over the most favoured group's"
    ),
    "air_low": st.column_config.NumberColumn("AIR 95% low", format="%.2f", help="Katz log"),
    "air_high": st.column_config.NumberColumn("AIR 95% high", format="%.2f", help="Katz log"),
    "verdict": st.column_config.TextColumn("Four-fifths verdict"),
    "bad_rate": st.column_config.NumberColumn("Bad rate", format="percent"),
    "bad_rate_approved": st.column_config.NumberColumn("Bad rate among approved", format="percent"),
    "auc": st.column_config.NumberColumn("AUC", format="%.4f"),
}


def _outcomes(data: EvaluationData, attribute: str, threshold: float) -> GroupOutcomes | None:
    """One attribute's outcomes, or None after showing why they cannot be computed."""
    try:
        return outcomes_by_group(
            data.labels, data.scores, data.features[attribute], threshold, attribute
        )
    except GovernanceError as exc:
        show_error(exc)
        return None


def _show(outcomes: GroupOutcomes, with_impact: bool) -> None:
    """The outcomes table; for a protected attribute, the four-fifths verdict above it."""
    impact = ["adverse_impact_ratio", "air_low", "air_high", "verdict"]
    table = outcomes.table if with_impact else outcomes.table.drop(columns=impact)
    if with_impact:
        for level, sentence in fairness_sentences(outcomes):
            show = {"warning": st.warning, "info": st.info, "success": st.success}[level]
            show(sentence, icon=":material/balance:")
    st.dataframe(table, hide_index=True, width="stretch", column_config=COLUMNS)


def fairness_tab(settings: Settings, data: EvaluationData) -> None:
    """Pick protected attributes and a segment; show outcomes by group at the threshold."""
    threshold = selected_threshold(settings)
    columns = [str(c) for c in data.features.columns]
    st.caption(
        f"Outcomes by group on the {data.source}, at the threshold {threshold:.4f}. Numbers with "
        "many values (such as age) are cut into quartile bands. A group is flagged only when "
        "the whole 95% interval of its adverse impact ratio (Katz log) is below 0.8; groups "
        f"under {FAIRNESS_MIN_GROUP} applicants are too few to judge."
    )
    protected = st.multiselect(
        "Protected attributes (fair-lending check)",
        columns,
        default=feature_policy(settings).protected_in(columns),
        key="diag_protected",
        placeholder="Pick the attributes the law protects in your market",
        help=f"Starts with the protected features of {settings.feature_policy_file}.",
    )
    for attribute in protected:
        outcomes = _outcomes(data, attribute, threshold)
        if outcomes is not None:
            _show(outcomes, with_impact=True)
    st.markdown("##### Performance by segment")
    segment = st.selectbox(
        "Segment by", columns, index=None, key="diag_segment", placeholder="Pick any column"
    )
    if segment is not None:
        outcomes = _outcomes(data, segment, threshold)
        if outcomes is not None:
            _show(outcomes, with_impact=False)
