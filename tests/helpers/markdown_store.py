"""A store whose experiment, run and feature names hold markdown (`**`, `|`, `[x](y)`,
backticks, `_`), with a governed run of a model that is not the demo book's, and that run
promoted by a person whose name, like the reason, holds markdown too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from core.data.synthetic import (
    DEMO_ID_COLUMN,
    DEMO_TARGET,
    dataset_from_frame,
    make_synthetic_credit_data,
)
from core.promotion.requests import PromotionRequest
from core.settings import Settings, prepare_mlflow_environment
from core.training.model_config import TrainConfig
from core.training.trainer import train_and_log
from tests.helpers.promotion_fixtures import PromotedStates
from tests.helpers.store_builders import copy_file_store

EXPERIMENT = "**bold** | pipe [x](y) `tick` _under_"
RUN_NAME = "**best** | [link](http://x) `code` _u_"
RENAMED = {"credit_score": "**credit_score**", "debt_to_income": "dti|ratio"}
PERSON = "_ann_ **b**"
REASON = "why | not [x](y)"


@dataclass(frozen=True)
class MarkdownStore:
    """The store's URI and folder, and its one governed run."""

    uri: str
    path: Path
    run_id: str


@pytest.fixture(scope="session", name="markdown_store_template")
def markdown_store_template_fixture(tmp_path_factory: pytest.TempPathFactory) -> MarkdownStore:
    """Built once per session (do not write to it)."""
    path = tmp_path_factory.mktemp("markdown") / "mlruns"
    uri = f"file:{path}"
    prepare_mlflow_environment(uri)
    frame = make_synthetic_credit_data(n_rows=1_500, seed=5).rename(columns=RENAMED)
    dataset = dataset_from_frame(frame, target=DEMO_TARGET, id_column=DEMO_ID_COLUMN)
    config = TrainConfig(run_name=RUN_NAME, n_estimators=20, num_leaves=7, cv_folds=3)
    run_id = train_and_log(uri, EXPERIMENT, dataset, config).run_id
    return MarkdownStore(uri, path, run_id)


@pytest.fixture(name="markdown_store")
def markdown_store_fixture(markdown_store_template: MarkdownStore, tmp_path: Path) -> MarkdownStore:
    """A private copy of the markdown-named store."""
    path = copy_file_store(markdown_store_template.path, tmp_path / "mlruns")
    return MarkdownStore(f"file:{path}", path, markdown_store_template.run_id)


def install_champion(states: PromotedStates, template: MarkdownStore, settings: Settings) -> None:
    """The run promoted by PERSON for REASON into settings' deploy folder (once per session)."""
    ask = PromotionRequest(
        run_id=template.run_id, threshold=0.4, by=PERSON, reason=REASON,
        force=True, force_reason="small test run",
    )  # fmt: skip
    states.install(template.path, settings, ask)
