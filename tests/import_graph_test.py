"""The import graph of pin_from has no cycle: every arrow points down a layer.

Every import counts, at module level, inside functions and under ``TYPE_CHECKING``: a cycle hidden
in a function or a type is still a concern split across rooms.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / 'pin_from'


def _modules() -> dict[str, Path]:
    ret = {}
    for path in PACKAGE.rglob('*.py'):
        parts = ('pin_from', *path.relative_to(PACKAGE).with_suffix('').parts)
        if parts[-1] == '__init__':
            parts = parts[:-1]
        ret['.'.join(parts)] = path
    return ret


def graph() -> dict[str, set[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split('.')[0] == 'pin_from':
                for alias in node.names:
                    full = f'{node.module}.{alias.name}'
                    edges[name].add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                edges[name].update(a.name for a in node.names if a.name.split('.')[0] == 'pin_from')
    return {name: {t for t in targets if t in modules and t != name} for name, targets in edges.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_cycle():
    assert cycles(graph()) == []


def test_the_check_sees_a_cycle():
    assert cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [['a', 'b', 'c']]


def test_the_graph_sees_imports_inside_functions():
    edges = graph()
    assert 'pin_from.registry.client' in edges['pin_from.services']  # imported where the client is built
    assert 'pin_from.kinds.sites' in edges['pin_from.files.edit']
