"""DATA_ROOT: server-side paths are read only when they are regular files inside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.data.data_root import DataPathRefusedError, read_in_root
from core.errors import DataValidationError, SettingsError
from core.settings import load_settings


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """A data root holding one CSV in a subfolder, with a secret file beside the root."""
    folder = tmp_path / "data"
    (folder / "books").mkdir(parents=True)
    (folder / "books" / "holdout.csv").write_text("default,x\n0,1\n")
    (tmp_path / "secret.txt").write_text("key=abc")
    return folder


def test_files_inside_the_root_are_read_by_relative_or_absolute_path(root: Path) -> None:
    assert read_in_root(root, "books/holdout.csv") == ("holdout.csv", b"default,x\n0,1\n")
    assert read_in_root(root, f"  {root / 'books' / 'holdout.csv'} ")[0] == "holdout.csv"
    # a symlink that stays inside the root is fine
    (root / "latest.csv").symlink_to(root / "books" / "holdout.csv")
    assert read_in_root(root, "latest.csv")[0] == "holdout.csv"


@pytest.mark.parametrize(
    "given",
    ["../secret.txt", "{tmp}/secret.txt", "books/../../secret.txt", "/etc/passwd"],
)
def test_paths_outside_the_root_are_refused(root: Path, given: str) -> None:
    with pytest.raises(DataPathRefusedError, match="outside the data folder DATA_ROOT"):
        read_in_root(root, given.format(tmp=root.parent))


def test_symlinks_that_escape_the_root_are_refused(root: Path) -> None:
    # given a file link and a folder link inside the root, both pointing outside it
    (root / "innocent.csv").symlink_to(root.parent / "secret.txt")
    (root / "shared").symlink_to(root.parent)
    # when read / then both are refused as escaping symlinks
    for given in ("innocent.csv", "shared/secret.txt"):
        with pytest.raises(DataPathRefusedError, match="symbolic link"):
            read_in_root(root, given)


def test_non_regular_files_are_refused(root: Path) -> None:
    os.mkfifo(root / "pipe.csv")
    for given in ("books", "pipe.csv"):
        with pytest.raises(DataPathRefusedError, match="not a regular file"):
            read_in_root(root, given)
    with pytest.raises(DataValidationError, match="No file at"):
        read_in_root(root, "books/missing.csv")


def test_data_root_setting_is_optional_and_validated(tmp_path: Path) -> None:
    assert load_settings({}).data_root is None
    assert load_settings({"DATA_ROOT": str(tmp_path)}).data_root == tmp_path.resolve()
    with pytest.raises(SettingsError, match="DATA_ROOT"):
        load_settings({"DATA_ROOT": str(tmp_path / "absent")})
