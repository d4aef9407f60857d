"""The product's own version, the git commit it runs from, and the versions of what scores."""

from __future__ import annotations

import functools
import platform
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "credit-risk-governance"
PACKAGES = ("fastapi", "uvicorn", "lightgbm", "mlflow", "pandas", "numpy", "scikit-learn")


@functools.cache
def git_commit() -> str | None:
    """The full commit hash of this checkout, or None outside git (an installed package)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit or None


@functools.cache
def project_version() -> str | None:
    """The version in pyproject.toml beside the code, else the installed distribution's."""
    try:
        return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def code_version() -> dict[str, str | None]:
    """The project's version and, when run from a git checkout, its commit."""
    return {"version": project_version(), "commit": git_commit()}


@functools.cache
def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that score (those installed)."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
