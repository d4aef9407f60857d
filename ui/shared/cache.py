"""Cached wrappers used across pages, keyed by immutable inputs: clients, runs, models, records."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from core.settings import store_kind
from core.store import access as store
from core.store import client as store_client
from core.store.client import StoreClient
from core.store.run_record import RunRecord, fetch_run_record
from core.store.server_runs import RunsProgress, ServerRunsCache, ServerRunsReader

if TYPE_CHECKING:  # LightGBM is imported by the model loader, not by every page's first run
    from core.scoring.loaded_model import LoadedModel

RUNS_TABLE_TTL_SECONDS = 30


@st.cache_resource(show_spinner=False)
def client_for(tracking_uri: str) -> StoreClient:
    """One explicit MlflowClient per tracking URI whose store exists (a UI never creates one)."""
    return store_client.open_client(tracking_uri, must_exist=True)


@st.cache_data(ttl=RUNS_TABLE_TTL_SECONDS, show_spinner=False)
def experiments(tracking_uri: str) -> list[store_client.ExperimentInfo]:
    """The store's active experiments."""
    return store_client.list_experiments(client_for(tracking_uri))


def runs_table(tracking_uri: str, experiment_id: str, partition_size: int) -> store.RunsTable:
    """The runs table of an experiment: a tracking server's as read so far, any other whole.

    partition_size is the RUNS_SEARCH_PARTITION setting (runs per parallel search window)."""
    if store_kind(tracking_uri) == "server":
        return server_runs(tracking_uri, experiment_id, partition_size).table
    return _local_runs_table(tracking_uri, experiment_id, partition_size)


@st.cache_data(ttl=RUNS_TABLE_TTL_SECONDS, show_spinner="Reading runs…")
def _local_runs_table(
    tracking_uri: str, experiment_id: str, partition_size: int
) -> store.RunsTable:
    """The runs table of a file, SQLite or PostgreSQL store, refreshed every 30 s."""
    client = client_for(tracking_uri)
    return store.load_runs_table(client, tracking_uri, experiment_id, partition_size)


@st.cache_resource(show_spinner=False)
def _server_runs_cache(
    tracking_uri: str, experiment_id: str, partition_size: int
) -> ServerRunsCache:
    """One renewing read of a server experiment's runs per process, shared by every session."""
    client = client_for(tracking_uri)
    return ServerRunsCache(
        lambda: ServerRunsReader(client, experiment_id, partition_size=partition_size),
        RUNS_TABLE_TTL_SECONDS,
    )


def server_runs(tracking_uri: str, experiment_id: str, partition_size: int) -> RunsProgress:
    """A tracking server's runs as read so far: the newest page at once, the rest following."""
    with st.spinner("Reading the newest runs…"):
        return _server_runs_cache(tracking_uri, experiment_id, partition_size).current()


@st.cache_resource(show_spinner="Reading the run…", ttl=RUNS_TABLE_TTL_SECONDS, max_entries=64)
def run_record(tracking_uri: str, run_id: str) -> RunRecord:
    """One run's record (run, folds, CV statistics), read once and refreshed every 30 s."""
    return fetch_run_record(client_for(tracking_uri), run_id)


@st.cache_resource(show_spinner="Loading model…", max_entries=16)
def model(tracking_uri: str, model_uri: str) -> LoadedModel:
    """A run's model, keyed by its immutable runs:/<id>/model URI."""
    run_id = model_uri.removeprefix("runs:/").split("/")[0]
    return store.load_model(tracking_uri, run_id)


@st.cache_data(show_spinner="Loading validation set…", max_entries=16)
def validation_set(tracking_uri: str, run_id: str) -> pd.DataFrame:
    """A governed run's logged validation set (immutable once logged)."""
    return store.load_validation_set(client_for(tracking_uri), run_id)


def clear_all() -> None:
    """Forget every cached value (the sidebar's Reload button)."""
    st.cache_data.clear()
    st.cache_resource.clear()
