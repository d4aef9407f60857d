"""A throwaway PostgreSQL cluster (initdb, pg_ctl) and `mlflow server` on it, for tests and bench.

initdb refuses to run as root: when the process is root (CI containers), the cluster's folder is
handed to the `postgres` system user (else `nobody`) and the binaries run through `runuser`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.processes import free_port

DATABASE = "mlflow"
SUPERUSER = "mlflow"
# Durability is useless for a throwaway cluster: these make schema migration and seeding fast.
FAST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def find_pg_binary(name: str) -> str | None:
    """A PostgreSQL server binary on PATH, else the newest /usr/lib/postgresql/*/bin one."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0,
    )
    return candidates[-1] if candidates else None


def _run_as() -> list[str]:
    """The command prefix that drops root (initdb and postgres refuse to run as root)."""
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


@dataclass(frozen=True)
class Cluster:
    """A running cluster: its data folder, port and the SQLAlchemy URL of the mlflow database."""

    folder: Path
    port: int

    @property
    def dsn(self) -> str:
        """libpq URL of the mlflow database (trust authentication on loopback)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL for MLflow: SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3,
        so the psycopg2 driver is named explicitly."""
        return self.dsn.replace("postgresql://", "postgresql+psycopg2://", 1)


@contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    """initdb a cluster in a temporary folder, start it on a free loopback port, stop after."""
    initdb, pg_ctl = find_pg_binary("initdb"), find_pg_binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise FileNotFoundError(
            "PostgreSQL server binaries not found (apt-get install -y postgresql)"
        )
    prefix = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="pg-cluster-"))
    if prefix:
        user = pwd.getpwnam(prefix[2])
        os.chown(folder, user.pw_uid, user.pw_gid)
    data, port = folder / "data", free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True}
    try:
        subprocess.run(
            [*prefix, initdb, "-D", str(data), "-U", SUPERUSER, "--auth=trust",
             "-E", "UTF8", "--no-sync", "--no-instructions"],
            **quiet,
        )  # fmt: skip
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 {FAST_OPTIONS}"
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "pg.log"),
             "-w", "-t", "60", "start"],
            **quiet,
        )  # fmt: skip
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres"
        )
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {DATABASE}")
        connection.close()
        yield Cluster(folder, port)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        shutil.rmtree(folder, ignore_errors=True)


def mlflow_server_command(
    backend_uri: str, artifacts: Path, port: int, *extra: str, workers: int = 1
) -> list[str]:
    """`mlflow server` on loopback over a backend store, serving artifacts from a folder."""
    return [
        sys.executable, "-m", "mlflow", "server",
        "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", backend_uri,
        "--serve-artifacts", "--artifacts-destination", str(artifacts),
        "--workers", str(workers), *extra,
    ]  # fmt: skip
