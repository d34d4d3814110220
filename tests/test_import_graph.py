"""The package's import graph is acyclic (every ``import`` statement, at module level or inside a function).

The graph is built with :mod:`ast` over the source files, so no module is imported: an edge
``a -> b`` for each ``import b`` / ``from b import x`` (``b.x`` when ``x`` is a submodule) in
``a``, relative imports resolved. ``mfd_model.train`` and ``mfd_model.export`` live in ``train/``
and ``export/`` (the pyproject's ``package-dir``). A package's ``__init__`` that a submodule
imports implicitly is not an edge: ours only name their submodules lazily (:mod:`mfd_model.lazy`).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = {"mfd_model": ROOT / "mfd_model", "mfd_model.train": ROOT / "train",
                "mfd_model.export": ROOT / "export"}


def package_modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> source file."""
    modules: dict[str, Path] = {}
    for package, folder in PACKAGE_DIRS.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if any(p.startswith(".") or p == "__pycache__" for p in parts):
                continue
            if package == "mfd_model" and parts[0] in ("train", "export"):
                continue
            name = ".".join((package, *parts))
            modules[name.removesuffix(".__init__")] = path
    return modules


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """``module -> the package modules it imports``."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")
                    base = base[:len(base) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                submodules = [f"{source}.{alias.name}" for alias in node.names
                              if f"{source}.{alias.name}" in modules]
                targets.update(submodules)
                if len(submodules) < len(node.names):
                    targets.add(source)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle ``[a, b, ..., a]``, or ``None`` when the graph is acyclic (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(graph):
        if state.get(root):
            continue
        path, stack = [root], [iter(sorted(graph[root]))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_graph_sees_the_package():
    modules = package_modules()
    graph = import_graph(modules)
    assert {"mfd_model.model", "mfd_model.train.module", "mfd_model.export.kipoi_source",
            "mfd_model.variants.scoring", "mfd_model.interpret.ism", "mfd_model.inference.intervals"} <= set(modules)
    assert "mfd_model.model" in graph["mfd_model.variants.scoring"]  # from ..model import MFDModel
    assert "mfd_model.variants.effects" in graph["mfd_model.variants.scoring"]  # from .effects import ...


def test_find_cycle_on_toy_graphs():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set(), "d": {"d"}}) == ["d", "d"]


def test_no_import_cycle():
    cycle = find_cycle(import_graph(package_modules()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


# the layers above the core: a core module (mfd_model.<module>) imports none of them
LAYERS = ("mfd_model.interpret", "mfd_model.evaluate", "mfd_model.variants", "mfd_model.inference",
          "mfd_model.train", "mfd_model.export", "mfd_model.commands")
FRONT_ENDS = ("mfd_model.cli", "mfd_model.demo")   # the mfd command and the demo's flow run everything


def test_the_core_imports_no_layer_above_it():
    """Core modules (``mfd_model.<module>``) import no subpackage: a piece of an analysis layer that the
    core needs lives in the core (``mfd_model.disentanglement`` imported evaluate/ and interpret/ before it
    moved to ``mfd_model.evaluate.disentanglement_check``). The front ends, which run every layer, excepted."""
    graph = import_graph(package_modules())
    core = [m for m in graph if m.count(".") == 1 and m not in LAYERS and m not in FRONT_ENDS]
    assert "mfd_model.model" in core and "mfd_model.strands" in core
    upward = {m: sorted(t for t in graph[m] if t in LAYERS or t.startswith(tuple(f"{layer}." for layer in LAYERS)))
              for m in core}
    assert not {m: t for m, t in upward.items() if t}

