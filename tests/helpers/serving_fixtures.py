"""Promoted states and a real `python -m core serve` process for the scoring-service tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import requests

from core.promotion import use_cases as promotion
from core.settings import Settings
from tests.helpers import ROOT
from tests.helpers.processes import free_port, serving
from tests.helpers.promotion_fixtures import PromotedStates, PromotionStore, ask, settings_for
from tests.helpers.store_builders import copy_file_store

SERVED_THRESHOLD = 0.45
MAX_APPLICANTS = 200


@dataclass(frozen=True)
class Promoted:
    """A private store whose first run is promoted, and the settings that point at it."""

    store: PromotionStore
    settings: Settings
    folder: Path

    @property
    def env(self) -> dict[str, str]:
        """The environment a service process needs for this state."""
        return {
            **os.environ,
            "MLFLOW_TRACKING_URI": self.store.uri,
            "PROMOTION_MANIFEST": str(self.settings.promotion_manifest),
            "DECISION_LOG": str(self.folder / "decisions"),
            "SCORING_MAX_APPLICANTS": str(MAX_APPLICANTS),
        }


def promote_run(settings: Settings, run_id: str, threshold: float = SERVED_THRESHOLD):
    """Promote a run through the real promotion use case."""
    return promotion.promote(settings, ask(run_id, threshold))


def promoted_copy(template: PromotionStore, states: PromotedStates, folder: Path) -> Promoted:
    """A private copy of the promotion store with its first run promoted into folder/deploy
    (the promotion itself is taken once per session)."""
    path = copy_file_store(template.path, folder / "mlruns")
    store = replace(template, uri=f"file:{path}")
    settings = settings_for(store.uri, folder / "deploy" / "promotion.json")
    states.install(template.path, settings, ask(store.first, SERVED_THRESHOLD))
    return Promoted(store, settings, folder)


@pytest.fixture(name="promoted")
def promoted_fixture(promotion_template, promoted_states, tmp_path: Path) -> Promoted:
    """A private store with its first run promoted."""
    return promoted_copy(promotion_template, promoted_states, tmp_path)


@dataclass(frozen=True)
class Service:
    """A running service process and its base URL."""

    url: str
    promoted: Promoted
    process: object

    def post(self, path: str, payload: object, **kwargs) -> requests.Response:
        """POST JSON to the service."""
        return requests.post(f"{self.url}{path}", json=payload, timeout=30, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        """GET from the service."""
        return requests.get(f"{self.url}{path}", timeout=30, **kwargs)


@pytest.fixture(scope="module", name="service")
def service_fixture(promotion_template, promoted_states, tmp_path_factory) -> Iterator[Service]:
    """`python -m core serve` on a free loopback port over a promoted copy (own process group)."""
    folder = tmp_path_factory.mktemp("serving")
    promoted = promoted_copy(promotion_template, promoted_states, folder)
    port = free_port()
    command = [sys.executable, "-m", "core", "serve", "--workers", "1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    health = (f"{url}/health", '{"status":"ok"}')
    with serving(command, ROOT, promoted.env, folder / "service.log", health) as process:
        yield Service(url, promoted, process)
