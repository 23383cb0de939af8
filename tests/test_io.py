"""gnn.io: writes are atomic (all or nothing) and produce ordinary files."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
import torch

from gnn.io import atomic_path, read_json, write_csv, write_json, write_torch
from tests.builders import strict_loads


def test_interrupted_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"version": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text('{"version": 2, "trunc')
            raise RuntimeError("interrupted")
    assert read_json(target) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_interrupted_first_write_creates_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(tmp_path / "sub" / "new.csv") as tmp:
            tmp.write_text("a,b\n1,")
            raise KeyboardInterrupt
    assert list((tmp_path / "sub").iterdir()) == []


def test_writers_round_trip_and_respect_the_umask(tmp_path):
    write_json(tmp_path / "a.json", {"title": "Hoshi no Haitatsunin ☆", "n": [1, 2]})
    assert read_json(tmp_path / "a.json") == {"title": "Hoshi no Haitatsunin ☆", "n": [1, 2]}
    assert "☆" in (tmp_path / "a.json").read_text(encoding="utf-8")        # not \\u-escaped
    write_csv(tmp_path / "b.csv", pd.DataFrame({"x": [1, 2]}))
    assert (tmp_path / "b.csv").read_text() == "x\n1\n2\n"
    write_torch(tmp_path / "c.pt", {"t": torch.arange(3), "n": 3})
    blob = torch.load(tmp_path / "c.pt", weights_only=True)
    assert torch.equal(blob["t"], torch.arange(3)) and blob["n"] == 3
    umask = os.umask(0)
    os.umask(umask)
    for name in ("a.json", "b.csv", "c.pt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_torch_files_are_byte_reproducible(tmp_path):
    obj = {"w": torch.linspace(0, 1, 5)}
    write_torch(tmp_path / "a.pt", obj)
    write_torch(tmp_path / "b.pt", obj)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()


def test_write_json_is_strict_and_names_the_bad_value(tmp_path):
    """Issue 17, defect 5: NaN/Infinity are not JSON; nothing is written, the message says where."""
    import math

    from gnn.io import finite_or_null, write_json

    path = tmp_path / "m.json"
    with pytest.raises(ValueError, match=r"m\.json: metrics\.new_users\.k=5\.mae is not a finite number"):
        write_json(path, {"metrics": {"new_users": {"k=5": {"mae": math.nan, "n": 0}}}})
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match=r"scale\.1 is not a finite number"):
        write_json(path, {"scale": [0.0, math.inf]})
    write_json(path, finite_or_null({"a": [1.0, math.nan, {"b": -math.inf}], "c": "NaN"}))
    assert json.loads(path.read_text()) == {"a": [1.0, None, {"b": None}], "c": "NaN"}


def test_ensure_writable_dir_probes_without_creating(tmp_path, monkeypatch):
    import errno
    import tempfile

    from gnn.errors import UsageError
    from gnn.io import ensure_writable_dir

    target = tmp_path / "a" / "b"
    assert ensure_writable_dir(target, "--output-dir") == target
    assert list(tmp_path.iterdir()) == []  # probed in tmp_path, nothing created or left behind
    (tmp_path / "f").write_text("")
    with pytest.raises(UsageError) as info:
        ensure_writable_dir(tmp_path / "f" / "x", "--out")
    assert str(info.value) == f"--out {tmp_path / 'f' / 'x'}: {tmp_path / 'f'} is a file, not a folder"

    def read_only(*_a, **_k):  # what a read-only folder answers (root ignores chmod, so simulate it)
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(UsageError, match=r"--output-dir .*: cannot write there \(Permission denied\)"):
        ensure_writable_dir(target, "--output-dir")


def test_dumps_json_is_the_strict_encoder():
    from gnn.io import dumps_json

    obj = {"title": "Ōkami 狼", "n": [1, 2.5, None, True]}
    assert dumps_json(obj, indent=None) == json.dumps(obj, ensure_ascii=False)  # same text for finite data
    assert strict_loads(dumps_json(obj)) == obj
    with pytest.raises(ValueError, match=r"^results\.json: runs\.0\.rmse is not a finite number"):
        dumps_json({"runs": [{"rmse": float("inf")}]}, where="results.json")


# The only json.dumps calls in gnn/, cli/ and benchmarks/ outside gnn/io.py, none of which writes a file.
IN_MEMORY_DUMPS = {"gnn/ingest/graphql.py": 1,   # the request body sent to the GraphQL server
                   "benchmarks/report.py": 3,    # grids and settings quoted in Markdown cells
                   "benchmarks/compare.py": 3}   # a deep copy and the comparison keys of --merge


def test_every_json_file_goes_through_the_strict_writer():
    """A new ``json.dump`` or file-writing ``json.dumps`` elsewhere could write NaN again."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found: dict[str, int] = {}
    for package in ("gnn", "cli", "benchmarks"):
        for path in (root / package).rglob("*.py"):
            rel = path.relative_to(root).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "json" \
                        and node.attr in ("dump", "dumps") and rel != "gnn/io.py":
                    assert node.attr == "dumps", f"{rel}:{node.lineno}: json.dump; use gnn.io.write_json"
                    found[rel] = found.get(rel, 0) + 1
    assert found == IN_MEMORY_DUMPS
