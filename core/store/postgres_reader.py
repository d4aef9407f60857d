"""Read an experiment's runs straight from a tracking server's PostgreSQL database, read-only.

The same standard-SQL queries as the SQLite fast path (a few queries for every run, param,
latest metric, tag, fold history and model output), bound in psycopg2's parameter style. Through
the HTTP server, `search_runs` costs seconds per 1,000 runs; reading the database directly takes
the Runs page at 20,000 runs under its 10 s goal. Any surprise raises PostgresReadError so the
caller can fall back to the MLflow client.
"""

from __future__ import annotations

import re

from core.store import sqlite_reader
from core.store.filestore_reader import RawRun

_ACTIVE_RUNS = sqlite_reader.ACTIVE_RUNS.replace(":exp", "%(exp)s")
_DRIVER = re.compile(r"^postgresql\+\w+://")


class PostgresReadError(Exception):
    """The database cannot be read, or lacks the MLflow tables and columns the queries use."""


def libpq_dsn(tracking_uri: str) -> str:
    """The libpq URL of a SQLAlchemy postgresql[+driver]:// tracking URI."""
    return _DRIVER.sub("postgresql://", tracking_uri)


def _query(connection, sql: str, experiment_id: int) -> list[tuple]:
    """Rows of one query restricted to the experiment's active runs."""
    with connection.cursor() as cursor:
        cursor.execute(sql.format(active=_ACTIVE_RUNS), {"exp": experiment_id})
        return cursor.fetchall()


def _check_schema(connection) -> None:
    """Raise PostgresReadError unless every table and column the queries use exists."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ANY(%s)",
            (list(sqlite_reader.REQUIRED_COLUMNS),),
        )
        present: dict[str, set[str]] = {}
        for table, column in cursor.fetchall():
            present.setdefault(table, set()).add(column)
    for table, columns in sqlite_reader.REQUIRED_COLUMNS.items():
        missing = columns - present.get(table, set())
        if missing:
            raise PostgresReadError(f"table {table} lacks {', '.join(sorted(missing))}")


def read_postgres_runs(tracking_uri: str, experiment_id: str) -> list[RawRun]:
    """All active runs of one experiment as RawRuns (fold metrics with their full history)."""
    import psycopg2

    try:
        exp = int(experiment_id)
    except ValueError as exc:
        raise PostgresReadError(f"experiment id {experiment_id!r} is not an integer") from exc
    try:
        connection = psycopg2.connect(libpq_dsn(tracking_uri), connect_timeout=5)
    except psycopg2.Error as exc:
        raise PostgresReadError(f"{type(exc).__name__}: {exc}".strip()) from exc
    try:
        connection.set_session(readonly=True)
        _check_schema(connection)
        return sqlite_reader.read_runs(connection, exp, _query)
    except psycopg2.Error as exc:
        raise PostgresReadError(f"{type(exc).__name__}: {exc}".strip()) from exc
    finally:
        connection.close()
