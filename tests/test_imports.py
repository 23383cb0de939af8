"""How the code may import itself.

* No module of gnn/, cli/ or benchmarks/ reaches into another package's private (``_name``) parts.
* Data flows one way through ``gnn``: no two of its parts (a subpackage such as ``gnn.data``, or a
  top-level module such as ``gnn.processed``) import each other, directly or round a longer loop;
  the main chain ``data -> graph -> processed -> models -> train -> export`` is never walked backwards;
  ``gnn.errors`` and ``gnn.io`` are leaves that anyone may import.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _owner(dotted: str) -> str:
    """The package a dotted name's last part lives in: itself for a package, its parent for a module."""
    return dotted if (ROOT / dotted.replace(".", "/") / "__init__.py").exists() else dotted.rpartition(".")[0]


def private_reaches(source: str, where: str) -> list[str]:
    """``from a.b import _c``, ``from a._b import c`` or ``module._c`` in ``source`` (the file ``where``, relative
    to the repository) where the private part belongs to another package."""
    here, name = ".".join(Path(where).parts[:-1]), Path(where).name
    tree = ast.parse(source)
    found, modules = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            for i, part in enumerate(parts):
                if _private(part) and ".".join(parts[:i]) != here:
                    found.append(f"{name}:{node.lineno}: from {node.module}")
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                modules[alias.asname or alias.name] = full
                if _private(alias.name) and _owner(node.module) != here:
                    found.append(f"{name}:{node.lineno}: from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                modules[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name):
            target = modules.get(node.value.id)
            if target and target.split(".")[0] in ("gnn", "cli", "benchmarks") and _owner(target) != here \
                    and (ROOT / target.replace(".", "/")).with_suffix(".py").exists():
                found.append(f"{name}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_private_names_cross_packages():
    found = [hit for package in ("gnn", "cli", "benchmarks") for path in sorted((ROOT / package).rglob("*.py"))
             for hit in private_reaches(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())]
    assert found == []


def test_the_check_sees_a_private_import():
    """The check itself, on the kind of import issue 19 reported (benchmarks/worker.py took private helpers)."""
    source = ("from gnn.export.scorer import _helper\nimport gnn.io as io\nio._UMASK\n"
              "from gnn.data._synthetic_names import GENRES\nfrom benchmarks.latency import _own_package\n")
    assert private_reaches(source, "benchmarks/worker.py") == [
        "worker.py:1: from gnn.export.scorer import _helper", "worker.py:4: from gnn.data._synthetic_names",
        "worker.py:3: io._UMASK"]
    assert private_reaches(source.splitlines()[3], "gnn/data/synthetic.py") == []  # inside its own package


# The main chain, first to last: a part may import only the parts before it.
CHAIN = ("gnn.data", "gnn.graph", "gnn.processed", "gnn.models", "gnn.train", "gnn.export")
LEAVES = {"gnn.errors": set(), "gnn.io": {"gnn.errors"}}  # what each leaf may import


def _part(dotted: str) -> str | None:
    """The part of ``gnn`` a module belongs to (``gnn.data.vocab`` -> ``gnn.data``); None for ``gnn`` itself."""
    parts = dotted.split(".")
    return ".".join(parts[:2]) if parts[0] == "gnn" and len(parts) > 1 else None


def part_imports(sources: dict[str, str]) -> dict[tuple[str, str], list[str]]:
    """``(importer part, imported part) -> ["path:line", ...]`` over ``sources`` (repository path -> text).

    Every import counts: at module level, inside a function (a lazy import is still a dependency)
    and under ``TYPE_CHECKING``.
    """
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path, source in sources.items():
        here = _part(".".join(Path(path).with_suffix("").parts))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "gnn" else [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for there in {_part(name) for name in names} - {None, here}:
                if here is not None and there != "gnn.__version__":
                    edges[(here, there)].append(f"{path}:{node.lineno}")
    return dict(edges)


def import_cycles(edges: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """The groups of parts that reach each other through imports (strongly connected, 2 or more), sorted."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    reaches = {part: reach(part) for part in list(graph)}
    groups = {tuple(sorted({p} | {q for q in reaches[p] if p in reaches.get(q, set())})) for p in reaches}
    return sorted(list(g) for g in groups if len(g) > 1)


def backward_imports(edges: dict[tuple[str, str], list[str]]) -> list[str]:
    """Imports that walk :data:`CHAIN` backwards or make a leaf import more than it may."""
    found = []
    for (a, b), where in sorted(edges.items()):
        if a in CHAIN and b in CHAIN and CHAIN.index(b) > CHAIN.index(a):
            found.append(f"{a} imports {b} ({', '.join(where)})")
        if a in LEAVES and b not in LEAVES[a]:
            found.append(f"leaf {a} imports {b} ({', '.join(where)})")
    return found


def _gnn_sources() -> dict[str, str]:
    return {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted((ROOT / "gnn").rglob("*.py"))}


def test_no_import_cycles_in_gnn():
    edges = part_imports(_gnn_sources())
    assert ("gnn.processed", "gnn.graph") in edges  # the walk sees real imports (else the next lines prove nothing)
    assert import_cycles(edges) == []
    assert backward_imports(edges) == []


def test_the_check_sees_a_cycle():
    """The check itself, on the cycle issue 19 reported: the processed-folder loader under gnn/data imported
    gnn.graph, whose builder imports gnn.data."""
    sources = {"gnn/data/processed.py": "from gnn.graph.builder import ItemTables\nfrom gnn.io import write_json\n",
               "gnn/graph/builder.py": "from gnn.data.vocab import Vocab\nfrom gnn.errors import InputError\n",
               "gnn/models/base.py": "def f():\n    import gnn.graph.builder\n",
               "gnn/ingest/graphql.py": "from gnn import __version__\n",
               "gnn/io.py": "from gnn import processed\n"}
    edges = part_imports(sources)
    assert edges[("gnn.data", "gnn.graph")] == ["gnn/data/processed.py:1"]
    assert edges[("gnn.models", "gnn.graph")] == ["gnn/models/base.py:2"]  # a lazy import counts
    assert import_cycles(edges) == [["gnn.data", "gnn.graph"]]
    assert backward_imports(edges) == ["gnn.data imports gnn.graph (gnn/data/processed.py:1)",
                                       "leaf gnn.io imports gnn.processed (gnn/io.py:1)"]
    longer = {"gnn/train/a.py": "import gnn.export.b\n", "gnn/export/b.py": "import gnn.inference\n",
              "gnn/inference.py": "import gnn.train.c\n"}
    assert import_cycles(part_imports(longer)) == [["gnn.export", "gnn.inference", "gnn.train"]]
