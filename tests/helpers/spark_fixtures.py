"""The one local[2] Spark session of a test session (batch scoring and monitoring share it)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

SPARK_MASTER = "local[2]"


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local[2] session for the whole test session, stopped at its end; skipped with a
    reason without Java or pyspark, failed under CI without Java."""
    if shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail("Java is not installed: .ci/run must apt-get install default-jre-headless")
        pytest.skip("Java is not installed (apt-get install default-jre-headless)")
    pytest.importorskip("pyspark", reason="pyspark is pinned in requirements-spark.txt")
    from core.data.spark_session import spark_session

    session = spark_session(SPARK_MASTER, 100_000)
    yield session
    session.stop()
