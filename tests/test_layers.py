"""The layering the house style asks for, read from the sources: values at the bottom, edges
that never reach up into the orchestrator, and no import cycle between our modules."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "reviewer"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Each module of ours and the modules of ours it imports, type-only imports included."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[_module(path)] = {name for name in found if name.startswith("reviewer")}
    return {name: {dep for dep in deps if dep in graph} for name, deps in graph.items()}


def test_model_holds_values_only_and_imports_only_the_diff_types() -> None:
    assert _imports()["reviewer.model"] <= {"reviewer.diff"}
    assert "reviewer.model" not in _imports()["reviewer.diff"]


def test_platforms_never_import_the_orchestrator() -> None:
    graph = _imports()
    for name, deps in graph.items():
        if name.startswith("reviewer.platforms"):
            assert not deps & {"reviewer.run", "reviewer.engine", "reviewer.cli"}, name


def test_no_import_cycles() -> None:
    graph = _imports()
    state: dict[str, int] = {}

    def visit(name: str, trail: tuple[str, ...]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            assert state.get(dep) != 1, " -> ".join((*trail, name, dep))
            if dep not in state:
                visit(dep, (*trail, name))
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, ())
