"""Monitoring: drift and performance of the promoted model on recent applications."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.charts import monitoring as charts
from core.data.synthetic import make_recent_applications
from core.data.tables import read_table_bytes
from core.errors import GovernanceError
from core.monitoring.drift import distribution_comparison
from core.promotion.manifest import read_manifest
from ui import cache
from ui.context import get_context, require_runs, show_error
from ui.run_picker import run_names
from ui.selection import run_selectbox, selected_threshold

NONE = "(none)"
SIMULATED = "Simulated recent applications (demo)"
UPLOADED = "Upload a file"

context = get_context()
st.title("Monitoring")
st.caption(
    "Is the model in production still seeing the population it was validated on, and does it "
    "still rank risk well? Recent applications are compared with the run's validation set."
)
table = require_runs(context)

try:
    manifest = read_manifest(context.settings.promotion_manifest)
except GovernanceError as exc:
    show_error(exc)
    manifest = None

monitorable = table.runs[table.runs["has_model"] & table.runs["has_validation_set"]]
if monitorable.empty:
    st.info(
        "No run has both a model and a logged validation set, so there is no reference to "
        "compare with. Train governed runs with `python -m core train --demo`."
    )
    st.stop()

labels = run_names(monitorable)
run_id = run_selectbox(
    "Run",
    context,
    table.runs,
    monitorable,
    key="monitoring_run",
    why_unusable="logged no model and validation set to monitor against",
)
if manifest is not None and manifest.run_id == run_id:
    threshold = manifest.threshold
    st.success(
        f"Monitoring the promoted run **{labels[manifest.run_id]}** (`{manifest.run_id}`) at "
        f"threshold **{manifest.threshold}**, promoted by {manifest.promoted_by} on "
        f"{manifest.promoted_at[:10]}.",
        icon=":material/verified:",
    )
else:
    threshold = selected_threshold(context.settings)
    status = "Nothing is promoted yet" if manifest is None else "This run is not the promoted one"
    st.info(
        f"{status}: it is monitored as a candidate, at the selected threshold {threshold:.4f}.",
        icon=":material/info:",
    )

source = st.radio("Recent data", [SIMULATED, UPLOADED], horizontal=True, key="monitoring_source")
label_column: str | None = None
date_column: str | None = None
if source == UPLOADED:
    upload = st.file_uploader(
        "Recent applications (CSV or Parquet, with the model's features; a label column and a "
        "date column are optional)",
        type=["csv", "parquet"],
        key="monitoring_upload",
    )
    if upload is None:
        st.stop()
    try:
        recent = read_table_bytes(upload.name, upload.getvalue())
    except GovernanceError as exc:
        show_error(exc)
        st.stop()
    columns = [NONE, *recent.columns]
    left, right = st.columns(2)
    picked_label = left.selectbox("Label column (1 = default)", columns, key="monitoring_label")
    picked_date = right.selectbox("Date column", columns, key="monitoring_date")
    label_column = None if picked_label == NONE else picked_label
    date_column = None if picked_date == NONE else picked_date
else:
    drift_level = st.slider(
        "Drift reached by the last month (0 = same population as training)",
        0.0,
        1.5,
        1.0,
        0.1,
        key="monitoring_drift",
    )
    recent = make_recent_applications(max_drift=drift_level)
    label_column, date_column = "default", "application_date"
    st.caption(
        f"{len(recent):,} simulated applications over six months, with outcomes, from the "
        "built-in synthetic generator. Use *Upload a file* for real data."
    )

try:
    report = cache.monitoring_report(
        context.tracking_uri, run_id, recent, threshold, label_column, date_column
    )
except GovernanceError as exc:
    show_error(exc)
    st.stop()

if report.sampled_from:
    st.warning(
        f"The file has {report.sampled_from:,} rows: a random sample of "
        f"{report.recent.n_rows:,} was analysed."
    )
for feature, values in report.unseen_categories.items():
    st.warning(
        f"'{feature}' has categories the model never saw: {', '.join(values[:8])}. LightGBM "
        "scores them as missing; retrain if they are here to stay."
    )

ref, now = report.reference, report.recent
cols = st.columns(4)
cols[0].metric(
    "Approval rate",
    f"{now.approval_rate:.1%}",
    f"{now.approval_rate - ref.approval_rate:+.1%} vs reference",
)
if now.bad_rate_approved is not None and ref.bad_rate_approved is not None:
    cols[1].metric(
        "Bad rate among approved",
        f"{now.bad_rate_approved:.2%}",
        f"{now.bad_rate_approved - ref.bad_rate_approved:+.2%}",
        delta_color="inverse",
    )
else:
    cols[1].metric("Bad rate among approved", "—", help="Needs a label column")
if now.auc is not None and ref.auc is not None:
    cols[2].metric("AUC", f"{now.auc:.3f}", f"{now.auc - ref.auc:+.3f}")
else:
    cols[2].metric("AUC", "—", help="Needs a label column with both classes")
cols[3].metric("Score PSI", f"{report.score_psi:.3f}", report.score_status, delta_color="off")
if report.alert.alert:
    st.warning(report.alert.message, icon=":material/notification_important:")
else:
    st.caption(report.alert.message)

st.subheader("Feature drift")
shifted = report.features[report.features["status"] != "stable"]
st.caption(
    f"{len(shifted)} of {len(report.features)} features shifted (PSI ≥ 0.10)."
    if len(shifted)
    else "No feature shifted (every PSI below 0.10)."
)
left, right = st.columns([1, 1])
left.plotly_chart(charts.psi_bar_chart(report.features), width="stretch", key="psi_chart")
right.dataframe(
    report.features,
    hide_index=True,
    width="stretch",
    column_config={
        "psi": st.column_config.NumberColumn("PSI", format="%.3f"),
        "missing_reference": st.column_config.NumberColumn("missing (ref)", format="percent"),
        "missing_recent": st.column_config.NumberColumn("missing (recent)", format="percent"),
        "unseen_category_rows": st.column_config.NumberColumn("unseen categories"),
    },
)
feature = st.selectbox(
    "Compare one feature's distribution",
    report.features["feature"].tolist(),
    key="monitoring_feature",
)
reference_frame = cache.validation_set(context.tracking_uri, run_id)
categorical = report.features.set_index("feature").loc[feature, "type"] == "categorical"
st.plotly_chart(
    charts.distribution_chart(
        distribution_comparison(reference_frame[feature], recent[feature], bool(categorical)),
        feature,
    ),
    width="stretch",
    key="distribution_chart",
)

if report.by_period is not None and not report.by_period.empty:
    st.subheader("By month")
    st.plotly_chart(
        charts.period_chart(report.by_period, ref.approval_rate),
        width="stretch",
        key="period_chart",
    )
    st.dataframe(
        report.by_period,
        hide_index=True,
        width="stretch",
        column_config={
            "approval_rate": st.column_config.NumberColumn("approval rate", format="percent"),
            "bad_rate_approved": st.column_config.NumberColumn(
                "bad rate approved", format="percent"
            ),
            "auc": st.column_config.NumberColumn("AUC", format="%.3f"),
        },
    )
st.download_button(
    "Download the drift table (CSV)",
    pd.DataFrame(report.features).to_csv(index=False).encode(),
    file_name=f"drift_{run_id[:8]}.csv",
    mime="text/csv",
)
