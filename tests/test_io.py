"""gnn.io: writes are atomic (all or nothing) and produce ordinary files."""

from __future__ import annotations

import os

import pandas as pd
import pytest
import torch

from gnn.io import atomic_path, read_json, write_csv, write_json, write_torch


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
