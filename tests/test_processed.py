"""gnn.processed helpers that read a processed folder's side files."""

from __future__ import annotations

import json

import pytest

from gnn.processed import anime_metadata


def test_anime_metadata_is_keyed_by_anime_index(tmp_path):
    entries = [{"anime_index": 2, "title": "B", "year": 2012}, {"anime_index": 1, "title": "A", "year": None}]
    (tmp_path / "anime_metadata.json").write_text(json.dumps(entries))
    meta = anime_metadata(tmp_path)
    assert meta == {1: entries[1], 2: entries[0]} and meta[2]["title"] == "B"


def test_a_missing_metadata_file_is_empty_unless_required(tmp_path):
    assert anime_metadata(None) == {} and anime_metadata(tmp_path) == {}
    with pytest.raises(FileNotFoundError):
        anime_metadata(tmp_path, missing_ok=False)
