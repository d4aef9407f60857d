"""Monitoring page (AppTest) on a real store: the demo, the decision log, outcomes, uploads."""

from __future__ import annotations

from pathlib import Path

from core.data.synthetic import make_recent_applications
from tests.helpers.apptest_helpers import exceptions, open_page, texts
from tests.helpers.decision_log_writer import write_scored_log
from tests.helpers.store_builders import log_seed_pattern_run

PAGE = "pages/monitoring.py"


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _alert_rows(at) -> set[tuple[str, str]]:
    """(kind, subject) of every row in the alerts table."""
    for frame in (d.value for d in [*at.dataframe, *at.table]):
        if "message" in frame.columns:
            return set(zip(frame["kind"], frame["subject"], strict=True))
    return set()


def test_demo_source_shows_alerts_and_reacts_to_drift_and_period(file_store, app_env) -> None:
    # given the dashboard on a populated store with nothing promoted
    app_env(file_store.uri)
    at = open_page(PAGE)
    assert exceptions(at) == []
    assert "Nothing is promoted" in texts(at)
    drifted = _metrics(at)
    assert "alert(s)" in texts(at) and len(at.get("plotly_chart")) >= 5
    # and the alerts table is a static table: every message wraps in full, none is cut off
    assert any("message" in t.value.columns for t in at.table)
    # when the user removes the simulated drift
    at.slider(key="monitoring_drift").set_value(0.0).run()
    # then the score shift shrinks
    assert float(_metrics(at)["Score PSI"]) < float(drifted["Score PSI"])
    # when the user switches to weekly periods, the tables follow without error
    at.radio(key="monitoring_period").set_value("week").run()
    assert exceptions(at) == []
    assert "By week" in texts(at)


def test_log_source_reads_the_log_notes_bad_lines_and_joins_outcomes(
    file_store, app_env, tmp_path: Path
) -> None:
    # given a drifting decision log with a corrupt line
    log = tmp_path / "log"
    frame = write_scored_log(log, file_store.uri, file_store.governed[0], drift=1.5)
    first = sorted(log.iterdir())[0]
    first.write_text(first.read_text() + "garbage\n")
    app_env(file_store.uri, DECISION_LOG=str(log))
    at = open_page(PAGE)
    # when the user picks the decision log
    at.radio(key="monitoring_source").set_value("Decision log").run()
    # then the page reads it, says what it skipped, and raises drift alerts
    assert exceptions(at) == []
    shown = texts(at)
    assert "Skipped 1 corrupt or truncated line(s)" in shown
    assert ("feature PSI", "credit_score") in _alert_rows(at)
    assert _metrics(at)["AUC"] == "—"
    # when outcomes arrive, with one unknown id
    outcomes = frame[["applicant_id", "default"]].copy()
    outcomes.loc[len(outcomes)] = ["nobody", 1]
    at.get("file_uploader")[0].upload("outcomes.csv", outcomes.to_csv(index=False).encode())
    at.run()
    # then accuracy appears and the unknown id is reported
    assert exceptions(at) == []
    assert _metrics(at)["AUC"] != "—"
    assert "1 outcome id(s) match no decision (nobody)" in texts(at)
    assert any(b.label == "Recent labelled data (CSV)" for b in at.get("download_button"))


def test_missing_log_and_bad_uploads_are_explained(file_store, app_env, tmp_path: Path) -> None:
    app_env(file_store.uri, DECISION_LOG=str(tmp_path / "nowhere"))
    at = open_page(PAGE)
    at.radio(key="monitoring_source").set_value("Decision log").run()
    assert exceptions(at) == []
    assert "does not exist" in texts(at)
    at.radio(key="monitoring_source").set_value("Upload a file").run()
    uploader = at.get("file_uploader")[0]
    uploader.upload("recent.csv", b"", "text/csv").run()
    assert exceptions(at) == []
    assert "'recent.csv' is empty" in texts(at)
    recent = make_recent_applications(n_rows=600).drop(columns=["default"])
    at.get("file_uploader")[0].upload("recent.csv", recent.to_csv(index=False).encode()).run()
    assert exceptions(at) == []
    assert _metrics(at)["Decisions"] != ""
    assert "By month" in texts(at)


def test_no_simulated_feed_without_a_run_to_score_it(app_env, tmp_path: Path) -> None:
    # given a store whose only run has a model of the demo's features but no validation set
    app_env(f"file:{tmp_path / 'mlruns'}")
    log_seed_pattern_run(f"file:{tmp_path / 'mlruns'}")
    # when Monitoring opens
    at = open_page(PAGE)
    assert exceptions(at) == []
    # then the simulated feed is not offered (it needs a run with a reference to compare with)
    source = at.radio(key="monitoring_source")
    assert source.options == ["Decision log", "Upload a file"]
    assert source.value == "Upload a file"
    # and one line says why
    assert any(
        c.value.startswith("No simulated feed: no run in this experiment has both a model")
        for c in at.caption
    )
