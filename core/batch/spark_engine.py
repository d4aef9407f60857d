"""The Spark engine: mapInPandas with the same Scorer. The export folder is shipped with
SparkContext.addFile; each Python worker loads it once, checks its sha256 and warms it up
(core.batch.worker); no model object travels inside the job."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from core.batch.check import sample_positions
from core.batch.model import ModelFolder
from core.batch.options import BatchOptions, EngineResult
from core.batch.rows import Explain, output_columns, score_rows
from core.batch.source import id_column, input_files
from core.batch.worker import worker_model
from core.data.spark_session import quiet_pandas_warning, spark_session
from core.data.tables import CSV_SUFFIXES, check_unique_columns, sniff_delimiter
from core.errors import DataValidationError
from core.scoring.scorer import DECLINE
from core.serving.model_holder import ServedModel

_WORKER_ERROR = re.compile(r"core\.\w+(?:\.\w+)*\.(\w+Error): (.+)")


def _schema(served: ServedModel) -> str:
    """The output's Spark schema (DDL), in the output's column order."""
    types = {"raw_score": "double", "threshold": "double", "promoted": "boolean"}
    score = output_columns(served)[1]
    types[score] = "double"
    return ", ".join(f"`{c}` {types.get(c, 'string')}" for c in output_columns(served))


def _read(session, path: Path):  # -> pyspark.sql.DataFrame
    """The input as a Spark DataFrame: Parquet, or CSV with the table reader's delimiter."""
    files = input_files(path)
    for file in files:
        if not file.is_file():
            raise DataValidationError(f"No file at '{file}'.", fix="Check the input path.")
    kinds = {f.suffix.lower() in CSV_SUFFIXES for f in files}
    if len(kinds) > 1:
        raise DataValidationError(
            f"'{path}' mixes CSV and Parquet files.", fix="Give one format per folder."
        )
    names = [str(f) for f in files]
    if kinds == {True}:
        with files[0].open(encoding="utf-8-sig") as handle:
            head = handle.read(1 << 20)
        delimiter = sniff_delimiter(head)
        header = next(csv.reader(head.splitlines()[:1], delimiter=delimiter), [])
        check_unique_columns(header, files[0].name)
        return session.read.csv(names, header=True, sep=delimiter, inferSchema=True)
    return session.read.parquet(*names)


def _scoring_function(
    model: ModelFolder, folder_name: str, explain: Explain, ids: str
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The function every Python worker runs: its own verified model, then each Arrow batch."""

    def score(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from pyspark import SparkFiles

        quiet_pandas_warning()
        served = worker_model(model, Path(SparkFiles.get(folder_name)))
        for frame in frames:
            yield score_rows(served, model.promoted, frame, explain, ids)

    return score


def _worker_error(exc: Exception) -> Exception:
    """A product error raised inside a worker, as that error (else the Spark error itself)."""
    found = _WORKER_ERROR.findall(str(exc))
    if not found:
        return exc
    return DataValidationError(
        f"A Spark worker refused a batch: {found[-1][1].strip()}",
        fix="Correct the input and run the job again.",
    )


def _sample(session, frame, staging: Path, ids: str, size: int) -> tuple[pd.DataFrame, ...]:
    """Hash-chosen output rows (by applicant id) and the input rows with those ids."""
    import pyarrow.dataset as ds
    from pyspark.sql import functions as F

    written = ds.dataset(staging, format="parquet")
    all_ids = written.to_table(columns=["applicant_id"]).column(0).to_pandas()
    chosen = all_ids.iloc[sample_positions(all_ids, size)].tolist()
    outputs = written.to_table(filter=ds.field("applicant_id").isin(chosen)).to_pandas()
    keys = session.createDataFrame(pd.DataFrame({"__sample_id": chosen}))
    matched = frame.join(F.broadcast(keys), F.col(ids).cast("string") == F.col("__sample_id"))
    inputs = matched.drop("__sample_id").toPandas()
    if len(inputs) != len(outputs):
        raise DataValidationError(
            f"The id column '{ids}' is not unique: the sample check cannot pair rows.",
            fix="Give every applicant its own id.",
        )
    inputs = inputs.sort_values(ids, key=lambda s: s.astype(str), kind="stable")
    outputs = outputs.sort_values("applicant_id", kind="stable")
    return inputs.reset_index(drop=True), outputs.reset_index(drop=True)


def run_spark(
    served: ServedModel, model: ModelFolder, options: BatchOptions, staging: Path
) -> EngineResult:
    """Score the input on Spark into the staging folder (Parquet part files)."""
    import pyarrow.dataset as ds

    session = spark_session(options.spark_master, options.batch_rows)
    frame = _read(session, options.input)
    served.scorer.prepare(pd.DataFrame(columns=frame.columns))  # a missing feature, named
    ids = id_column(frame.columns, served.scorer.features)
    if ids is None:
        raise DataValidationError(
            "The Spark engine needs an id column (id, applicant_id or row_id) in the input.",
            fix="Add an id column, or use --engine local (it numbers the rows).",
        )
    session.sparkContext.addFile(str(model.folder), recursive=True)
    function = _scoring_function(model, model.folder.name, options.explain, ids)
    try:
        frame.mapInPandas(function, schema=_schema(served)).write.parquet(str(staging))
    except Exception as exc:  # Spark wraps a worker's error: give the product's message
        raise _worker_error(exc) from exc
    written = ds.dataset(staging, format="parquet")
    inputs, outputs = _sample(session, frame, staging, ids, options.check_sample)
    return EngineResult(
        input_rows=frame.count(),
        output_rows=written.count_rows(),
        declines=written.count_rows(filter=ds.field("decision") == DECLINE),
        sample_inputs=inputs,
        sample_outputs=outputs[output_columns(served)],
    )
