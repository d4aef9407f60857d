"""A German-credit-like store: 1,000 applicants, 13 categorical features, three governed runs of
nearly the same model (their validation AUCs are equivalent within noise)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from core.data.synthetic import dataset_from_frame
from core.settings import prepare_mlflow_environment
from core.training.model_config import TrainConfig
from core.training.trainer import train_and_log
from tests.helpers.german_like import german_credit_store_frame
from tests.helpers.store_builders import EXPERIMENT, copy_file_store

GERMAN_CONFIGS = tuple(
    TrainConfig(run_name=f"german_{n}", n_estimators=n, max_depth=3, num_leaves=7, cv_folds=3)
    for n in (60, 70, 80)
)


@dataclass(frozen=True)
class GermanStore:
    """The store's URI, folder and its three run ids."""

    uri: str
    path: Path
    runs: tuple[str, ...]


@pytest.fixture(scope="session")
def german_store_template(tmp_path_factory: pytest.TempPathFactory) -> GermanStore:
    """Built once per session (do not write to it)."""
    path = tmp_path_factory.mktemp("german") / "mlruns"
    uri = f"file:{path}"
    prepare_mlflow_environment(uri)
    dataset = dataset_from_frame(german_credit_store_frame(), "default", source="german-like")
    runs = tuple(
        train_and_log(uri, EXPERIMENT, dataset, replace(config)).run_id for config in GERMAN_CONFIGS
    )
    return GermanStore(uri, path, runs)


@pytest.fixture()
def german_store(german_store_template: GermanStore, tmp_path: Path) -> GermanStore:
    """A private copy of the German-like store."""
    path = copy_file_store(german_store_template.path, tmp_path / "mlruns")
    return replace(german_store_template, uri=f"file:{path}", path=path)
