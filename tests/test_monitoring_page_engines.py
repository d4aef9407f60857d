"""Monitoring page (AppTest, real store) on the engine choice: with DuckDB the decision log is
counted without reading its rows into pandas, and the page shows what the pandas engine shows."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st

from core.decision_log import reader
from core.decision_log.compact import compact_log
from core.monitoring import log_engines
from tests.helpers.apptest_helpers import exceptions, open_page, texts
from tests.helpers.decision_log_writer import write_scored_log
from ui.monitoring import cache as cached

PAGE = "pages/monitoring.py"


@pytest.fixture()
def log(file_store, tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """A drifting three-month log of a real run: the first weeks compacted to Parquet (JSONL
    kept), the rest JSONL, and a corrupt line in the last day."""
    folder = tmp_path / "log"
    frame = write_scored_log(folder, file_store.uri, file_store.governed[0], drift=1.5)
    days = sorted(p.name for p in folder.glob("*.jsonl"))
    compact_log(folder, dt.date.fromisoformat(days[len(days) // 2][10:20]))
    last = folder / days[-1]
    last.write_text(last.read_text() + '{"time": "2026-\n')
    assert any(folder.glob("*.parquet"))
    return folder, frame


def _rows_never_read(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the decision log's rows were read into pandas")


def _open_log(app_env, uri: str, folder: Path, engine: str) -> object:
    """Monitoring on the decision log with this MONITORING_ENGINE (caches emptied first)."""
    st.cache_resource.clear()
    st.cache_data.clear()
    app_env(uri, DECISION_LOG=str(folder), MONITORING_ENGINE=engine)
    at = open_page(PAGE)
    at.radio(key="monitoring_source").set_value("Decision log").run()
    assert exceptions(at) == []
    return at


def _frame_with(at, column: str) -> pd.DataFrame:
    """The first table or data grid on the page that has this column."""
    return next(f for f in (e.value for e in [*at.table, *at.dataframe]) if column in f.columns)


def _seen(at) -> dict[str, object]:
    """What a user compares: decisions, metrics, alerts, drift table, charts and notes."""
    (source,) = [c.value for c in at.caption if c.value.startswith("Source: ")]
    return {
        "decisions": source.split(" · ")[1],
        "metrics": {m.label: m.value for m in at.metric},
        "alerts": _frame_with(at, "message"),
        "drift": _frame_with(at, "psi_noise"),
        "charts": [json.loads(c.proto.spec) for c in at.get("plotly_chart")],
        "warnings": [w.value for w in at.warning],
    }


def _same(left: dict[str, object], right: dict[str, object]) -> None:
    for name in ("decisions", "metrics", "charts", "warnings"):
        assert left[name] == right[name], name
    pd.testing.assert_frame_equal(left["alerts"], right["alerts"])
    pd.testing.assert_frame_equal(left["drift"], right["drift"])


def _interact(at, feature: str) -> dict[str, object]:
    """Weekly periods, then one feature compared with its profile."""
    at.radio(key="monitoring_period").set_value("week").run()
    at.selectbox(key="mon_feature").set_value(feature).run()
    assert exceptions(at) == []
    return _seen(at)


def test_duckdb_page_never_reads_the_rows_and_shows_what_pandas_shows(
    file_store, app_env, log, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = log
    # given the page on DuckDB, with the reader's pandas read of the log made to fail
    with monkeypatch.context() as patched:
        patched.setattr(reader, "read_decision_log", _rows_never_read)
        patched.setattr(reader, "_combine", _rows_never_read)
        patched.setattr(cached, "read_decision_log", _rows_never_read)
        duck = _open_log(app_env, file_store.uri, folder, "duckdb")
        # then it renders, counted by DuckDB, and says so with the log's size
        assert "counted with DuckDB: MONITORING_ENGINE=duckdb (" in texts(duck)
        assert "Skipped 1 corrupt or truncated line(s)" in texts(duck)
        alerts = _frame_with(duck, "message")
        assert ("feature PSI", "credit_score") in set(
            zip(alerts["kind"], alerts["subject"], strict=True)
        )
        duckdb_first = _seen(duck)
        # and the period radio and the feature pick work without the rows
        duckdb_weekly = _interact(duck, "home_ownership")
        assert "By week" in texts(duck)
        assert duckdb_weekly["charts"][-1] != duckdb_first["charts"][-1]
    # when the same log is shown with the pandas engine
    pandas = _open_log(app_env, file_store.uri, folder, "pandas")
    assert "counted with pandas: MONITORING_ENGINE=pandas (" in texts(pandas)
    # then decisions, metrics, alerts, the drift table, every chart and the notes are equal
    _same(duckdb_first, _seen(pandas))
    _same(duckdb_weekly, _interact(pandas, "home_ownership"))


def test_duckdb_page_follows_a_growing_log_and_says_outcomes_need_pandas(
    file_store, app_env, log
) -> None:
    folder, frame = log
    at = _open_log(app_env, file_store.uri, folder, "duckdb")
    before = int(_seen(at)["decisions"].split()[0].replace(",", ""))
    # the labelled-data download is not offered, and one sentence says why and how
    assert "No labelled data to download for Diagnostics: DuckDB counts the log" in texts(at)
    assert "with MONITORING_ENGINE=duckdb they are not joined; set it to auto" in texts(at)
    # when a new day file arrives (and the log's files are looked at again)
    last = max(dt.date.fromisoformat(p.name[10:20]) for p in folder.glob("decisions-*"))
    extra = frame.iloc[:40].assign(application_date=str(last + dt.timedelta(days=1)))
    write_scored_log(folder, file_store.uri, file_store.governed[0], frame=extra)
    cached.log_files.clear()
    at.run()
    # then the report is counted again
    assert int(_seen(at)["decisions"].split()[0].replace(",", "")) == before + 40
    # when outcomes are uploaded while the setting forces DuckDB
    outcomes = frame[["applicant_id", "default"]].to_csv(index=False).encode()
    at.get("file_uploader")[0].upload("outcomes.csv", outcomes).run()
    # then the page says they are not joined and why, and shows no accuracy
    assert exceptions(at) == []
    assert "These outcomes are not joined: MONITORING_ENGINE=duckdb counts" in texts(at)
    assert {m.label: m.value for m in at.metric}["AUC"] == "—"


def test_auto_counts_a_large_log_with_duckdb_and_outcomes_with_pandas(
    file_store, app_env, log, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, frame = log
    # given auto and a log above the size at which auto picks DuckDB (lowered for the test)
    monkeypatch.setattr(log_engines, "AUTO_DUCKDB_BYTES", 1_000)
    at = _open_log(app_env, file_store.uri, folder, "auto")
    assert "of day files, above the 1000 bytes at which auto picks DuckDB" in texts(at)
    assert "counted with DuckDB: " in texts(at)
    assert "Uploading outcomes switches this log" in texts(at)
    # when outcomes arrive, auto counts with pandas as the CLI does, and accuracy appears
    outcomes = frame[["applicant_id", "default"]].to_csv(index=False).encode()
    at.get("file_uploader")[0].upload("outcomes.csv", outcomes).run()
    assert exceptions(at) == []
    assert "counted with pandas: outcomes are joined to the decisions row by row" in texts(at)
    assert {m.label: m.value for m in at.metric}["AUC"] != "—"
    assert any(b.label == "Recent labelled data (CSV)" for b in at.get("download_button"))
