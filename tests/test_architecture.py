"""Import arrows point one way (sarbench -> model_adapters, metrics) and no package has an import cycle.

The graph comes from the source with `ast`: every `import` statement counts, function-local
(lazy) ones included, and relative imports are resolved against the importing module.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sarbench", "metrics", "model_adapters")
LOWER_LAYERS = ("metrics", "model_adapters")  # must never import sarbench

# Import edges (importer, imported) that break the rules today; the model_adapters refactor
# (in progress elsewhere) removes them, and then this set must be emptied.
KNOWN_UNTIL_REFACTOR = {}


def module_files(root: Path, packages) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the packages (`pkg/__init__.py` is `pkg`)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _imported_names(node: ast.AST, module: str, is_package: bool, modules) -> list[str]:
    """Absolute dotted names an import statement refers to (`from p import m`: p.m if a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    return [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source for alias in node.names]


def import_graph(root: Path, packages) -> dict[str, set[str]]:
    """Module -> the project modules it imports anywhere in its body."""
    modules = module_files(root, packages)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _imported_names(node, module, is_package, modules):
                target = _known_prefix(name, modules)
                if target is not None and target != module:
                    graph[module].add(target)
    return graph


def _known_prefix(name: str, modules) -> str | None:
    """The longest prefix of a dotted name that is a project module (`a.b.func` -> `a.b`)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
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
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _project_graph() -> dict[str, set[str]]:
    graph = import_graph(ROOT, PACKAGES)
    return {m: {t for t in targets if (m, t) not in KNOWN_UNTIL_REFACTOR} for m, targets in graph.items()}


def test_metrics_and_model_adapters_never_import_sarbench():
    offences = sorted(
        (module, target)
        for module, targets in _project_graph().items()
        if module.split(".")[0] in LOWER_LAYERS
        for target in targets
        if target.split(".")[0] == "sarbench"
    )
    assert not offences, f"lower layers import sarbench (arrows must point one way): {offences}"


def test_no_import_cycles():
    found = cycles(_project_graph())
    assert not found, f"import cycles (strongly connected modules): {found}"


def test_known_offences_still_exist():
    """An allow-listed edge that is gone must leave the list (so the list only shrinks)."""
    graph = import_graph(ROOT, PACKAGES)
    stale = sorted(edge for edge in KNOWN_UNTIL_REFACTOR if edge[1] not in graph.get(edge[0], ()))
    assert not stale, f"remove these fixed edges from KNOWN_UNTIL_REFACTOR: {stale}"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_graph_sees_lazy_and_relative_imports_and_finds_cycles(tmp_path):
    _write(
        tmp_path,
        {
            "top/__init__.py": "",
            "top/a.py": "def f():\n    from top.b import g\n",  # function-local
            "top/b.py": "from . import c\nimport os\n",  # relative, resolved to top.c
            "top/c.py": "from .sub.d import x\n",
            "top/sub/__init__.py": "",
            "top/sub/d.py": "from ..a import f\n",  # two levels up: closes a -> b -> c -> d -> a
            "low/__init__.py": "",
            "low/e.py": "import top.sub\n",
        },
    )
    graph = import_graph(tmp_path, ("top", "low"))
    assert graph["top.a"] == {"top.b"}
    assert graph["top.b"] == {"top.c"}
    assert graph["top.c"] == {"top.sub.d"}
    assert graph["top.sub.d"] == {"top.a"}
    assert graph["low.e"] == {"top.sub"}
    assert cycles(graph) == [["top.a", "top.b", "top.c", "top.sub.d"]]
    assert cycles({"x": {"y"}, "y": set()}) == []
