"""In Chromium, names holding markdown read exactly as written (escaping renders verbatim)."""

from __future__ import annotations

import pytest

from core.settings import load_settings
from tests.helpers.browser import dashboard_server, open_and_wait, screenshot_dir
from tests.helpers.markdown_store import EXPERIMENT, PERSON, REASON, RUN_NAME, install_champion
from tests.helpers.store_builders import copy_file_store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", name="markdown_url")
def markdown_url_fixture(markdown_store_template, promoted_states, tmp_path_factory):
    """The dashboard on a copy of the markdown-named store, its run promoted."""
    folder = tmp_path_factory.mktemp("markdown_browser")
    store = copy_file_store(markdown_store_template.path, folder / "mlruns")
    manifest = folder / "deploy" / "promotion.json"
    settings = load_settings(
        {"MLFLOW_TRACKING_URI": f"file:{store}", "PROMOTION_MANIFEST": str(manifest)}
    )
    install_champion(promoted_states, markdown_store_template, settings)
    with dashboard_server(
        folder,
        MLFLOW_TRACKING_URI=f"file:{store}",
        MLFLOW_EXPERIMENT_NAME=EXPERIMENT,
        PROMOTION_MANIFEST=str(manifest),
    ) as url:
        yield url


def test_runs_and_promotion_show_names_as_written(chromium, markdown_url: str) -> None:
    # given a store whose experiment, run, promoter and reason hold markdown
    # when the Runs page opens
    page, errors = open_and_wait(
        chromium, f"{markdown_url}/runs", screenshot_dir(), "markdown_runs"
    )
    # then the caption and the recommendation read the names exactly as written
    main = page.locator("[data-testid=stMain]")
    assert f"run(s) in {EXPERIMENT}." in main.inner_text()
    banner = main.locator("[data-testid=stAlert]").first.inner_text()
    assert f"Recommended: {RUN_NAME}." in banner
    assert errors == [] and page.locator("[data-testid=stException]").count() == 0
    page.close()
    # when the Promotion page opens / then the champion banner and sidebar do too
    page, errors = open_and_wait(
        chromium, f"{markdown_url}/promotion", screenshot_dir(), "markdown_promotion"
    )
    banner = page.locator("[data-testid=stMain] [data-testid=stAlert]").first.inner_text()
    assert f"Champion: {RUN_NAME} (" in banner
    assert f"by {PERSON} (declared) on" in banner and f"“{REASON}”" in banner
    assert f"Run: {RUN_NAME}" in page.locator("[data-testid=stSidebar]").inner_text()
    assert errors == []
    page.close()
