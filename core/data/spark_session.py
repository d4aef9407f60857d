"""The SparkSession of a Spark job (batch scoring, monitoring): the user's master, workers on
this Python, loopback for a local master, Arrow batches of --batch-rows rows; pyspark's pandas-3
warning handled; a clear message when pyspark or Java is missing."""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

import core
from core.errors import DataValidationError

# pyspark 4.3 warns that pandas >= 3 is not fully supported (SPARK-55965); the scoring path
# (Arrow batches into mapInPandas) is checked row by row against the service instead.
PANDAS_WARNING = r"PySpark does not yet fully support pandas"
LOOPBACK = "127.0.0.1"


def quiet_pandas_warning() -> None:
    """Silence pyspark's pandas-version warning (driver and workers)."""
    warnings.filterwarnings("ignore", message=PANDAS_WARNING)


def _local(master: str | None) -> bool:
    """True when the master runs on this machine (local, local[N], local[*])."""
    return master is None or master.startswith("local")


def _prepare_environment(master: str | None) -> None:
    """Workers run this Python with `core` importable; a local master binds to loopback."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    root = str(Path(core.__file__).resolve().parent.parent)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([root, *paths])
    if _local(master):
        os.environ.setdefault("SPARK_LOCAL_IP", LOOPBACK)


def check_spark_installed() -> None:
    """Raise a message naming requirements-spark.txt when pyspark or Java is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise DataValidationError(
            "The Spark engine needs pyspark, which is not installed.",
            fix="pip install -r requirements-spark.txt (it pins pyspark; Java 17+ is needed "
            "too), or choose another engine.",
        ) from exc
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and Path(java_home, "bin", "java").exists()):
        raise DataValidationError(
            "The Spark engine needs Java 17+, and no java is on PATH (nor in JAVA_HOME).",
            fix="Install Java (apt-get install default-jre-headless) for the pyspark pinned in "
            "requirements-spark.txt, or choose another engine.",
        )


def spark_session(
    master: str | None, batch_rows: int, app_name: str = "credit-gov score-batch"
):  # -> pyspark.sql.SparkSession
    """The active session (spark-submit's), else one on `master` (default local[*])."""
    check_spark_installed()
    quiet_pandas_warning()
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    configured = SparkConf().get("spark.master", None)
    chosen = master or configured
    _prepare_environment(chosen)
    builder = SparkSession.builder.appName(app_name)
    if master or not configured:
        builder = builder.master(master or "local[*]")
    if _local(master or configured or "local"):
        builder = builder.config("spark.driver.host", LOOPBACK).config(
            "spark.driver.bindAddress", LOOPBACK
        )
    session = builder.getOrCreate()
    session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_rows))
    session.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    return session
