"""A whole batch scoring job: model verified, input scored by an engine, the sample checked,
the manifest written; all into a staging folder renamed to the output only on success."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.batch.check import SampleCheck, check_sample, sample_positions
from core.batch.local_engine import Progress, batches, run_local
from core.batch.manifest import scoring_manifest, write_manifest
from core.batch.model import ModelFolder, promoted_model, run_model
from core.batch.options import BatchOptions, EngineResult
from core.batch.source import applicant_ids, id_column, read_applicants
from core.errors import DataValidationError
from core.serving.model_holder import ServedModel
from core.settings import Settings


@dataclass(frozen=True)
class BatchReport:
    """A finished job: where its output is, its manifest and counts."""

    output: Path
    manifest: dict[str, object]
    check: SampleCheck

    @property
    def rows(self) -> int:
        """Rows written."""
        return int(self.manifest["output_rows"])  # type: ignore[arg-type]


def _check_paths(options: BatchOptions) -> None:
    """Refuse an output that exists or whose folder does not, and bad sizes."""
    output = options.output
    if output.exists():
        raise DataValidationError(
            f"'{output}' already exists; a job never overwrites an output.",
            fix="Give a new output path, or remove the old one first.",
        )
    if not output.parent.is_dir():
        raise DataValidationError(
            f"The folder '{output.parent}' for the output does not exist.",
            fix="Create it first, or give an output path inside an existing folder.",
        )
    if options.batch_rows < 1 or options.workers < 1 or options.check_sample < 0:
        raise DataValidationError(
            "--batch-rows and --workers must be at least 1, --check-sample at least 0.",
            fix="Give positive sizes.",
        )


def _model(
    settings: Settings, options: BatchOptions, work: Path
) -> tuple[ModelFolder, ServedModel]:
    """The promoted model, or the named run at the given (or the settings') threshold."""
    if options.run_id is None:
        return promoted_model(settings)
    threshold = options.threshold or float(settings.decision_threshold)
    return run_model(settings, options.run_id, threshold, work)


def _local(
    served: ServedModel,
    model: ModelFolder,
    options: BatchOptions,
    staging: Path,
    on_progress: Progress | None,
) -> EngineResult:
    """Read the input, check its columns against the model, score it on local processes."""
    frame = read_applicants(options.input)
    served.scorer.prepare(frame.iloc[:0])  # a missing feature is named before any work starts
    ids_from = id_column([str(c) for c in frame.columns], served.scorer.features)
    sample = sample_positions(applicant_ids(frame, ids_from), options.check_sample)
    jobs = list(batches(frame, options.batch_rows, sample, staging))
    done = run_local(served, model, jobs, options.explain, ids_from, options.workers, on_progress)
    outputs = [d.sample for d in done if len(d.sample)]
    return EngineResult(
        input_rows=len(frame),
        output_rows=sum(d.rows for d in done),
        declines=sum(d.declines for d in done),
        sample_inputs=frame.iloc[sample].reset_index(drop=True),
        sample_outputs=pd.concat(outputs, ignore_index=True) if outputs else pd.DataFrame(),
    )


def run_batch_job(
    settings: Settings, options: BatchOptions, on_progress: Progress | None = None
) -> BatchReport:
    """Score the input into options.output; nothing appears there unless every step succeeds."""
    started = time.perf_counter()
    _check_paths(options)
    staging = options.output.parent / f".{options.output.name}.staging-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="score-batch-") as work:
        model, served = _model(settings, options, Path(work))
        try:
            if options.engine == "spark":
                from core.batch.spark_engine import run_spark

                result = run_spark(served, model, options, staging)
            else:
                staging.mkdir()
                result = _local(served, model, options, staging, on_progress)
            check = check_sample(
                served, result.sample_inputs, result.sample_outputs, options.explain != "none"
            )
            if result.output_rows != result.input_rows:
                raise DataValidationError(
                    f"{result.input_rows:,} rows were read but {result.output_rows:,} written.",
                    fix="Run the job again; report this as a defect if it repeats.",
                )
            content = scoring_manifest(options, model, result, check, time.perf_counter() - started)
            write_manifest(staging, content)
            staging.rename(options.output)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return BatchReport(options.output, content, check)
