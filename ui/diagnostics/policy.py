"""Model diagnostics: the threshold workbench, its economics inputs and the reverse questions."""

from __future__ import annotations

import streamlit as st

from core.evaluation.curves import Evaluation
from core.evaluation.threshold_policy import (
    PolicyPoint,
    ScoreTable,
    policy_at,
    profit_maximising_threshold,
    threshold_for_approval_rate,
)
from core.settings import DEFAULT_TARGET_APPROVAL_RATE, Settings
from ui.diagnostics import cache_figures
from ui.diagnostics.threshold_workbench import TRIGGER, threshold_workbench
from ui.shared.selection import selected_threshold, use_threshold

VERSION_KEY = "diag_threshold_version"
WORKBENCH_KEY = "diag_threshold_workbench"
APPLIED_KEY = "diag_threshold_just_applied"
LOSS_KEY = "diag_loss_per_bad"
PROFIT_KEY = "diag_profit_per_good"
TARGET_KEY = "diag_target_approval"
THRESHOLD_DECIMALS = 4
THRESHOLD_MIN, THRESHOLD_MAX = 0.0001, 0.9999


def _set_threshold(value: float) -> None:
    """Button callback: make value the shared threshold and move the workbench's control there.

    The new version tells the workbench to drop its preview and show the applied value.
    """
    use_threshold(value)
    st.session_state[VERSION_KEY] = st.session_state.get(VERSION_KEY, 0) + 1
    st.session_state[APPLIED_KEY] = True


def _slider_value(threshold: float) -> float:
    """A threshold rounded to the control's precision and kept inside its range."""
    return min(max(round(threshold, THRESHOLD_DECIMALS), THRESHOLD_MIN), THRESHOLD_MAX)


def _fmt_money(value: float | None) -> str:
    """A money amount with thousands separators, or a dash."""
    return "—" if value is None else f"{value:,.0f}"


def _use_from_workbench() -> None:
    """Workbench callback: the previewed threshold it sent back becomes the shared one."""
    value = (st.session_state.get(WORKBENCH_KEY) or {}).get(TRIGGER)
    if value is not None:
        use_threshold(_slider_value(float(value)))
        st.session_state[APPLIED_KEY] = True


def _suggestion(label: str, table: ScoreTable, suggested: PolicyPoint, key: str) -> None:
    """A reverse answer: its threshold and outcome, with a button that applies it."""
    value = _slider_value(suggested.threshold)
    point = policy_at(table, value, suggested.loss_per_bad, suggested.profit_per_good)
    profit = f", expected profit {_fmt_money(point.expected_profit)}" if point.has_economics else ""
    st.markdown(
        f"{label}: threshold **{value:.4f}** approves {point.approval_rate:.2%} "
        f"(bad rate among approved {point.bad_rate_approved:.2%}{profit})."
    )
    st.button(
        "Use this threshold",
        key=key,
        on_click=_set_threshold,
        args=(value,),
        help="Applies it and moves the workbench here; What-if and Promotion open on it too.",
    )


def threshold_section(
    settings: Settings, key: str, table: ScoreTable, evaluation: Evaluation | None
) -> None:
    """The threshold workbench (previews in the browser) and the reverse questions.

    key names the score table (run id and data fingerprint) for the cached workbench data;
    without an evaluation (one class only) the workbench has only the policy charts.
    """
    if st.session_state.pop(APPLIED_KEY, False):
        # An applied threshold changes what lies outside this fragment too (the evidence
        # pack's button, the sidebar): run the whole page once, so nothing there reads stale.
        st.rerun(scope="app")
    st.subheader("Threshold policy")
    st.caption(
        "Applicants are approved when their score is below the threshold "
        f"and declined at or above it. The configured business threshold is "
        f"**{settings.decision_threshold}**. Moving the threshold below previews it at once; "
        "**Use this threshold** makes it the one the sidebar, What-if and Promotion use."
    )
    loss_col, profit_col, reset_col = st.columns(3, vertical_alignment="bottom")
    loss = loss_col.number_input(
        "Loss per bad approved", min_value=0.0, value=None, step=100.0, key=LOSS_KEY
    )
    profit = profit_col.number_input(
        "Profit per good approved", min_value=0.0, value=None, step=100.0, key=PROFIT_KEY
    )
    reset_col.button(
        "Reset to the business threshold",
        on_click=_set_threshold,
        args=(settings.decision_threshold,),
    )
    applied = _slider_value(selected_threshold(settings))
    use_threshold(applied)
    threshold_workbench(
        WORKBENCH_KEY,
        {
            **cache_figures.workbench_data(key, table, evaluation),
            "applied": applied,
            "version": st.session_state.get(VERSION_KEY, 0),
            "loss": loss,
            "profit": profit,
        },
        _use_from_workbench,
    )

    st.markdown("##### Which threshold?")
    left, right = st.columns(2)
    with left:
        target = st.number_input(
            "Target approval rate (%)",
            min_value=1.0,
            max_value=100.0,
            value=DEFAULT_TARGET_APPROVAL_RATE * 100,
            step=1.0,
            key=TARGET_KEY,
        )
        _suggestion(
            f"For {target:.1f}% approval",
            table,
            threshold_for_approval_rate(table, target / 100, loss, profit),
            "diag_use_target",
        )
    with right:
        if loss is not None and profit is not None:
            _suggestion(
                "Profit-maximising",
                table,
                profit_maximising_threshold(table, loss, profit),
                "diag_use_profit",
            )
        else:
            st.caption(
                "Enter a loss per bad and a profit per good above to find the threshold "
                "that maximises expected profit."
            )
