"""The Spark engine (mapInPandas on local[2]) gives the service's answer for every row."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core.batch.job import run_batch_job
from core.batch.manifest import MANIFEST_NAME
from core.errors import DataValidationError
from tests.helpers import batch_scoring as batch
from tests.helpers.spark_fixtures import SPARK_MASTER as MASTER

pytestmark = pytest.mark.spark


def test_spark_engine_gives_the_service_answer_for_every_row(
    spark, promoted, tmp_path: Path
) -> None:
    # given 1,000 applicants as a CSV file and the promoted model
    frame = batch.applicants(1_000, seed=21)
    source = tmp_path / "book.csv"
    frame.to_csv(source, index=False)
    spark_options = batch.options(
        source, tmp_path / "scored", engine="spark", spark_master=MASTER, batch_rows=400
    )
    # when Spark scores it (batches of 400 rows) with explanations for declines
    report = run_batch_job(promoted.settings, spark_options)
    # then every row is the service's own answer to 1e-12, reasons and all
    written = pd.read_parquet(tmp_path / "scored").sort_values("applicant_id")
    book = pd.read_csv(source).sort_values("applicant_id")
    expected = batch.service_answers(promoted.settings, book)
    batch.assert_same_as_service(written.reset_index(drop=True), expected, "risk_score")
    assert written["applicant_id"].tolist() == sorted(frame["applicant_id"])
    manifest = json.loads((tmp_path / "scored" / MANIFEST_NAME).read_text())
    assert manifest["input_rows"] == manifest["output_rows"] == 1_000
    assert manifest["engine"] == "spark" and "pyspark" in manifest["versions"]
    assert report.check.passed and report.check.rows == 200


def test_spark_engine_names_an_unscorable_value_and_writes_nothing(
    spark, promoted, tmp_path: Path
) -> None:
    # given a book whose credit score holds text in one row
    frame = batch.applicants(300, seed=22)
    frame["credit_score"] = frame["credit_score"].astype(str)
    frame.loc[123, "credit_score"] = "n/a"
    source = batch.write_parquet(frame, tmp_path / "book.parquet")
    spark_options = batch.options(source, tmp_path / "scored", engine="spark", spark_master=MASTER)
    # when Spark scores it / then the worker's message names the value, nothing is written
    with pytest.raises(DataValidationError, match="n/a"):
        run_batch_job(promoted.settings, spark_options)
    batch.assert_nothing_written(tmp_path, tmp_path / "scored")
