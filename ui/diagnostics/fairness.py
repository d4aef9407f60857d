"""Model diagnostics: the fair-lending check by protected attribute, and performance by segment."""

from __future__ import annotations

import streamlit as st

from core.errors import GovernanceError
from core.evaluation.eval_data import EvaluationData
from core.evaluation.fairness import FOUR_FIFTHS, GroupOutcomes, outcomes_by_group
from core.settings import Settings
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
    table = outcomes.table if with_impact else outcomes.table.drop(columns="adverse_impact_ratio")
    if with_impact:
        flagged = outcomes.below_four_fifths
        if flagged:
            st.warning(
                f"**{outcomes.attribute}**: {', '.join(flagged)} approved at less than four "
                f"fifths ({FOUR_FIFTHS:.0%}) of the rate of {outcomes.most_favoured}, the most "
                "favoured group. Review whether the difference is justified by risk (compare the "
                "bad rates) before the model is used.",
                icon=":material/balance:",
            )
        else:
            st.success(
                f"**{outcomes.attribute}**: every group is approved at four fifths or more of the "
                f"rate of {outcomes.most_favoured}, the most favoured group.",
                icon=":material/balance:",
            )
    st.dataframe(table, hide_index=True, width="stretch", column_config=COLUMNS)


def fairness_tab(settings: Settings, data: EvaluationData) -> None:
    """Pick protected attributes and a segment; show outcomes by group at the threshold."""
    threshold = selected_threshold(settings)
    columns = [str(c) for c in data.features.columns]
    st.caption(
        f"Outcomes by group on the {data.source}, at the threshold {threshold:.4f}. Numbers with "
        "many values (such as age) are cut into quartile bands."
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
