"""The installable package: a wheel of core with its data files, and the credit-gov command.

The wheel is built from a copy of what it is made of (pyproject.toml, requirements.txt, core/),
installed with --no-deps into a folder of its own, and run from a folder outside the checkout,
so the checkout's core/ can never be what answers. The dependencies are this venv's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "requirements.txt")
CONFIG_FILES = ("reason_codes.toml", "feature_policy.toml", "model_card.toml")


def _pip(*args: str, cwd: Path) -> None:
    """Run this interpreter's pip; fail the test with pip's output if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The wheel built from the sources, and the folder it is installed into (--target)."""
    base = tmp_path_factory.mktemp("package")
    source = base / "source"
    source.mkdir()
    for name in SOURCES:
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "core", source / "core", ignore=shutil.ignore_patterns("__pycache__"))
    dist, target = base / "dist", base / "site"
    # Built as `pip install .` builds it: in an isolated environment with [build-system]'s
    # setuptools (from pip's cache after the first run).
    _pip("wheel", "--no-deps", "-w", str(dist), ".", cwd=source)
    (wheel,) = dist.glob("*.whl")
    _pip("install", "--no-deps", "--no-index", "--target", str(target), str(wheel), cwd=base)
    return wheel, target


def _outside(target: Path, tmp_path: Path, *command: str) -> subprocess.CompletedProcess:
    """Run a command from a folder outside the checkout, importing only the installed copy."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(target)}
    return subprocess.run(
        list(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_wheel_holds_core_its_data_files_and_the_pinned_dependencies(installed) -> None:
    # given the wheel / then it holds core with its config files and nothing of the dashboard
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = {
            line.removeprefix("Requires-Dist: ").strip()
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist: ")
        }
        entry_points = archive.read(metadata.replace("METADATA", "entry_points.txt")).decode()
    assert {f"core/config/{name}" for name in CONFIG_FILES} <= set(names)
    # every file core/ holds besides Python (config, templates) is package data in the wheel
    data = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "core").rglob("*")
        if path.is_file()
        and path.suffix not in (".py", ".pyc")
        and "__pycache__" not in path.parts  # compiled caches (Python's, numba's .nbi/.nbc)
    }
    assert data <= set(names), sorted(data - set(names))
    assert "core/cli/main.py" in names and "core/__main__.py" in names
    assert not [n for n in names if n.split("/")[0] in ("ui", "pages", "tests", "bench", "app.py")]
    # and its dependencies are requirements.txt's pins, exactly
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = {ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")}
    assert requires == pins
    assert "credit-gov = core.cli.main:main" in entry_points


def test_credit_gov_runs_from_the_installed_copy(installed, tmp_path: Path) -> None:
    # given the wheel installed into its own folder / when credit-gov --help runs elsewhere
    _, target = installed
    result = _outside(target, tmp_path, str(target / "bin" / "credit-gov"), "--help")
    # then it answers with its own name and every command
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: credit-gov")
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("    ") and ln.strip()]
    listed = {ln.split()[0] for ln in lines}
    assert {"train", "runs", "promote", "attach-validation", "monitor", "serve", "report"} <= listed
    # and core, with its default config files, comes from the installed copy, which knows its
    # version without a pyproject.toml beside it (the service's /version reports it)
    probe = _outside(
        target, tmp_path, sys.executable, "-c",
        "import core, core.settings as s, core.code_version as v; print(core.__file__); "
        "print(all(p.is_file() for p in (s.DEFAULT_REASON_CODES_FILE, "
        "s.DEFAULT_FEATURE_POLICY_FILE, s.DEFAULT_MODEL_CARD_FILE))); "
        "print(v.code_version()['version'])",
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    where, configs, version = probe.stdout.split()
    assert Path(where).is_relative_to(target) and configs == "True"
    assert version == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
