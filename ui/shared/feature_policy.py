"""The feature policy in force: loaded for What-if and the fair-lending check, shown on What-if."""

from __future__ import annotations

import streamlit as st

from core.errors import GovernanceError
from core.scoring.feature_policy import FeaturePolicy, load_feature_policy
from core.scoring.model_spec import ModelSpec
from core.settings import Settings
from ui.shared.context import show_error
from ui.shared.markdown_text import literal


def feature_policy(settings: Settings) -> FeaturePolicy:
    """The feature policy file's rules; an empty policy after showing why the file is refused."""
    try:
        return load_feature_policy(settings.feature_policy_file)
    except GovernanceError as exc:
        show_error(exc)
        return FeaturePolicy(source="no feature policy (the file is invalid)")


def held_fixed_note(policy: FeaturePolicy, spec: ModelSpec) -> None:
    """An expander listing the model's features the policy holds fixed or orders, and why."""
    table = policy.held_fixed_table(spec.names)
    unplaced = {
        f.name: policy.unlisted_categories(f.name, f.categories)
        for f in spec.features
        if f.is_categorical
    }
    unplaced = {name: cats for name, cats in unplaced.items() if cats}
    title = (
        f"Feature policy: {len(table)} feature(s) held fixed or ordered"
        if len(table)
        else "Feature policy: no feature of this model is held fixed"
    )
    with st.expander(title, icon=":material/lock:"):
        st.caption(
            f"Rules from {policy.source}. Protected features are never suggested and never given "
            "as a reason; immutable ones are never suggested; an ordered category only moves "
            "towards its better end."
        )
        if len(table):
            st.table(table, hide_index=True)  # static: a few rows, cheaper than a grid
        for name, categories in unplaced.items():
            st.warning(
                f"{literal(name)}: the policy's order does not list "
                f"{', '.join(map(literal, categories))}; an applicant "
                "in one of these categories gets no suggestion for this feature.",
                icon=":material/help:",
            )
