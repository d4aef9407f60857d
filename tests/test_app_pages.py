"""Every page renders without exception on a populated, an empty and a missing store."""

from __future__ import annotations

import pytest

from tests.apptest_helpers import PAGES, exceptions, open_page, texts


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_populated_file_store(page: str, file_store, app_env) -> None:
    # given a populated file store
    app_env(file_store.uri)
    # when the page opens
    at = open_page(page)
    # then it shows no exception and no error
    assert exceptions(at) == []
    assert [e.value for e in at.error] == []


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_empty_store(page: str, tmp_path, app_env) -> None:
    # given an existing but empty store folder
    (tmp_path / "empty").mkdir()
    app_env(f"file:{tmp_path / 'empty'}")
    # when the page opens
    at = open_page(page)
    # then it says there is nothing yet, without exception
    assert exceptions(at) == []
    assert "python -m core train --demo" in texts(at)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_missing_store_path(page: str, tmp_path, app_env) -> None:
    # given a store path that does not exist
    app_env(f"file:{tmp_path / 'does-not-exist'}")
    # when the page opens
    at = open_page(page)
    # then it says which store is missing and how to fix it
    assert exceptions(at) == []
    assert "No MLflow store at" in texts(at)
    assert not (tmp_path / "does-not-exist").exists()
