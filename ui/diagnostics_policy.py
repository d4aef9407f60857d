"""Model diagnostics: the threshold control, its policy numbers and the reverse questions."""

from __future__ import annotations

import streamlit as st

from core.charts import diagnostics as charts
from core.evaluation.threshold_policy import (
    PolicyPoint,
    ScoreTable,
    policy_at,
    profit_maximising_threshold,
    threshold_for_approval_rate,
)
from core.settings import DEFAULT_TARGET_APPROVAL_RATE, Settings
from ui import cache_figures
from ui.selection import selected_threshold, use_threshold

VERSION_KEY = "diag_threshold_version"
THRESHOLD_LABEL = "Threshold (score)"
LOSS_KEY = "diag_loss_per_bad"
PROFIT_KEY = "diag_profit_per_good"
TARGET_KEY = "diag_target_approval"
THRESHOLD_DECIMALS = 4
THRESHOLD_MIN, THRESHOLD_MAX = 0.0001, 0.9999


def _set_threshold(value: float) -> None:
    """Button callback: make value the shared threshold and renew the slider to start there.

    The chosen value lives in the shared selection and the slider gets it as `value=`: a slider
    whose key is preset through session state shows its minimum when it is mounted again
    (after the page showed no data for a run), although the server keeps the preset value.
    """
    use_threshold(value)
    st.session_state[VERSION_KEY] = st.session_state.get(VERSION_KEY, 0) + 1


def _typed_threshold(key: str) -> None:
    """Number-input callback: the typed threshold becomes the shared one and moves the slider."""
    _set_threshold(_slider_value(st.session_state[key]))


def _slider_value(threshold: float) -> float:
    """A threshold rounded to the control's precision and kept inside its range."""
    return min(max(round(threshold, THRESHOLD_DECIMALS), THRESHOLD_MIN), THRESHOLD_MAX)


def _fmt_money(value: float | None) -> str:
    """A money amount with thousands separators, or a dash."""
    return "—" if value is None else f"{value:,.0f}"


def _show_point(point: PolicyPoint) -> None:
    """Headline numbers and the confusion matrix of one policy point."""
    cols = st.columns(5)
    cols[0].metric("Approval rate", f"{point.approval_rate:.2%}", help=f"{point.approved:,} rows")
    cols[1].metric("Reject rate", f"{point.reject_rate:.2%}", help=f"{point.declined:,} rows")
    cols[2].metric("Bad rate among approved", f"{point.bad_rate_approved:.2%}")
    cols[3].metric("Bads caught (declined)", f"{point.bads_caught:.2%}")
    if point.has_economics:
        cols[4].metric(
            "Expected profit",
            _fmt_money(point.expected_profit),
            help=f"Loss from approved bads {_fmt_money(point.expected_loss)}",
        )
    else:
        cols[4].metric("Expected profit", "—", help="Enter a loss per bad and a profit per good.")
    left, right = st.columns([1, 2])
    left.markdown("**Confusion matrix** (rows: actual, columns: decision; share of all rows)")
    counts, shares = point.confusion_matrix(), point.confusion_matrix(share=True)
    # A static table: a threshold change redraws it far faster than an interactive grid.
    shown = counts.map(lambda n: f"{n:,}") + shares.map(lambda s: f" ({s:.1%})")
    shown = shown.rename(columns=str.capitalize, index=str.capitalize)
    left.table(shown.rename_axis(index="Actual"))
    if point.has_economics:
        right.markdown(
            f"**Expected loss** from the {point.bads_approved:,} approved bads: "
            f"{_fmt_money(point.expected_loss)}; profit from the {point.goods_approved:,} "
            f"approved goods: {_fmt_money(point.goods_approved * point.profit_per_good)}; "
            f"net **{_fmt_money(point.expected_profit)}**."
        )
    return None


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
        help="Moves the slider here; What-if and Promotion open on it too.",
    )


def threshold_section(settings: Settings, key: str, table: ScoreTable) -> PolicyPoint:
    """Draw the threshold control and its consequences; return the chosen policy point.

    key names the score table (run id and data fingerprint) for the cached figure data.
    """
    st.subheader("Threshold policy")
    st.caption(
        "Applicants are approved when their score is below the threshold "
        f"and declined at or above it. The configured business threshold is "
        f"**{settings.decision_threshold}**."
    )
    control, loss_col, profit_col = st.columns([3, 1, 1])
    threshold = control.slider(
        THRESHOLD_LABEL,
        min_value=THRESHOLD_MIN,
        max_value=THRESHOLD_MAX,
        value=_slider_value(selected_threshold(settings)),
        step=0.0001,
        format="%.4f",
        key=f"diag_threshold_slider_{st.session_state.get(VERSION_KEY, 0)}",
    )
    use_threshold(threshold)
    exact_key = f"diag_threshold_exact_{st.session_state.get(VERSION_KEY, 0)}"
    # The box shows the slider's value: a keyed input ignores a changed `value=` argument.
    st.session_state[exact_key] = threshold
    control.number_input(
        "Exact threshold",
        min_value=THRESHOLD_MIN,
        max_value=THRESHOLD_MAX,
        step=0.0001,
        format="%.4f",
        key=exact_key,
        on_change=_typed_threshold,
        args=(exact_key,),
        help="Type a threshold to four decimals; the slider follows.",
    )
    control.button(
        "Reset to the business threshold",
        on_click=_set_threshold,
        args=(settings.decision_threshold,),
    )
    loss = loss_col.number_input(
        "Loss per bad approved", min_value=0.0, value=None, step=100.0, key=LOSS_KEY
    )
    profit = profit_col.number_input(
        "Profit per good approved", min_value=0.0, value=None, step=100.0, key=PROFIT_KEY
    )
    point = policy_at(table, threshold, loss, profit)
    _show_point(point)

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
        if point.has_economics:
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
    policy, strategy = cache_figures.policy_figures_data(key, table)
    left, right = st.columns(2)
    left.plotly_chart(charts.marked(policy, charts.Marks(line_at=point.threshold)), width="stretch")
    right.plotly_chart(charts.marked(strategy, charts.strategy_marks(point)), width="stretch")
    return point
