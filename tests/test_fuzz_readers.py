"""Byte-level fuzzing of every reader of outside files (issue 17).

Each case takes a valid file (a hand-written fixture or the tiny export), mutates its
bytes (flips, insertions, deletions, duplicated runs, truncation, hostile tokens: invalid
UTF-8, NUL, a BOM, NaN/Infinity/1e400, 2**63, unbalanced brackets and quotes) and reads
it. Every outcome must be a clean result or one single-line InputError (UsageError where
the CLI's own checks speak); any other exception is a bug and fails the test.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.recommend import read_ratings_file
from gnn.data.catalog import read_catalog
from gnn.data.ratings import read_ratings
from gnn.errors import InputError, UsageError
from gnn.ingest.mal_import import convert_anime, convert_ratings
from tests.builders import FIXTURES

MAL = FIXTURES.parent / "mal"
TOKENS = [b"\xff", b"\xc3", b"\x00", b"\xef\xbb\xbf", b'"', b",", b"\n", b"\r\n", b"NaN", b"Infinity", b"-1e400",
          b"1e308", b"9223372036854775808", b"-1", b"4.0", b"inf", b"[", b"{", b"}", b"]", b":", b"null", b"true",
          b"\\u0000", b"[" * 3000]
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "duplicate", "truncate", "token", "token"]))
        pos = draw(st.integers(0, len(data)))
        if op == "flip" and data:
            data[min(pos, len(data) - 1)] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 32))]
        elif op == "duplicate":
            data[pos:pos] = data[pos:pos + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[pos:]
        else:
            data[pos:pos] = draw(st.sampled_from(TOKENS))
    return bytes(data)


def clean_or_one_line(read: Callable[[], Any], allowed: tuple[type[Exception], ...] = (InputError,)) -> None:
    try:
        read()
    except allowed as err:
        text = str(err)
        assert text and "\n" not in text and "\r" not in text, repr(text)
        assert len(text) < 2000, len(text)


def _in_tmp(name: str, data: bytes, read: Callable[[Path], Any], **kw: Any) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        clean_or_one_line(lambda: read(path), **kw)


@FUZZ
@given(mutated((FIXTURES / "anime_catalog.json").read_bytes()))
def test_fuzz_catalog_json(data):
    _in_tmp("anime_catalog.json", data, read_catalog)


@FUZZ
@given(mutated((FIXTURES / "anime_catalog_anilist.json").read_bytes()))
def test_fuzz_catalog_json_older_shape(data):
    _in_tmp("anime_catalog.json", data, read_catalog)


@FUZZ
@given(mutated((FIXTURES / "ratings.csv").read_bytes() + b"u9,9007199254740993,4.0\n"))
def test_fuzz_ratings_csv(data):
    _in_tmp("ratings.csv", data, read_ratings)


@FUZZ
@given(mutated((FIXTURES / "user_ratings.json").read_bytes()))
def test_fuzz_grouped_ratings_json(data):
    _in_tmp("user_ratings.json", data, read_ratings)


@FUZZ
@given(mutated("\ufeffanime_id,rating\n1,9\n2,8.5\n3,10\n".encode("utf-8")))
def test_fuzz_recommend_ratings_file(data):
    _in_tmp("list.csv", data, read_ratings_file)


@FUZZ
@given(st.sampled_from(["2017", "2020"]).flatmap(
    lambda layout: mutated((MAL / layout / "anime.csv").read_bytes())))
def test_fuzz_mal_anime_csv(data):
    _in_tmp("anime.csv", data, lambda p: convert_anime(p, Counter()))


@FUZZ
@given(st.sampled_from(["2017/rating.csv", "2020/animelist.csv", "2020/rating_complete.csv"]).flatmap(
    lambda name: mutated((MAL / name).read_bytes())))
def test_fuzz_mal_ratings_csv(data):
    def convert(path: Path) -> None:
        convert_ratings(path, path.parent / "out.csv", {101, 102, 103, 1, 5, 20}, Counter(), chunksize=3)

    _in_tmp("rating.csv", data, convert)


# ------------------------------------------------------------------ an export's files

EXPORT_FILES = ["onnx_model_metadata.json", "model_mappings.json", "anime_display.json", "user_ratings.bin",
                "item_embeddings.bin"]


@pytest.fixture(scope="module")
def export_copy(tmp_path_factory) -> Path:
    from tests.export import tiny

    out = tmp_path_factory.mktemp("fuzz_export") / "anime_recommender"
    shutil.copytree(tiny.exported(tmp_path_factory), out)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_export_files_with_a_rewritten_table(export_copy, data):
    """An attacker who also rewrites the sha256 table: the schema and shape checks must hold the line."""
    from gnn.inference import OnnxRecommender

    name = data.draw(st.sampled_from(EXPORT_FILES))
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "export"
        shutil.copytree(export_copy, folder)
        raw = data.draw(mutated((folder / name).read_bytes()))
        (folder / name).write_bytes(raw)
        if name != "onnx_model_metadata.json":
            meta = json.loads((folder / "onnx_model_metadata.json").read_text())
            meta["files"][name] = {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
            (folder / "onnx_model_metadata.json").write_text(json.dumps(meta))

        def use() -> None:
            rec = OnnxRecommender.load(folder)
            rec.recommend(history=[(rec.anime_ids[1], 9), (rec.anime_ids[2], 3)], k=5)
            for user_id in list(rec.user_index)[:2]:
                rec.recommend(user_id=user_id, k=5)

        clean_or_one_line(use, allowed=(InputError, UsageError))
