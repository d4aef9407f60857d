"""Monitoring page and its report on a real store: drift, performance, uploads, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.synthetic import make_recent_applications
from core.errors import DataValidationError
from core.monitoring.report import build_report
from core.store.access import load_model, load_validation_set
from core.store.client import open_client
from tests.apptest_helpers import exceptions, open_page, texts

PAGE = "pages/monitoring.py"


def test_report_scores_recent_data_and_flags_drift(file_store) -> None:
    # given a governed run and six months of drifting applications
    run_id = file_store.governed[0]
    model = load_model(file_store.uri, run_id)
    reference = load_validation_set(open_client(file_store.uri), run_id)
    recent = make_recent_applications(n_rows=3_000, max_drift=1.5)
    # when the report is built
    report = build_report(model, reference, recent, 0.4542, "default", "application_date")
    # then the reference summary reproduces the logged scores and the drift is found
    expected_approval = float(np.mean(reference["score"] < 0.4542))
    assert report.reference.approval_rate == pytest.approx(expected_approval)
    assert report.recent.n_rows == 3_000
    assert report.features.iloc[0]["status"] != "stable"
    assert len(report.by_period) == 6
    assert report.unseen_categories == {}


def test_report_refuses_recent_data_without_model_features(file_store) -> None:
    model = load_model(file_store.uri, file_store.governed[0])
    reference = load_validation_set(open_client(file_store.uri), file_store.governed[0])
    recent = make_recent_applications(n_rows=300).drop(columns=["credit_score"])
    with pytest.raises(DataValidationError, match="credit_score"):
        build_report(model, reference, recent, 0.4542)


def test_page_shows_kpis_and_reacts_to_drift(file_store, app_env) -> None:
    # given the dashboard on a populated store
    app_env(file_store.uri)
    at = open_page(PAGE)
    assert exceptions(at) == []
    assert "Nothing is promoted" in texts(at)
    drifted = {m.label: m.value for m in at.metric}
    # when the user removes the simulated drift
    at.slider(key="monitoring_drift").set_value(0.0).run()
    # then the score shift shrinks and charts stay on the page
    calm = {m.label: m.value for m in at.metric}
    assert float(calm["Score PSI"]) < float(drifted["Score PSI"])
    assert len(at.get("plotly_chart")) >= 3


def test_page_scores_an_uploaded_file_and_explains_bad_uploads(file_store, app_env) -> None:
    # given the page in upload mode
    app_env(file_store.uri)
    at = open_page(PAGE)
    at.radio(key="monitoring_source").set_value("Upload a file").run()
    assert len(at.metric) == 0  # nothing to show until a file arrives
    # when the user uploads an empty file
    at.get("file_uploader")[0].upload("recent.csv", b"", "text/csv").run()
    # then the page says what is wrong, without exception
    assert exceptions(at) == []
    assert "'recent.csv' is empty" in texts(at)
    # when the user uploads unlabelled recent applications
    recent = make_recent_applications(n_rows=600).drop(columns=["default"])
    at.get("file_uploader")[0].upload("recent.csv", recent.to_csv(index=False).encode()).run()
    # then decisions and drift are shown, performance waits for labels
    assert exceptions(at) == []
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["AUC"] == "—"
    assert "no usable labels" in texts(at)
    # when the user names the date column
    at.selectbox(key="monitoring_date").set_value("application_date").run()
    assert exceptions(at) == []
    assert len(at.get("plotly_chart")) >= 3
