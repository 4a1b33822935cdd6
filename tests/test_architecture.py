"""The package's layout holds: no import loop (lazy imports included), no import upward.

docs/architecture.md states the layers; this reads every ``import`` in ``ingest/`` with ``ast``,
the ones inside functions too, since a lazy import hides a loop rather than removing it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ingest"

# Lower layers never import higher ones. Parts within one layer may import each other only
# as the graph allows (no loop). The foundation: settings, errors, the embedder registry.
LAYERS: dict[str, int] = {
    "settings": 0,
    "errors": 0,
    "vectors": 0,
    "embedders": 0,
    "textfile": 0,
    "stats": 1,
    "people": 1,
    "extract": 2,
    "warehouse": 3,
    "demo": 3,
    "corrections": 4,
    "pipeline": 5,
    "cli_args": 6,
    "people_cli": 6,
    "cli": 7,
    "__main__": 8,
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The ``ingest`` modules a file imports, at any depth in the file."""
    found: set[str] = set()
    me = module_name(path)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from ingest.people import corrections` imports the module ingest.people.corrections
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != me and name != "ingest":
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(f) for f in files} - {"ingest"}
    graph = {module_name(f): imports_of(f, modules) for f in files if module_name(f) != "ingest"}
    # A package's __init__ is imported with each of its modules: its own imports count for them.
    for m in list(graph):
        parent = m.rpartition(".")[0]
        while parent and parent != "ingest":
            graph[m] |= graph.get(parent, set()) - {m}
            parent = parent.rpartition(".")[0]
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop as a list of modules, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (loop := visit(n)):
                return loop
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (loop := visit(m)):
            return loop
    return None


def part_of(module: str) -> str:
    return module.split(".")[1]


def test_no_import_loop():
    loop = find_cycle(import_graph())
    assert loop is None, "import loop: " + " -> ".join(loop or [])


def test_no_import_upward():
    bad = [
        f"{m} -> {n}"
        for m, deps in import_graph().items()
        for n in deps
        if LAYERS[part_of(n)] > LAYERS[part_of(m)]
    ]
    assert not bad, "imports from a higher layer (docs/architecture.md): " + ", ".join(bad)


def test_every_part_has_a_layer():
    parts = {part_of(m) for m in import_graph()}
    assert parts <= set(LAYERS), f"parts with no layer in LAYERS: {sorted(parts - set(LAYERS))}"


def test_the_checker_finds_a_loop():
    """A loop through a lazy import, as cli <-> people_cli had, is caught."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("path", ["ingest/cli.py", "ingest/people_cli.py"])
def test_cli_holds_no_sql(path):
    """The CLI parses arguments and calls the library; queries live in ingest.warehouse."""
    text = (ROOT / path).read_text()
    for word in (".execute(", "duckdb.connect(", ".sql(", "open_warehouse("):
        assert word not in text, f"{path} runs SQL or opens the warehouse itself ({word!r})"
