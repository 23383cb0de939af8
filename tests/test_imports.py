"""No module of gnn/, cli/ or benchmarks/ reaches into another package's private (``_name``) parts."""

from __future__ import annotations

import ast
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
