"""The product's import structure, read from the source with ast (nothing is imported):

- no import cycle among the modules of bot, discovery, cdp and ingest (module-level imports, those
  under `if TYPE_CHECKING:` included: a cycle hidden from the interpreter is still a cycle);
- no function-local import of a product module that would close a cycle at module level (an import
  moved into a function to dodge one). Function-local imports for start-up speed stay allowed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "audiences", "discovery", "cdp", "ingest")
MODULE_MAX_LINES = 400  # modules named for one idea; a longer one is split by idea


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def product_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _imported(node: ast.Import | ast.ImportFrom, module: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module if path.name == "__init__.py" else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    for name in names:
        while name and name not in known:  # `import a.b.c` of a module path; a name inside a module
            name = name.rpartition(".")[0]
        if name and name != module:
            yield name


def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, str, int]]]:
    """(module-level edges, function-local imports as (module, imported, line)) among product modules."""
    known = product_modules()
    edges: dict[str, set[str]] = {m: set() for m in known}
    local: list[tuple[str, str, int]] = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        in_function: set[int] = set()
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                in_function.update(id(n) for n in ast.walk(fn) if n is not fn)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _imported(node, module, path, known):
                    if id(node) in in_function:
                        local.append((module, target, node.lineno))
                    else:
                        edges[module].add(target)
    return edges, local


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def reaches(edges: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        for w in edges[todo.pop()]:
            if w == goal:
                return True
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return False


def test_no_import_cycle_among_product_modules():
    edges, _ = import_graph()
    assert cycles(edges) == []


def test_no_function_local_import_dodges_a_cycle():
    edges, local = import_graph()
    dodges = [f"{m}:{line} imports {t}" for m, t, line in local if reaches(edges, t, m)]
    assert dodges == []


def test_no_product_module_over_the_line_budget():
    long = {
        m: n for m, path in product_modules().items() if (n := len(path.read_text().splitlines())) > MODULE_MAX_LINES
    }
    assert long == {}


LAYERS = {"cdp": set(), "ingest": {"cdp"}, "discovery": {"cdp"}, "audiences": {"cdp", "discovery"}}


def test_arrows_point_one_way():
    """cdp imports nothing above it; ingest only cdp; discovery only cdp; audiences cdp and discovery
    (docs/architecture.md). The bot may import them all; discovery's __main__ is the CLI's composition root."""
    edges, local = import_graph()
    every = [(m, t) for m, ts in edges.items() for t in ts] + [(m, t) for m, t, _ in local]
    wrong = sorted(
        f"{m} -> {t}"
        for m, t in every
        if (top := m.split(".")[0]) in LAYERS
        and (target := t.split(".")[0]) != top
        and target not in LAYERS[top]
        and m != "discovery.__main__"
    )
    assert wrong == []


if __name__ == "__main__":  # a report: python tests/test_architecture.py
    graph, local_imports = import_graph()
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} module-level imports among them")
    print("cycles:", cycles(graph) or "none")
    dodging = [(m, t, n) for m, t, n in local_imports if reaches(graph, t, m)]
    print(f"function-local product imports: {len(local_imports)}; closing a cycle: {dodging or 'none'}")
