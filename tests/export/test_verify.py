"""Issue 17, defect 1: ``recommend`` uses nothing from an export that was not verified.

Each case damages one file of a copy of the tiny export, either plainly (the
sha256/size check catches it) or as an attacker who also rewrites the metadata's
"files" table (the schema, shape and ONNX checks must catch it). Every case is one
InputError naming the file, never a silent result or another exception.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main
from gnn.errors import InputError
from gnn.inference import OnnxRecommender
from tests.export import tiny

META = "onnx_model_metadata.json"


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory) -> Path:
    return tiny.exported(tmp_path_factory)


@pytest.fixture
def copy(export_dir, tmp_path) -> Path:
    out = tmp_path / "anime_recommender"
    shutil.copytree(export_dir, out)
    return out


def meta(folder: Path) -> dict:
    return json.loads((folder / META).read_text())


def write(folder: Path, name: str, data: bytes, fix_table: bool = False) -> None:
    """Replace ``name``; with ``fix_table`` also record its new size and sha256 (a thorough attacker)."""
    (folder / name).write_bytes(data)
    if fix_table:
        m = meta(folder)
        m["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        (folder / META).write_text(json.dumps(m))


def edit_meta(folder: Path, change: Callable[[dict], None]) -> None:
    m = meta(folder)
    change(m)
    (folder / META).write_text(json.dumps(m))


def refused(folder: Path, file: str, message: str) -> str:
    with pytest.raises(InputError) as info:
        OnnxRecommender.load(folder)
    text = str(info.value)
    assert text.startswith(str(folder.resolve() / file) if file else str(folder)), text
    assert message in text and "\n" not in text, text
    return text


def test_the_untouched_export_loads(copy):
    from gnn.export.verify import load_verified

    v = load_verified(copy)
    assert v.model == (copy / "model.onnx").read_bytes() and len(v.display) == tiny.N_ANIME + 1
    rec = OnnxRecommender.load(copy)
    assert rec.recommend(history=[(1, 9)], k=3)


def test_flipped_model_bytes_are_refused(copy):
    raw = bytearray((copy / "model.onnx").read_bytes())
    middle = len(raw) // 2
    raw[middle:middle + 50] = bytes(b ^ 0xFF for b in raw[middle:middle + 50])
    write(copy, "model.onnx", bytes(raw))
    refused(copy, "model.onnx", "sha256 differs from onnx_model_metadata.json (changed after export)")


def test_truncated_user_ratings_are_refused(copy):
    write(copy, "user_ratings.bin", (copy / "user_ratings.bin").read_bytes()[:100])
    refused(copy, "user_ratings.bin", "100 bytes, but onnx_model_metadata.json says")


def test_truncated_model_with_a_rewritten_table_fails_in_onnx_runtime_as_one_line(copy):
    write(copy, "model.onnx", (copy / "model.onnx").read_bytes()[:1000], fix_table=True)
    refused(copy, "model.onnx", "ONNX Runtime cannot load it")


def test_user_ratings_layout_is_checked_even_with_a_rewritten_table(copy):
    words = np.frombuffer((copy / "user_ratings.bin").read_bytes(), dtype="<i4").copy()
    n = meta(copy)["user_ratings"]["n_users"]
    bad = words.copy()
    bad[n + 1] = tiny.N_ANIME + 5                        # the first anime index, beyond the catalog
    write(copy, "user_ratings.bin", bad.tobytes(), fix_table=True)
    refused(copy, "user_ratings.bin", f"anime indices must lie in 1..{tiny.N_ANIME}")
    bad = words.copy()
    bad[1], bad[2] = bad[2], bad[1] - 1                  # offsets that go down
    write(copy, "user_ratings.bin", bad.tobytes(), fix_table=True)
    refused(copy, "user_ratings.bin", "offsets must rise from 0 to")
    write(copy, "user_ratings.bin", words[:-3].tobytes(), fix_table=True)   # the wrong length for nnz
    refused(copy, "user_ratings.bin", "bytes, but int32 offsets[")


@pytest.mark.parametrize("name, content, message", [
    ("anime_display.json", b"[{", "not valid JSON"),
    ("anime_display.json", b"[null]", "expected a JSON array of"),
    ("model_mappings.json", b'{"anime": {"index_to_id": [], "id_to_index": {}}}', "expected anime.index_to_id"),
    ("model_mappings.json", "\u00ff".encode("latin-1"), "not UTF-8 text"),
    ("anime_display.json", b"[" * 100000 + b"]" * 100000, "nested too deeply"),
])
def test_bad_json_files_with_a_rewritten_table(copy, name, content, message):
    write(copy, name, content, fix_table=True)
    refused(copy, name, message)


@pytest.mark.parametrize("field, value", [("relations", [[tiny.N_ANIME + 10, "SEQUEL"]]),
                                          ("corated", [2, tiny.N_ANIME + 1]), ("corated", [0]), ("corated", ["3"])])
def test_display_relations_and_co_rated_anime_must_stay_inside_the_catalog(copy, field, value):
    display = json.loads((copy / "anime_display.json").read_text())
    display[1][field] = value
    write(copy, "anime_display.json", json.dumps(display).encode(), fix_table=True)
    assert "record 1" in refused(copy, "anime_display.json", "malformed entry")


def test_embeddings_must_be_finite(copy):
    emb = np.frombuffer((copy / "item_embeddings.bin").read_bytes(), dtype="<f4").copy()
    emb[5] = np.nan
    write(copy, "item_embeddings.bin", emb.tobytes(), fix_table=True)
    refused(copy, "item_embeddings.bin", "holds NaN or infinite values")


@pytest.mark.parametrize("change, file, message", [
    (lambda m: m.pop("files"), META, "no 'files' table"),
    (lambda m: m["files"].pop("model_mappings.json"), "model_mappings.json", "not listed with size and sha256"),
    (lambda m: m.update(format_version=2), META, "unsupported export format 2"),
    (lambda m: m.update(n_anime="31"), META, "'n_anime' must be an integer"),
    (lambda m: m.update(rating_scale={"low": 1, "high": 1}), META, "finite low < high"),
    (lambda m: m["item_embeddings"].update(file="../../etc/passwd"), META, "is not a plain file name"),
    (lambda m: m["inputs"][0].update(name="usr"), "model.onnx", "differ from the metadata's"),
    (lambda m: m["inputs"][0].pop("name"), "model.onnx", "differ from the metadata's"),   # found by the fuzz test
])
def test_metadata_is_checked(copy, change, file, message):
    edit_meta(copy, change)
    refused(copy, file, message)


def test_metadata_that_is_not_json(copy):
    (copy / META).write_text('{"format_version": 1,')
    refused(copy, META, "not valid JSON")


def test_cli_recommend_names_the_tampered_file_in_one_line(copy):
    raw = bytearray((copy / "model.onnx").read_bytes())
    raw[-60:-10] = bytes(b ^ 0x55 for b in raw[-60:-10])
    (copy / "model.onnx").write_bytes(bytes(raw))
    result = CliRunner().invoke(main, ["recommend", "--model-dir", str(copy), "--ratings", "1:9"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {copy.resolve() / 'model.onnx'}: sha256 differs from onnx_model_metadata.json "
        "(changed after export); re-export it"]
    assert result.stdout == ""
