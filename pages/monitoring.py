"""Monitoring: the promoted model on its production decisions, against its reference profile."""

from __future__ import annotations

import streamlit as st

from core.errors import GovernanceError
from core.monitoring.periods import PERIODS
from core.scoring.calibrator import scale_label
from ui.monitoring import cache as cached
from ui.monitoring import sections, source
from ui.shared import figures_after_paint
from ui.shared.context import get_context, require_runs, show_error

context = get_context()
st.title("Monitoring")
st.caption(
    "Is the model in production still seeing the population it was validated on, and does it "
    "still rank risk well? Recent decisions are compared with the reference profile frozen "
    "when the run was promoted (built from the run's validation set when there is none)."
)
table = require_runs(context)
manifest = source.promoted(context)
choice = source.pick_source(context, table, manifest)
picked = source.pick_recent(context, table, manifest, choice)
if picked is None:
    st.stop()
with st.expander("Outcomes that arrived later", icon=":material/fact_check:"):
    picked = source.pick_outcomes(context, picked)
if picked is None:
    st.stop()
period = st.radio("Period", PERIODS, horizontal=True, key="monitoring_period")
try:
    built = cached.built(context.settings, context.tracking_uri, picked, period)
except GovernanceError as exc:
    show_error(exc)
    st.stop()

report = built.report
decisions = int(report.segments["decisions"].sum())
st.caption(f"Source: {report.source} · {decisions:,} decisions{source.engine_caption(picked)}.")
sections.notes(report)
sections.alerts(report, picked.recent, source.no_labelled_rows(picked))
sections.headline(report)
if figures_after_paint.painted():
    sections.trends(report, scale_label(manifest.score_scale if manifest else None))
    sections.scores_and_bands(report)
    sections.drift(
        report, lambda run, feature: cached.distribution(picked, built.found, run, feature)
    )
    sections.downloads(report)
else:
    # A fresh tab's first view ends with the alerts and headline numbers: the trends, drift
    # and score sections below (figures and tables) come with the rerun this box asks for.
    figures_after_paint.waiting_box(
        "monitoring_details", sections.DETAILS_BOX_HEIGHT, sections.DETAILS_TEXT
    )
