"""The layers of the house, read from the code's own imports (ast), and the size limits.

core/ is a stack of layers: a package imports only packages of lower layers, so no circle and
no pair of packages importing each other can arise. ARCHITECTURE.md draws the same stack.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first; the base modules may import each other only as listed in BASE_IMPORTS.
CORE_LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "errors",
        "sentence",
        "plain_words",
        "run_schema",
        "code_version",
        "templating",
        "threshold",
        "settings_service",
        "settings",
        "person_names",
    ),
    ("data", "identity"),
    ("scoring",),
    ("evaluation", "record", "decision_log"),
    ("runs",),
    ("store",),
    ("training", "charts", "monitoring", "serving"),
    ("report", "batch"),
    ("promotion",),
    ("cli",),
    ("__main__",),
)
BASE_IMPORTS = {
    "threshold": {"errors"},
    "settings_service": {"errors"},
    "settings": {"errors", "threshold", "settings_service"},
}
MAX_CORE_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
PAGE_FORBIDDEN = ("sklearn", "shap", "lightgbm", "mlflow")


def _python_files(*folders: str) -> list[Path]:
    """Tracked-looking Python files under the folders (no virtualenvs or caches)."""
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not {".venv", "__pycache__"} & set(path.parts):
                found.append(path)
    return found


def _module_name(path: Path) -> str:
    """The dotted module name of a file under ROOT."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, absolute, at any depth (deferred imports included)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _core_package(module: str) -> str | None:
    """The core package (or base module) a dotted name belongs to, None outside core."""
    parts = module.split(".")
    return parts[1] if parts[0] == "core" and len(parts) > 1 else None


def _layer_of() -> dict[str, int]:
    """Each core package's layer number."""
    return {name: level for level, names in enumerate(CORE_LAYERS) for name in names}


def _core_edges() -> dict[str, set[str]]:
    """Package -> the other core packages it imports."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in _python_files("core"):
        source = _core_package(_module_name(path))
        for target in filter(None, map(_core_package, _imports(path))):
            if source is not None and target != source:
                edges[source].add(target)
    return edges


def test_every_core_package_has_a_layer() -> None:
    packages = {_core_package(_module_name(p)) for p in _python_files("core")} - {None}
    assert packages <= set(_layer_of()), f"no layer for {sorted(packages - set(_layer_of()))}"


def test_core_packages_import_only_lower_layers() -> None:
    layer = _layer_of()
    upward = []
    for source, targets in _core_edges().items():
        for target in targets:
            base_ok = layer[source] == 0 and target in BASE_IMPORTS.get(source, set())
            if layer[target] >= layer[source] and not base_ok:
                upward.append(f"core.{source} -> core.{target}")
    assert not upward, "imports that do not go down a layer: " + ", ".join(sorted(upward))


def test_no_pair_of_core_packages_imports_each_other() -> None:
    edges = _core_edges()
    pairs = {
        tuple(sorted((a, b)))
        for a, targets in edges.items()
        for b in targets
        if a in edges.get(b, ())
    }
    assert not pairs


def test_no_import_circle_between_core_modules() -> None:
    modules = {_module_name(p): p for p in _python_files("core")}
    graph = {
        name: {m for m in _imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    assert not circles


def test_record_decision_log_and_lower_layers_never_import_promotion() -> None:
    readers = ("record", "serving", "monitoring", "report", "store", "runs", "decision_log")
    edges = _core_edges()
    assert not [r for r in readers if "promotion" in edges.get(r, set())]


def test_core_never_imports_streamlit_and_pages_only_wire() -> None:
    core_streamlit = [
        str(p.relative_to(ROOT))
        for p in _python_files("core")
        if any(m.split(".")[0] == "streamlit" for m in _imports(p))
    ]
    assert not core_streamlit
    page_calls = [
        f"{p.relative_to(ROOT)} imports {m}"
        for p in _python_files("pages")
        for m in _imports(p)
        if m.split(".")[0] in PAGE_FORBIDDEN
    ]
    assert not page_calls


@pytest.mark.parametrize("path", _python_files("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_modules_stay_small(path: Path) -> None:
    lines = path.read_text("utf-8").count("\n")
    assert lines <= MAX_CORE_MODULE_LINES, f"{lines} lines: split it by concern"


def test_no_function_over_the_limit_outside_tests_and_benches() -> None:
    long = []
    for path in [*_python_files("core", "ui", "pages"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length})")
    assert not long
