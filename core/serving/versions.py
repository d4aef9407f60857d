"""Code and package versions the service reports on /version."""

from __future__ import annotations

import functools
import platform
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DISTRIBUTION = "credit-risk-governance"
PACKAGES = ("fastapi", "uvicorn", "lightgbm", "mlflow", "pandas", "numpy", "scikit-learn")


@functools.cache
def code_version() -> dict[str, str | None]:
    """The project's version (pyproject.toml, else the installed package's) and git commit."""
    try:
        version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        version = _installed_version()
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
        commit = None
    return {"version": version, "commit": commit or None}


def _installed_version() -> str | None:
    """The version of the installed distribution, or None when it is not installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


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
