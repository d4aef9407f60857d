"""One model per worker process: loaded, sha256-checked and warmed once, then reused."""

from __future__ import annotations

from pathlib import Path

from core.batch.model import ModelFolder
from core.serving.model_holder import ServedModel

_LOADED: dict[tuple[str, str], ServedModel] = {}


def worker_model(model: ModelFolder, folder: Path | None = None) -> ServedModel:
    """This process's model for the job (loaded on first use from folder, else model.folder)."""
    key = (str(folder or model.folder), model.identity.model_sha256)
    served = _LOADED.get(key)
    if served is None or served.identity != model.identity:
        served = model.load(folder)
        _LOADED[key] = served
    return served
