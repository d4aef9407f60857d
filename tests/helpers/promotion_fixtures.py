"""Stores for promotion tests: the shared file store plus a second promotable seed-pattern run,
and promoted states built once per session and copied into each test's deploy folder."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from core.promotion import use_cases as promotion
from core.promotion.requests import PromotionRequest
from core.settings import Settings, load_settings, prepare_mlflow_environment
from tests.helpers.store_builders import (
    STABLE_FOLD_AUCS,
    UNSTABLE_FOLD_AUCS,
    attach_seed_holdout,
    copy_file_store,
    forget_artifact_repositories,
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

    @property
    def path(self) -> Path:
        """The store's folder."""
        return Path(self.uri.removeprefix("file:"))


@pytest.fixture(scope="session", name="promotion_template")
def promotion_template_fixture(file_store_template, tmp_path_factory) -> PromotionStore:
    """The session file store plus a second seed-pattern run and a seed-pattern run whose folds
    spread far beyond sampling noise (its CV gate fails), and one that logged no CV (its CV
    gate fails unless forced with a written reason). Built once per session (do not write to it).

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
    # the AUC gate compares a candidate with the champion on the candidate's validation rows
    for run_id in (file_store_template.seed_pattern, second):
        attach_seed_holdout(f"file:{path}", run_id)
    t = file_store_template
    return PromotionStore(
        f"file:{path}", t.seed_pattern, second, t.governed, t.foreign, unstable, no_cv
    )


@pytest.fixture(name="promo_store")
def promo_store_fixture(promotion_template: PromotionStore, tmp_path: Path) -> PromotionStore:
    """A private copy of the promotion store."""
    path = copy_file_store(promotion_template.path, tmp_path / "mlruns")
    return replace(promotion_template, uri=f"file:{path}")


def settings_for(uri: str, manifest: Path) -> Settings:
    """Settings pointing at a store and a manifest path."""
    return load_settings({"MLFLOW_TRACKING_URI": uri, "PROMOTION_MANIFEST": str(manifest)})


def ask(run_id: str, threshold: str | float = 0.45, **extra: object) -> PromotionRequest:
    """A promotion request by alice."""
    return PromotionRequest(
        run_id=run_id, threshold=threshold, by="alice", reason="best stable run", **extra
    )


class PromotedStates:
    """Deploy folders that real promotions left, built once per session, copied per test.

    On a file store a promotion writes only to its deploy folder (the store has no model
    registry), so a test's private copy of the same store plus a copy of that folder is the
    promoted state; the states of one template are built on one copy of it, each from the
    longest state already built whose promotions it starts with. The ledger keeps the tracking
    URI it was built on; nothing reads it back.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._stores: dict[Path, str] = {}
        self._built: dict[tuple[Path, str, tuple[PromotionRequest, ...]], Path] = {}

    def install(self, template: Path, settings: Settings, *steps: PromotionRequest) -> None:
        """Give settings' (new) deploy folder the state these promotions leave on template."""
        key = (template, settings.promotion_manifest.name, steps)
        if key not in self._built:
            self._built[key] = self._build(*key)
            forget_artifact_repositories()  # the test's store, not the one built on, is read next
        shutil.copytree(self._built[key], settings.promotion_manifest.parent)

    def _build(self, template: Path, manifest: str, steps: tuple[PromotionRequest, ...]) -> Path:
        """Promote for real, after the promotions of the longest state built that starts steps."""
        if template not in self._stores:
            folder = self._root / f"store-{len(self._stores)}"
            self._stores[template] = f"file:{copy_file_store(template, folder / 'mlruns')}"
        deploy = self._root / f"state-{len(self._built)}" / "deploy"
        done = max(
            (n for n in range(len(steps)) if (template, manifest, steps[:n]) in self._built),
            default=0,
        )
        if done:
            shutil.copytree(self._built[(template, manifest, steps[:done])], deploy)
        settings = settings_for(self._stores[template], deploy / manifest)
        for step in steps[done:]:
            promotion.promote(settings, step)
        return deploy


@pytest.fixture(scope="session", name="promoted_states")
def promoted_states_fixture(tmp_path_factory: pytest.TempPathFactory) -> PromotedStates:
    """Promoted states shared by the whole session."""
    return PromotedStates(tmp_path_factory.mktemp("promoted-states"))


@pytest.fixture(name="given_promoted")
def given_promoted_fixture(
    promoted_states: PromotedStates, promotion_template: PromotionStore
) -> Callable[..., None]:
    """Call with settings on a copy of the promotion store and promotion requests: its deploy
    folder gets the state they leave, promoted once per session."""
    return functools.partial(promoted_states.install, promotion_template.path)
