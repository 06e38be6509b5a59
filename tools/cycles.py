"""Module count per folder and the import cycles between the package's modules.

    .venv/bin/python tools/cycles.py                  # gateway, schema, resolvers, backends
    .venv/bin/python tools/cycles.py --edges gateway  # one package, with each cycle's imports

Every `import` statement counts, at module level, inside a function (a function-level import
still ties the two modules together; it only postpones the failure) or under
`if TYPE_CHECKING:` (a type-only tie; `--runtime` leaves those out). An import of a package
counts as an import of its `__init__`; the parents a dotted import loads implicitly do not
count (every module would then sit in a cycle with its package's `__init__`). A cycle is a
strongly connected component of this graph with more than one module.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("gateway", "schema", "resolvers", "backends")


@dataclass(frozen=True)
class Edge:
    """One import statement from one module of the package to another."""

    source: str
    target: str
    line: int
    where: str  # "top-level", "function-level" or "type-only" (see _walk)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            modules[module_name(path, root)] = path
    return modules


def folder_of(module: str, modules: Mapping[str, Path]) -> str:
    """The folder a module's file lives in, as a dotted name (a package's own __init__ too)."""
    path = modules[module]
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _known(name: str, modules: Mapping[str, Path]) -> str | None:
    """The longest prefix of a dotted name that is one of the modules."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _base(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    prefix = ".".join(parts[:keep])
    return f"{prefix}.{node.module}" if node.module else prefix


def _targets(node: ast.AST, module: str, modules: Mapping[str, Path]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            found = _known(alias.name, modules)
            if found:
                yield found
    elif isinstance(node, ast.ImportFrom):
        base = _base(node, module, modules[module].name == "__init__.py")
        for alias in node.names:
            found = _known(f"{base}.{alias.name}", modules) or _known(base, modules)
            if found:
                yield found


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
    return name == "TYPE_CHECKING"


def _walk(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Every node with where it sits: "top-level", "function-level" (inside a function or
    class body) or "type-only" (under `if TYPE_CHECKING:`, never run)."""
    stack: list[tuple[ast.AST, str]] = [(tree, "top-level")]
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
    while stack:
        node, where = stack.pop()
        yield node, where
        if _is_type_checking(node):
            where = "type-only"
        elif isinstance(node, scopes) and where == "top-level":
            where = "function-level"
        stack.extend((child, where) for child in ast.iter_child_nodes(node))


def import_edges(modules: Mapping[str, Path], *, type_only: bool = True) -> list[Edge]:
    """One edge per import statement and module imported (`type_only=False`: what runs)."""
    edges: set[Edge] = set()
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, where in _walk(tree):
            if where == "type-only" and not type_only:
                continue
            for target in _targets(node, module, modules):
                if target != module:
                    edges.add(Edge(module, target, getattr(node, "lineno", 0), where))
    return sorted(edges, key=lambda e: (e.source, e.line, e.target))


def strongly_connected(nodes: Iterable[str], edges: Iterable[Edge]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively; components in discovery order, members sorted."""
    graph: dict[str, set[str]] = {node: set() for node in nodes}
    for edge in edges:
        graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return components


def report(
    root: Path, packages: Iterable[str], *, show_edges: bool, type_only: bool = True
) -> list[str]:
    modules = find_modules(root, packages)
    edges = import_edges(modules, type_only=type_only)
    lines = [f"{len(modules)} modules, {len(edges)} imports between them", ""]
    lines.append("modules per folder:")
    counts = Counter(folder_of(module, modules) for module in modules)
    lines += [f"  {n:4d}  {folder.replace('.', '/')}/" for folder, n in sorted(counts.items())]
    cycles = [c for c in strongly_connected(modules, edges) if len(c) > 1]
    lines += ["", f"import cycles: {len(cycles)}"]
    for cycle in sorted(cycles):
        folders = sorted({folder_of(m, modules).replace(".", "/") + "/" for m in cycle})
        where = "one folder" if len(folders) == 1 else "crosses folders"
        lines.append(f"  {len(cycle)} modules ({where}: {', '.join(folders)})")
        lines += [f"    {member}" for member in cycle]
        if show_edges:
            members = set(cycle)
            for e in edges:
                if e.source in members and e.target in members:
                    lines.append(f"      {e.source}:{e.line} -> {e.target} ({e.where})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", default=list(PACKAGES))
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--edges", action="store_true", help="list the imports inside each cycle")
    parser.add_argument(
        "--runtime", action="store_true", help="leave out imports under `if TYPE_CHECKING:`"
    )
    args = parser.parse_args(argv)
    lines = report(args.root, args.packages, show_edges=args.edges, type_only=not args.runtime)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
