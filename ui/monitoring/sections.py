"""Monitoring sections: alerts with their actions, headline numbers, trends, drift, accuracy."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.charts import monitoring as charts
from core.decision_log.reader import RecentData
from core.errors import GovernanceError
from core.monitoring.drift import drift_status
from core.monitoring.output import report_dict
from core.monitoring.report import MonitoringReport
from core.monitoring.sources import OUTCOME
from ui.shared import figures_after_paint
from ui.shared.context import show_error
from ui.shared.markdown_text import literal, with_literal_names
from ui.shared.plain_tables import plain_table

DIAGNOSTICS_PAGE = "pages/diagnostics.py"
PROMOTION_PAGE = "pages/promotion.py"
_SHOWN_CRITICAL = 5
RATIO = "%.3f"
# A fresh tab's first view waits for the sections below the headline numbers in this box.
DETAILS_BOX_HEIGHT = 420
DETAILS_TEXT = "Drawing the trends, the score distribution and the feature drift…"


def _chart(target: object, figure: go.Figure, key: str) -> None:
    """The figure across target, keyed key (drawn once the browser has painted a view)."""
    figures_after_paint.plotly_chart(target, figure, f"{key}_pending", width="stretch", key=key)


def notes(report: MonitoringReport) -> None:
    """What the input lacked or how it was read, one caption each."""
    for note in report.notes:
        st.warning(with_literal_names(note), icon=":material/info:")


def _labelled_csv(recent: RecentData | None) -> bytes | None:
    """The recent rows with a known outcome, features plus label, for Diagnostics (None for a
    log counted by DuckDB: its rows are not held)."""
    if recent is None or OUTCOME not in recent.decisions.columns:
        return None
    known = recent.decisions[OUTCOME].notna().to_numpy()
    if not known.any():
        return None
    frame = recent.features.loc[known].assign(
        label=recent.decisions.loc[known, OUTCOME].astype(int)
    )
    return frame.to_csv(index=False).encode()


def _short_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for display: run ids cut to 8 characters, or dropped when there is one run."""
    if "run_id" not in frame.columns:
        return frame
    if frame["run_id"].nunique() <= 1:
        return frame.drop(columns="run_id")
    return frame.assign(run_id=frame["run_id"].astype(str).str[:8])


def alerts(report: MonitoringReport, recent: RecentData | None, no_rows: str = "") -> None:
    """Critical alerts in full, every alert in one table, then the two actions (`no_rows` says
    why the labelled data is not offered when the rows are not held)."""
    if not report.alerts:
        st.success("No alert: nothing crosses an alert level.", icon=":material/check_circle:")
        return
    critical = [a for a in report.alerts if a.level == "critical"]
    st.subheader(f"{len(report.alerts)} alert(s), {len(critical)} critical")
    for alert in critical[:_SHOWN_CRITICAL]:
        st.warning(
            f"**Critical — {literal(alert.title)}** ({alert.period}) — {alert.message}",
            icon=":material/notification_important:",
        )
    table = pd.DataFrame([a.as_dict() for a in report.alerts])
    # A static table wraps each message in full; a data grid would cut it at the cell's width.
    st.table(
        _short_runs(table[["level", "period", "run_id", "kind", "subject", "message"]]),
        hide_index=True,
    )
    left, middle, right = st.columns(3)
    labelled = _labelled_csv(recent)
    if labelled is not None:
        left.download_button(
            "Recent labelled data (CSV)", labelled, file_name="recent_labelled.csv",
            mime="text/csv", icon=":material/download:",
        )  # fmt: skip
        middle.page_link(
            DIAGNOSTICS_PAGE, label="Diagnose it (upload it there)", icon=":material/monitoring:",
            query_params={"run_id": _latest_run(report)},
        )  # fmt: skip
    right.page_link(PROMOTION_PAGE, label="Roll back on Promotion", icon=":material/undo:")
    if labelled is None and no_rows:
        st.caption(no_rows)


def _latest_run(report: MonitoringReport) -> str:
    """The run behind the latest decisions."""
    return str(report.segments.loc[report.segments["decisions"] > 0, "run_id"].iloc[-1])


def headline(report: MonitoringReport) -> None:
    """The latest period: volume, approval rate vs expected, score PSI vs noise, accuracy."""
    segments = report.segments[report.segments["decisions"] > 0]
    latest = segments.iloc[-1]
    st.caption(f"Latest {report.period}: **{latest['period']}**, run `{latest['run_id'][:8]}`.")
    cols = st.columns(5)
    cols[0].metric("Decisions", f"{int(latest['decisions']):,}")
    expected = latest["expected_approval_rate"]
    cols[1].metric(
        "Approval rate", f"{latest['approval_rate']:.1%}",
        f"{latest['approval_shift'] * 100:+.1f} pp vs expected" if np.isfinite(expected) else None,
    )  # fmt: skip
    psi, noise = latest["score_psi"], latest["score_psi_noise"]
    cols[2].metric(
        "Score PSI", f"{psi:.3f}" if np.isfinite(psi) else "—",
        f"noise alone: {noise:.3f}" if np.isfinite(noise) else None, delta_color="off",
        help="PSI beside the value sampling noise alone reaches at this sample size (99%).",
    )  # fmt: skip
    labelled = segments[segments["auc"].notna()]
    outcome = labelled.iloc[-1] if len(labelled) else latest
    when = f" ({outcome['period']})" if outcome["period"] != latest["period"] else ""
    bad, auc = outcome["bad_rate_approved"], outcome["auc"]
    cols[3].metric(
        f"Bad rate, approved{when}", f"{bad:.2%}" if np.isfinite(bad) else "—",
        help="Needs outcomes (a column or an outcomes file); shown for the latest period "
        "that has them",
    )  # fmt: skip
    cols[4].metric(
        f"AUC{when}", f"{auc:.3f}" if np.isfinite(auc) else "—",
        f"95% CI {outcome['auc_low']:.3f}–{outcome['auc_high']:.3f}" if np.isfinite(auc) else None,
        delta_color="off", help="Needs outcomes with both classes (at least 100 labelled rows)",
    )  # fmt: skip


def trends(report: MonitoringReport, score_name: str = "risk score") -> None:
    """Per-period charts: decisions and accuracy, score PSI vs noise, calibration."""
    segments = report.segments[report.segments["decisions"] > 0]
    st.subheader(f"By {report.period}")
    left, right = st.columns(2)
    _chart(left, charts.period_chart(segments), "period_chart")
    _chart(right, charts.psi_trend_chart(segments), "psi_trend")
    if report.has_outcomes:
        _chart(st, charts.calibration_chart(segments, score_name), "calibration")
    shown, config = plain_table(
        _short_runs(report.segments),
        percent=("approval_rate", "expected_approval_rate", "bad_rate", "bad_rate_approved",
                 "mean_pd_labelled"),
        points=("approval_shift",),
        formats={"score_psi": RATIO, "score_psi_noise": RATIO},
        labels={"mean_pd_labelled": f"Mean {score_name} (labelled)",
                "bad_rate_approved": "Bad rate among approved",
                "score_psi_noise": "PSI noise level",
                "auc_low": "AUC low (95% CI)", "auc_high": "AUC high (95% CI)",
                "ks_low": "KS low (95% CI)", "ks_high": "KS high (95% CI)",
                "gini_low": "Gini low (95% CI)", "gini_high": "Gini high (95% CI)"},
    )  # fmt: skip
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)


def drift(report: MonitoringReport, distribution: Callable[[str, str], pd.DataFrame]) -> None:
    """Feature PSI by period, the latest period's table, and one feature against its profile
    (`distribution(run_id, feature)`: reference vs recent shares per bin)."""
    if report.features.empty:
        return
    st.subheader("Feature drift against the reference profile")
    _chart(st, charts.feature_psi_heatmap(report.features), "heatmap")
    latest = report.features[report.features["period"] == report.features["period"].iloc[-1]]
    shown, config = plain_table(
        _short_runs(latest.sort_values("psi", ascending=False)),
        percent=("missing_reference", "missing_recent", "below_min", "above_max",
                 "out_of_range", "unseen_rate"),
        points=("missing_shift",),
        formats={"psi": RATIO, "psi_noise": RATIO},
        labels={"psi_noise": "PSI noise level"},
    )  # fmt: skip
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)
    run_id = latest["run_id"].iloc[0]
    feature = st.selectbox("Compare one feature", latest["feature"].tolist(), key="mon_feature")
    try:
        table = distribution(run_id, feature)
    except GovernanceError as exc:
        show_error(exc)
        return
    _chart(st, charts.distribution_chart(table, feature), "dist")


def scores_and_bands(report: MonitoringReport) -> None:
    """Reference vs recent score distribution for a period, and score-band accuracy."""
    if report.score_bins.empty:
        return
    st.subheader("Score distribution: reference profile vs recent")
    periods = report.score_bins["period"].unique().tolist()
    period = periods[-1]
    if len(periods) > 1:
        period = st.select_slider("Score distribution of", periods, period, key="mon_period")
    bins = report.score_bins
    chosen = bins[
        (bins["period"] == period) & ((bins["reference_share"] > 0) | (bins["recent_share"] > 0))
    ]
    in_period = report.segments[report.segments["period"] == period]
    worst = in_period["score_psi"].idxmax() if in_period["score_psi"].notna().any() else None
    status = (
        drift_status(in_period.at[worst, "score_psi"], in_period.at[worst, "score_psi_noise"])
        if worst is not None
        else "no PSI"
    )
    _chart(st, charts.distribution_chart(chosen, f"score in {period} ({status})"), "score_dist")
    if not report.bands.empty:
        st.subheader("Score-band accuracy (all periods with outcomes)")
        shown, config = plain_table(
            _short_runs(report.bands), percent=("expected_bad_rate", "actual_bad_rate"),
            formats={"p_value": "%.2g", "p_holm": "%.2g"},
            labels={"p_value": "p-value", "p_holm": "p-value (Holm)"},
        )  # fmt: skip
        st.dataframe(shown, hide_index=True, width="stretch", column_config=config)


def downloads(report: MonitoringReport) -> None:
    """The report as JSON, the same content `python -m core monitor --out report.json` writes."""
    st.download_button(
        "Download the report (JSON)",
        json.dumps(report_dict(report), indent=1, default=str).encode(),
        file_name="monitoring_report.json", mime="application/json",
    )  # fmt: skip
