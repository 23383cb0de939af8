"""Versioned deployment: atomic swap, rollback, and failed or interrupted exports that change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gnn.export.deploy as deploy
from gnn.errors import UsageError
from gnn.export import ExportError, gnn_export
from gnn.export.onnx_export import export_model
from tests.export import tiny

FAST = dict(exporter="torchscript", max_history=8)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    return tiny.trained(tmp_path_factory)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def version(folder: Path) -> str:
    return json.loads((folder / "onnx_model_metadata.json").read_text())["model_version"]


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if ".staging-" in p.name or ".old-" in p.name)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_rollback_restores_the_previous_export(model_dir, tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(deploy, "_exchange", lambda a, b: False)
    out = tmp_path / "site" / "anime_recommender"
    first = export_model(model_dir, out, **FAST)
    before = snapshot(out)
    second = export_model(model_dir, out, **FAST, user_table="drop")
    assert second.previous_version == first.version and version(out) == second.version
    assert deploy.list_versions(out) == [first.version]
    assert snapshot(deploy.versions_dir(out) / first.version) == before

    restored, replaced = deploy.rollback(out)
    assert (restored, replaced) == (first.version, second.version)
    assert snapshot(out) == before
    # The rolled-back export is kept, but a second rollback goes further back, not forth.
    assert deploy.list_versions(out) == [second.version]
    with pytest.raises(UsageError, match="no earlier export"):
        deploy.rollback(out)
    assert leftovers(out) == []


def test_failed_parity_leaves_the_previous_export(model_dir, tmp_path, monkeypatch):
    out = tmp_path / "anime_recommender"
    export_model(model_dir, out, **FAST)
    before = snapshot(out)

    def broken(*args, **kwargs):
        raise ExportError("parity check failed: max |ONNX - PyTorch| = 0.5 > tolerance 0.0001")

    monkeypatch.setattr(gnn_export, "check_gnn_parity", broken)
    with pytest.raises(ExportError, match="parity check failed"):
        export_model(model_dir, out, **FAST)
    assert snapshot(out) == before and deploy.list_versions(out) == [] and leftovers(out) == []


def test_interrupted_export_leaves_the_previous_export(model_dir, tmp_path, monkeypatch):
    out = tmp_path / "anime_recommender"
    export_model(model_dir, out, **FAST)
    before = snapshot(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(gnn_export, "check_gnn_parity", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_model(model_dir, out, **FAST)
    assert snapshot(out) == before and leftovers(out) == []


def test_crash_between_fallback_renames_is_recovered_by_rollback(model_dir, tmp_path):
    out = tmp_path / "anime_recommender"
    first = export_model(model_dir, out, **FAST)
    export_model(model_dir, out, **FAST)
    out.rename(tmp_path / "lost")  # as if killed after moving the current export away
    restored, replaced = deploy.rollback(out)
    assert replaced is None and restored == first.version and version(out) == first.version


def test_stale_staging_of_a_dead_process_is_removed(tmp_path):
    out = tmp_path / "anime_recommender"
    stale = tmp_path / ".anime_recommender.staging-999999999-abc"
    stale.mkdir()
    with deploy.staging(out) as fresh:
        assert fresh.exists() and not stale.exists()


def test_only_the_newest_versions_are_kept(tmp_path):
    out = tmp_path / "anime_recommender"
    for i in range(5):
        built = tmp_path / f"build{i}"
        built.mkdir()
        (built / "onnx_model_metadata.json").write_text(json.dumps({"model_version": f"2025010{i}T000000Z-x"}))
        deploy.deploy(built, out, keep=2)
    assert deploy.list_versions(out) == ["20250102T000000Z-x", "20250103T000000Z-x"]
    assert version(out) == "20250104T000000Z-x"


@pytest.mark.parametrize("recorded", ["../../x", "ABSOLUTE", "..", "", "a/b", ".hidden", None, 7])
def test_a_tampered_version_never_becomes_a_path(tmp_path, recorded):
    """Issue 17, defect 3: the old export's model_version is a folder name only if it is one safe segment."""
    if recorded == "ABSOLUTE":
        recorded = str(tmp_path / "absolute")
    out = tmp_path / "site" / "anime_recommender"
    out.parent.mkdir()
    old = tmp_path / "old"
    old.mkdir()
    (old / "onnx_model_metadata.json").write_text(json.dumps({"model_version": recorded}))
    deploy.deploy(old, out)
    new = tmp_path / "new"
    new.mkdir()
    (new / "onnx_model_metadata.json").write_text(json.dumps({"model_version": "20250101T000000Z-new"}))
    previous = deploy.deploy(new, out)
    kept = deploy.list_versions(out)
    assert len(kept) == 1 and kept[0].endswith("-invalid") and previous == kept[0], kept
    # Nothing left the versions folder ("../../x" would have been tmp_path/x, the absolute path itself).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == [".anime_recommender.versions",
                                                                     "anime_recommender"]
    assert version(out) == "20250101T000000Z-new"


def test_safe_version_names():
    assert deploy.is_safe_version(deploy.new_version("ab12cd34ef"))
    for bad in ("../x", "/abs", "..", ".", "", "a/b", "a\\b", ".hidden", "x" * 200, None, 3, "a b"):
        assert not deploy.is_safe_version(bad), bad
