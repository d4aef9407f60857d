"""Stores for promotion tests: the shared file store plus a second promotable seed-pattern run."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from core.settings import Settings, load_settings, prepare_mlflow_environment
from tests.helpers.store_builders import (
    STABLE_FOLD_AUCS,
    UNSTABLE_FOLD_AUCS,
    copy_file_store,
    log_cv_folds,
    log_seed_pattern_run,
)


@dataclass(frozen=True)
class PromotionStore:
    """A private file store with two promotable runs, its governed and foreign runs."""

    uri: str
    first: str
    second: str
    governed: tuple[str, ...]
    foreign: dict[str, str]
    unstable: str
    no_cv: str


@pytest.fixture(scope="module", name="promotion_template")
def promotion_template_fixture(file_store_template, tmp_path_factory) -> PromotionStore:
    """The session file store plus a second seed-pattern run and a seed-pattern run whose folds
    spread far beyond sampling noise (its CV gate fails), and one that logged no CV (its CV
    gate fails unless forced with a written reason).

    The two promotable seed-pattern runs (first, second) carry stable CV folds, since a run
    without CV fails the CV gate unless forced with a written reason.
    """
    path = copy_file_store(file_store_template.path, tmp_path_factory.mktemp("promo") / "mlruns")
    prepare_mlflow_environment(f"file:{path}")
    log_cv_folds(MlflowClient(f"file:{path}"), file_store_template.seed_pattern, STABLE_FOLD_AUCS)
    second = log_seed_pattern_run(f"file:{path}", fold_aucs=STABLE_FOLD_AUCS)
    unstable = log_seed_pattern_run(
        f"file:{path}", run_name="unstable_folds", fold_aucs=UNSTABLE_FOLD_AUCS
    )
    no_cv = log_seed_pattern_run(f"file:{path}", run_name="no_cv")
    t = file_store_template
    return PromotionStore(
        f"file:{path}", t.seed_pattern, second, t.governed, t.foreign, unstable, no_cv
    )


@pytest.fixture(name="promo_store")
def promo_store_fixture(promotion_template: PromotionStore, tmp_path: Path) -> PromotionStore:
    """A private copy of the promotion store."""
    source = Path(promotion_template.uri.removeprefix("file:"))
    path = copy_file_store(source, tmp_path / "mlruns")
    return replace(promotion_template, uri=f"file:{path}")


def settings_for(uri: str, manifest: Path) -> Settings:
    """Settings pointing at a store and a manifest path."""
    return load_settings({"MLFLOW_TRACKING_URI": uri, "PROMOTION_MANIFEST": str(manifest)})
