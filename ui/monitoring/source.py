"""Monitoring widgets that choose what to monitor: the run, the recent data and the outcomes."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from core.data.tables import read_table_bytes
from core.errors import GovernanceError
from core.evaluation.eval_data import content_fingerprint
from core.monitoring import sources
from core.monitoring.log_summary import choose_engine, size_text
from core.record.manifest import PromotionManifest, read_manifest
from core.run_schema import model_uri
from core.store.access import RunsTable
from ui.monitoring import cache as cached
from ui.monitoring.picked import Picked
from ui.shared import cache
from ui.shared.champion import put_in_force
from ui.shared.context import StoreContext, show_error
from ui.shared.markdown_text import literal
from ui.shared.run_picker import run_names
from ui.shared.selection import run_selectbox, selected_threshold, shown_run

LOG = "Decision log"
UPLOADED = "Upload a file"
SIMULATED = "Simulated recent applications (demo)"
NONE = "(none)"
RUN_WIDGET = "monitoring_run"


def promoted(context: StoreContext) -> PromotionManifest | None:
    """The manifest in force, or None (after showing why when it is unreadable)."""
    try:
        return read_manifest(context.settings.promotion_manifest)
    except GovernanceError as exc:
        show_error(exc)
        return None


def _usable(table: RunsTable) -> pd.DataFrame:
    """Runs with a model and a validation set: those that can score files and the demo."""
    return table.runs[table.runs["has_model"] & table.runs["has_validation_set"]]


def pick_monitored_run(
    context: StoreContext, table: RunsTable, manifest: PromotionManifest | None
) -> tuple[str, float]:
    """The run files and the demo are scored with (the shared selection) and its threshold."""
    usable = _usable(table)
    if usable.empty:
        st.info(
            "No run has both a model and a logged validation set, so there is no reference to "
            "compare with. Train governed runs with `python -m core train --demo`."
        )
        st.stop()
    run_id = run_selectbox(
        "Run that scores the recent data",
        context,
        table.runs,
        usable,
        key=RUN_WIDGET,
        why_unusable="logged no model and validation set to monitor against",
    )
    if manifest is not None and manifest.run_id == run_id:
        names = run_names(usable)
        st.success(
            f"Monitoring the promoted run **{literal(names[run_id])}** (`{run_id}`) at threshold "
            f"**{manifest.threshold}**, {put_in_force(manifest.action)} by "
            f"{literal(manifest.promoted_by)} on "
            f"{manifest.promoted_at[:10]}.",
            icon=":material/verified:",
        )
        return run_id, float(manifest.threshold)
    threshold = selected_threshold(context.settings)
    status = "Nothing is promoted yet" if manifest is None else "This run is not the promoted one"
    st.info(
        f"{status}: it is monitored as a candidate, at the selected threshold {threshold:.4f}.",
        icon=":material/info:",
    )
    return run_id, float(threshold)


def _uploaded(context: StoreContext, run_id: str, threshold: float) -> Picked | None:
    """A user's file of recent applications or decisions, with its date and outcome columns."""
    upload = st.file_uploader(
        "Recent applications or decisions (CSV or Parquet) with the model's features; "
        "a date column and an outcome column are optional",
        type=["csv", "parquet"],
        key="monitoring_upload",
    )
    if upload is None:
        return None
    content = upload.getvalue()
    columns = [NONE, *map(str, read_table_bytes(upload.name, content).columns)]
    guess = sources.guess_column(columns, sources.DATE_CANDIDATES)
    left, right = st.columns(2)
    date = left.selectbox(
        "Date column", columns, index=columns.index(guess) if guess else 0, key="monitoring_date"
    )
    outcome = right.selectbox("Outcome column (1 = default)", columns, key="monitoring_label")
    date_column = None if date == NONE else date
    outcome_column = None if outcome == NONE else outcome
    fingerprint = content_fingerprint(content)
    recent = cached.uploaded(
        context.tracking_uri, run_id, threshold, upload.name, fingerprint, date_column,
        outcome_column, _content=content,
    )  # fmt: skip
    return Picked(recent, f"file|{run_id}|{threshold}|{fingerprint}|{date_column}|{outcome_column}")


def _not_simulated(context: StoreContext, table: RunsTable) -> tuple[str, list[str]]:
    """The run that would score the simulated feed and its features the feed does not make
    (none when the run is a model of the demo book, or when its model cannot be read here:
    the simulated source then shows why)."""
    usable = _usable(table)
    if usable.empty:
        return "", []
    run_id = shown_run(context, table.runs, usable["run_id"].astype(str).tolist(), RUN_WIDGET)
    try:
        model = cache.model(context.tracking_uri, model_uri(run_id))
    except GovernanceError:
        return run_id, []
    return run_id, sources.features_not_simulated(model.feature_names)


def pick_source(context: StoreContext, table: RunsTable, manifest: PromotionManifest | None) -> str:
    """The recent-data source: the decision log by default once a run is promoted; the
    simulated feed only for a model of the demo book (it generates the demo's features)."""
    run_id, missing = _not_simulated(context, table)
    no_reference = not run_id  # no run has a model and a validation set
    simulated = not missing and not no_reference
    options = [LOG, UPLOADED, SIMULATED] if simulated else [LOG, UPLOADED]
    if st.session_state.get("monitoring_source") not in options:
        has_log = manifest is not None and context.settings.decision_log_dir.is_dir()
        st.session_state["monitoring_source"] = (
            LOG if has_log else SIMULATED if simulated else UPLOADED
        )
    choice = st.radio("Recent data", options, horizontal=True, key="monitoring_source")
    if no_reference:
        st.caption(
            "No simulated feed: no run in this experiment has both a model and a logged "
            "validation set to score it and compare it with."
        )
    elif missing:
        name = literal(run_names(table.runs).get(run_id, run_id))
        shown = ", ".join(literal(f) for f in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        st.caption(
            f"No simulated feed for **{name}**: the simulation generates the demo book's "
            f"features, and this model needs {len(missing)} it does not ({shown}{more}).",
        )
    return choice


def _logged(context: StoreContext, manifest: PromotionManifest | None) -> Picked:
    """The decision log's files; the engine that counts them is chosen with the outcomes."""
    if manifest is not None:
        st.caption(
            f"The promoted run is `{manifest.run_id[:8]}` at threshold {manifest.threshold}; "
            "each logged decision is compared with the profile of the run that made it."
        )
    files = cached.log_files(str(context.settings.decision_log_dir))
    return Picked(None, files.key, files)


def pick_recent(
    context: StoreContext, table: RunsTable, manifest: PromotionManifest | None, choice: str
) -> Picked | None:
    """The recent data from the chosen source; files and the demo need a run to score them."""
    try:
        if choice == LOG:
            return _logged(context, manifest)
        run_id, threshold = pick_monitored_run(context, table, manifest)
        if choice == UPLOADED:
            return _uploaded(context, run_id, threshold)
        drift = st.slider(
            "Drift reached by the last month (0 = same population as training)",
            0.0, 1.5, 1.0, 0.1, key="monitoring_drift",
        )  # fmt: skip
        st.caption(
            "Six months of simulated applications with outcomes from the built-in generator "
            "(the demo for `make run`). Pick *Decision log* or *Upload a file* for real data."
        )
        return Picked(
            cached.simulated(context.tracking_uri, run_id, threshold, drift),
            f"demo|{run_id}|{threshold}|{drift}",
        )
    except GovernanceError as exc:
        show_error(exc)
        return None


def pick_outcomes(context: StoreContext, picked: Picked) -> Picked | None:
    """Outcomes joined by request or applicant id from an optional upload; for the decision
    log, the engine that counts it (pandas when outcomes are joined, as the CLI picks)."""
    upload = st.file_uploader(
        "Outcomes that arrived later (CSV or Parquet: request_id or applicant_id, and a 0/1 "
        "outcome column)",
        type=["csv", "parquet"],
        key="monitoring_outcomes",
    )
    try:
        if picked.log is not None:
            picked = _counted_by(context, picked, upload is not None)
        if upload is None or picked.recent is None:
            return picked
        content = upload.getvalue()
        outcomes = read_table_bytes(upload.name, content)
        joined = sources.join_outcomes(picked.recent, outcomes)
    except GovernanceError as exc:
        show_error(exc)
        return None
    key = f"{picked.key}|outcomes|{content_fingerprint(content)}"
    return replace(picked, recent=joined, key=key)


def _counted_by(context: StoreContext, picked: Picked, with_outcomes: bool) -> Picked:
    """The log with its engine: DuckDB leaves the rows unread; pandas reads them (once per
    log key). Says when outcomes need the pandas engine."""
    files = picked.log
    setting = context.settings.monitoring_engine
    choice = choose_engine(setting, files, with_outcomes)
    if choice.outcomes_refused:
        st.warning(
            "These outcomes are not joined: MONITORING_ENGINE=duckdb counts the log without "
            "holding its rows, and outcomes are joined to the decisions row by row. Set "
            "MONITORING_ENGINE=auto (or pandas) to join them; the log is then read into memory.",
            icon=":material/info:",
        )
    elif setting == "duckdb":
        st.caption(
            "Outcomes are joined to the decisions row by row, which needs the pandas engine: "
            "with MONITORING_ENGINE=duckdb they are not joined; set it to auto or pandas."
        )
    elif choice.engine == "duckdb":
        st.caption(
            f"Uploading outcomes switches this log ({size_text(files.size)} of day files) to "
            "the pandas engine, which reads its rows into memory to join them one by one."
        )
    if choice.engine == "duckdb":
        return replace(picked, engine=choice)
    recent = cached.decision_log(files.folders[0], files.key)
    return replace(picked, recent=recent, engine=choice)


def engine_caption(picked: Picked) -> str:
    """Which engine counted the decision log and why, or '' for another source."""
    if picked.engine is None:
        return ""
    name = "DuckDB" if picked.engine.engine == "duckdb" else "pandas"
    return f" · counted with {name}: {picked.engine.reason}"


def no_labelled_rows(picked: Picked) -> str:
    """Why the labelled-data download is not offered on the DuckDB path, with the fix."""
    if picked.recent is not None or picked.engine is None:
        return ""
    return (
        "No labelled data to download for Diagnostics: DuckDB counts the log without holding "
        "its rows, and the log has no outcomes. Upload outcomes under *Outcomes that arrived "
        "later* with MONITORING_ENGINE=auto or pandas (the log is then read with pandas)."
    )
