"""Title search, id-or-title lookup and "more like this" of a loaded export (gnn.lookups)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gnn.errors import UsageError
from gnn.inference import OnnxRecommender
from tests.export import tiny


@pytest.fixture(scope="session")
def rec(tmp_path_factory) -> OnnxRecommender:
    return OnnxRecommender.load(tiny.exported(tmp_path_factory))


def test_similar_ranks_by_the_cosine_of_the_exported_embeddings(rec):
    folder = rec.folder
    meta = json.loads((folder / "onnx_model_metadata.json").read_text())
    emb = np.fromfile(folder / "item_embeddings.bin", dtype="<f4").reshape(meta["item_embeddings"]["shape"])
    norm = np.linalg.norm(emb, axis=1)
    cosine = {i: float(emb[i] @ emb[1] / norm[i] / norm[1]) for i in range(2, len(emb))}  # row 0: padding
    rows = rec.similar(1, k=5)
    listed = [r["anime_index"] for r in rows]
    assert len(set(listed)) == 5 and 1 not in listed and [r["anime_id"] for r in rows] == listed  # ids = indices
    assert [r["similarity"] for r in rows] == pytest.approx([cosine[i] for i in listed], abs=1e-4)
    assert all(rows[j]["similarity"] >= rows[j + 1]["similarity"] for j in range(4))
    assert rows[-1]["similarity"] >= max(c for i, c in cosine.items() if i not in listed) - 1e-4  # the 5 nearest


def test_search_finds_titles_in_the_pages_order_with_training_counts(rec):
    rows = rec.search("show 1 s", k=10)
    assert [r["title"] for r in rows[:3]] == ["Show 1 S1", "Show 1 S2", "Show 1 S3"]   # title prefix; ties by index
    assert [r["anime_id"] for r in rows[:3]] == [4, 5, 6] and [r["rank"] for r in rows] == list(range(1, 11))
    assert "Show 0 S1" in [r["title"] for r in rows[3:]]          # then every word anywhere ("1" in "S1")
    assert all(r["ratings"] == rec.display[r["anime_index"]]["ratings"] for r in rows)
    assert [r["anime_id"] for r in rec.search("SHOW-1 s2")] == [5] and rec.search("no such title") == []
    assert len(rec.search("show", k=4)) == 4


def test_find_takes_an_id_or_a_title(rec):
    assert rec.find(5) == rec.find("5") == rec.anime_index["5"]
    assert rec.find("Show 2 S3") == rec.anime_index["9"]          # a title: its best match
    with pytest.raises(UsageError, match="no anime in this model's catalog has the id or a title matching 'zz'"):
        rec.find("zz")
