"""Shared fixtures: real temporary MLflow stores (file, sqlite, server) and app settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, dashboard_server
from tests.helpers.postgres_cluster import (
    Cluster,
    find_pg_binary,
    mlflow_server_command,
    postgres_cluster,
)
from tests.helpers.processes import free_port, serving
from tests.helpers.store_builders import (
    copy_file_store,
    log_foreign_runs,
    log_seed_pattern_run,
    train_governed_runs,
)

# Fixture modules: each fixture is defined once, so a session-scoped one is built once.
pytest_plugins = (
    "tests.helpers.german_store",
    "tests.helpers.markdown_store",
    "tests.helpers.oidc_provider",
    "tests.helpers.promotion_fixtures",
    "tests.helpers.serving_fixtures",
    "tests.helpers.spark_fixtures",
)
# Under pytest-xdist (`make test` runs `-n 2 --dist loadgroup`), the tests that share one of
# these costly session fixtures run on one worker, so each is started once, not once a worker.
SHARED_FIXTURE_GROUPS = {
    "spark": "spark",
    "postgres_database": "postgres",
    "server_store": "tracking-server",
    "chromium": "browser",
}
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put each test on the xdist group of the first costly session fixture it uses."""
    for item in items:
        used = getattr(item, "fixturenames", ())
        group = next((g for f, g in SHARED_FIXTURE_GROUPS.items() if f in used), None)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


@dataclass(frozen=True)
class Store:
    """A populated test store: its URI, governed run ids and foreign run ids."""

    uri: str
    path: Path
    governed: tuple[str, ...]
    seed_pattern: str
    foreign: dict[str, str]


def _populate(uri: str) -> tuple[tuple[str, ...], str, dict[str, str]]:
    """Governed runs, a seed-pattern run and foreign runs in one store."""
    governed = tuple(train_governed_runs(uri))
    seed = log_seed_pattern_run(uri)
    foreign = log_foreign_runs(uri)
    return governed, seed, foreign


@pytest.fixture(scope="session")
def file_store_template(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A populated file store built once per session (do not write to it)."""
    path = tmp_path_factory.mktemp("template") / "mlruns"
    uri = f"file:{path}"
    governed, seed, foreign = _populate(uri)
    return Store(uri, path, governed, seed, foreign)


@pytest.fixture()
def file_store(file_store_template: Store, tmp_path: Path) -> Store:
    """A private copy of the populated file store."""
    path = copy_file_store(file_store_template.path, tmp_path / "mlruns")
    t = file_store_template
    return Store(f"file:{path}", path, t.governed, t.seed_pattern, t.foreign)


@pytest.fixture(scope="session")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A populated SQLite store (session-wide; tests that write make their own)."""
    folder = tmp_path_factory.mktemp("sqlite")
    previous = Path.cwd()
    os.chdir(folder)
    try:
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        governed, seed, foreign = _populate(uri)
    finally:
        os.chdir(previous)
    return Store(uri, folder / "mlflow.db", governed, seed, foreign)


@contextmanager
def _populated_server(folder: Path, backend_uri: str) -> Iterator[Store]:
    """A real `mlflow server` on loopback over a backend store, populated, stopped after."""
    port = free_port()
    command = mlflow_server_command(backend_uri, folder / "artifacts", port)
    uri = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    with serving(command, folder, dict(os.environ), log, (f"{uri}/health", "OK"), timeout=120):
        governed, seed, foreign = _populate(uri)
        yield Store(uri, folder, governed, seed, foreign)


@pytest.fixture(scope="session")
def server_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A real `mlflow server` on loopback (sqlite backend), populated, stopped after."""
    folder = tmp_path_factory.mktemp("server")
    with _populated_server(folder, f"sqlite:///{folder / 'mlflow.db'}") as store:
        yield store


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster with an empty `mlflow` database (session-wide)."""
    if find_pg_binary("initdb") is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run must apt-get install postgresql")
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def postgres_store(
    postgres_database: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A real `mlflow server` on the PostgreSQL cluster, serving artifacts, populated."""
    folder = tmp_path_factory.mktemp("postgres")
    with _populated_server(folder, postgres_database.url) as store:
        yield store


@pytest.fixture()
def clear_streamlit_caches() -> Iterator[None]:
    """Streamlit caches are process-global: start and end each test with empty ones."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture()
def app_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clear_streamlit_caches: None
) -> Iterator[callable]:
    """Point the app at a store: call with a tracking URI (and optional extra env vars)."""

    def configure(uri: str, **extra: str) -> Path:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "credit_risk_experiment")
        monkeypatch.setenv("PROMOTION_MANIFEST", str(tmp_path / "deploy" / "promotion.json"))
        for key, value in extra.items():
            monkeypatch.setenv(key, value)
        return tmp_path

    monkeypatch.chdir(tmp_path)
    yield configure


@pytest.fixture(scope="session")
def dashboard_url(file_store_template: Store, tmp_path_factory: pytest.TempPathFactory):
    """`streamlit run app.py` on a free loopback port over a copy of the populated store."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: .ci/run must apt-get install chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("browser")
    store = copy_file_store(file_store_template.path, folder / "mlruns")
    with dashboard_server(
        folder,
        MLFLOW_TRACKING_URI=f"file:{store}",
        MLFLOW_EXPERIMENT_NAME="credit_risk_experiment",
        PROMOTION_MANIFEST=str(folder / "deploy" / "promotion.json"),
    ) as url:
        yield url


@pytest.fixture(scope="session")
def chromium(dashboard_url: str):
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
