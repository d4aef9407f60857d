"""requirements.txt pins every third-party module the product imports, in a form pyproject reads."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("core", "ui", "pages", "app.py")
FIRST_PARTY = {"core", "ui", "pages", "app"}
# name==version, nothing else: setuptools reads the file line by line as the package's
# dependencies (no pip options such as -r, no comments after a requirement).
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==[A-Za-z0-9.+!-]+$")


def _canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them (PyYAML == pyyaml, a_b == a-b)."""
    return re.sub(r"[-_.]+", "-", name).lower()


# Optional runtime extras, pinned in their own files so the dashboard installs without them:
# the Spark engine of `score-batch` (pyspark needs Java).
EXTRAS = ("requirements-spark.txt",)


def _requirement_lines(name: str = "requirements.txt") -> list[str]:
    """The non-blank, non-comment lines of a requirements file."""
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def _pinned() -> set[str]:
    """The canonical names of the distributions requirements.txt and the extras files pin."""
    lines = [line for name in ("requirements.txt", *EXTRAS) for line in _requirement_lines(name)]
    return {_canonical(PIN.match(line)["name"]) for line in lines}


def _product_files() -> list[Path]:
    """Every Python file of the product (the dashboard, its pages and helpers, and core)."""
    files: list[Path] = []
    for entry in PRODUCT:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level modules imported anywhere in the product (also inside functions), by file."""
    found: dict[str, set[str]] = {}
    for path in _product_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_requirement_is_an_exact_pin_on_its_own_line() -> None:
    # given the runtime requirements / then each line is name==version (what setuptools reads)
    bad = [
        line
        for name in ("requirements.txt", *EXTRAS)
        for line in _requirement_lines(name)
        if not PIN.match(line)
    ]
    assert not bad, f"requirements lines that are not name==version: {bad}"


def test_every_third_party_import_is_pinned_in_requirements() -> None:
    # given every import of core/, ui/, pages/ and app.py, mapped to installed distributions
    distributions = packages_distributions()
    pinned = _pinned()
    # when each module is looked up / then one of the distributions providing it is pinned
    missing = {
        module: sorted(files)
        for module, files in sorted(_third_party_imports().items())
        if not pinned & {_canonical(d) for d in distributions.get(module, [])}
    }
    assert not missing, (
        "imported but not pinned in requirements.txt (module: files): "
        + "; ".join(f"{m} ({distributions.get(m) or 'not installed'}): {', '.join(f)}"
                    for m, f in missing.items())
    )  # fmt: skip


def test_the_scan_sees_the_modules_it_must() -> None:
    # given the scan / then it finds imports at module level and inside functions, and no shap
    imports = _third_party_imports()
    assert {"mlflow", "streamlit", "yaml", "uvicorn", "starlette"} <= set(imports)
    assert "shap" not in imports  # a dev pin: only tests and benches compare with it
    assert "pyspark" in imports  # the Spark engine, pinned in requirements-spark.txt
