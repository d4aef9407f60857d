"""`_SCORING_MANIFEST.json`: what a batch job scored, with what, and how it was checked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from core.batch.check import SampleCheck
from core.batch.model import ModelFolder
from core.batch.options import BatchOptions, EngineResult
from core.code_version import code_version, package_versions

MANIFEST_NAME = "_SCORING_MANIFEST.json"
SCHEMA_VERSION = 1


def _versions(engine: str) -> dict[str, object]:
    """The versions that scored (pyspark too on the Spark engine)."""
    found: dict[str, object] = {**package_versions(), "code": code_version()}
    for name in ("pyarrow", *(("pyspark",) if engine == "spark" else ())):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def scoring_manifest(
    options: BatchOptions,
    model: ModelFolder,
    result: EngineResult,
    check: SampleCheck,
    wall_seconds: float,
) -> dict[str, object]:
    """The manifest's content."""
    identity = model.identity
    return {
        "schema_version": SCHEMA_VERSION,
        "finished_at": datetime.now(UTC).isoformat(),
        "engine": options.engine,
        "input": str(options.input),
        "output": str(options.output),
        "input_rows": result.input_rows,
        "output_rows": result.output_rows,
        "declines": result.declines,
        "explain": options.explain,
        "batch_rows": options.batch_rows,
        "workers": options.workers,
        "model": {
            "promoted": model.promoted,
            "run_id": identity.run_id,
            "run_name": identity.run_name,
            "experiment_name": identity.experiment_name,
            "model_sha256": identity.model_sha256,
            "threshold": float(identity.threshold),
            "score_scale": identity.score_scale,
            "ledger_entry_hash": identity.ledger_entry_hash,
            "promoted_at": identity.promoted_at,
            "promoted_by": identity.promoted_by,
        },
        "versions": _versions(options.engine),
        "wall_seconds": round(wall_seconds, 3),
        "sample_check": check.as_dict(),
    }


def write_manifest(folder: Path, content: dict[str, object]) -> Path:
    """Write the manifest into the (staging) output folder."""
    path = folder / MANIFEST_NAME
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
