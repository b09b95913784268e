"""The house in layers: imports point one way, the core is pure, nothing imports in a circle, no module is huge."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

REPO = ROOT
PRODUCT = ("app.py", "console.py", "bot", "handlers", "storage", "config", "prompts")
MAX_LINES = 600

# Lower layers never import higher ones; layers of the same rank never import each other.
LAYERS: list[tuple[str, int]] = [
    ("bot.core", 0),
    ("config", 1),
    ("prompts", 1),
    ("storage", 2),
    ("bot.clients", 3),
    ("bot.providers", 3),
    ("bot.runtime", 4),
    ("bot.jobs", 5),
    ("bot.cli", 6),
    ("handlers", 6),
    ("app", 7),
    ("console", 8),  # the command entry point: light commands without the server, the rest through app
]
# What the pure core may import besides itself and the standard library.
CORE_THIRD_PARTY = {"pydantic", "typing_extensions"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_files() -> list[Path]:
    files: list[Path] = []
    for top in PRODUCT:
        root = REPO / top
        if root.is_file():
            files.append(root)
        else:
            files.extend(p for p in root.rglob("*.py") if "migrations" not in p.parts)
    return sorted(files)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function, absolute names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from bot.core import redact` imports the module bot.core.redact
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): p for p in product_files()}


def project_imports(path: Path) -> set[str]:
    """The product modules a file depends on (names that are not modules, like classes, are dropped)."""
    return {name for name in imports_of(path) if name in MODULES and name != module_name(path)}


def layer_of(module: str) -> tuple[str, int] | None:
    if module == "bot":  # the namespace package: a docstring, nothing imported
        return "bot", 0
    for prefix, rank in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return prefix, rank
    return None


def test_every_product_module_belongs_to_a_layer():
    assert [m for m in MODULES if layer_of(m) is None] == []


def test_imports_point_one_way():
    wrong = []
    for module, path in MODULES.items():
        own = layer_of(module)
        for target in project_imports(path):
            theirs = layer_of(target)
            if theirs is None or theirs[0] == own[0]:
                continue
            if theirs[1] >= own[1]:
                wrong.append(f"{module} ({own[0]}) imports {target} ({theirs[0]})")
    assert wrong == []


def test_the_core_imports_only_the_standard_library_and_pydantic():
    stdlib = set(sys.stdlib_module_names)
    wrong = []
    for module, path in MODULES.items():
        if layer_of(module)[0] != "bot.core":
            continue
        for name in imports_of(path):
            top = name.split(".")[0]
            if not top or top in stdlib or top in CORE_THIRD_PARTY or name.startswith("bot.core"):
                continue
            wrong.append(f"{module} imports {name}")
    assert wrong == []


def test_all_sql_is_in_storage():
    """Above storage/, the database is reached through storage's named functions: no queries, no tables."""
    wrong = []
    for module, path in MODULES.items():
        if layer_of(module)[0] == "storage":
            continue
        wrong.extend(
            f"{module} imports {name}"
            for name in sorted(imports_of(path))
            if name.split(".")[0] == "sqlalchemy" or name.split(".")[:2] == ["storage", "models"]
        )
    assert wrong == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; returns the components with more than one module (or a self-loop)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    out.append(sorted(component))
    return out


def package_parents(module: str) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first: those count as dependencies too."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in MODULES}


def test_no_import_cycle_anywhere():
    graph = {module: set() for module in MODULES}
    for module, path in MODULES.items():
        for target in project_imports(path):
            graph[module].add(target)
            graph[module].update(p for p in package_parents(target) if p != module and not module.startswith(p + "."))
    assert strongly_connected(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_product_module_is_over_600_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines; split it by concern"


def test_every_product_module_has_a_one_line_docstring():
    missing = [
        module for module, path in MODULES.items() if not (ast.get_docstring(ast.parse(path.read_text())) or "").strip()
    ]
    assert missing == []
