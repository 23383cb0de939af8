"""The Kaggle 2020 layout written for the scaling benchmark reads back through `import mal` unchanged."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from benchmarks.kaggle_layout import write_kaggle_2020
from gnn.ingest.mal_import import import_mal


def test_import_mal_reads_the_written_layout_back(tmp_path):
    src = tmp_path / "contract"
    src.mkdir()
    catalog = [
        {"id": 5, "idMal": 5, "title": {"romaji": "Alpha", "english": "Alpha EN", "native": None}, "format": "TV",
         "episodes": 12, "duration": 24, "year": 2011, "genres": ["Action", "Drama"], "tags": [],
         "studios": [{"id": 1, "name": "Studio A", "isMain": True}, {"id": 2, "name": "Prod B", "isMain": False}],
         "relations": [], "popularity": 1200, "averageScore": 81.5},
        {"id": 9, "idMal": 9, "title": {"romaji": "Beta"}, "format": "MOVIE", "episodes": 1, "duration": None,
         "year": None, "genres": [], "tags": [], "studios": [], "relations": [], "popularity": None,
         "averageScore": None}]
    (src / "anime_catalog.json").write_text(json.dumps(catalog))
    (src / "ratings.csv").write_text("user_id,anime_id,rating\nu000002,5,8\nu000002,9,6\nu000010,5,10\n")
    out = tmp_path / "kaggle"
    assert write_kaggle_2020(src, out, chunksize=2) == {"anime": 2, "ratings": 3}
    counts = import_mal(out / "anime.csv", out / "rating_complete.csv", tmp_path / "imported")
    assert counts["ratings"] == 3 and counts["users"] == 2 and counts["anime"] == 2
    ratings = pd.read_csv(tmp_path / "imported" / "ratings.csv")
    assert ratings.values.tolist() == [["u000001", 5, 8], ["u000001", 9, 6], ["u000002", 5, 10]]
    back = {r["id"]: r for r in json.loads((tmp_path / "imported" / "anime_catalog.json").read_text())}
    a, b = back[5], back[9]
    assert a["title"]["romaji"] == "Alpha" and a["title"]["english"] == "Alpha EN" and a["format"] == "TV"
    assert a["episodes"] == 12 and a["duration"] == 24 and a["year"] == 2011 and a["averageScore"] == 81.5
    assert a["genres"] == ["Action", "Drama"] and a["popularity"] == 1200
    assert [(s["name"], s["isMain"]) for s in a["studios"]] == [("Studio A", True), ("Prod B", False)]
    assert b["format"] == "MOVIE" and b["averageScore"] is None and b["year"] is None and b["studios"] == []


def test_user_ids_must_be_generate_samples(tmp_path):
    (tmp_path / "anime_catalog.json").write_text("[]")
    (tmp_path / "ratings.csv").write_text("user_id,anime_id,rating\nalice,5,8\n")
    with pytest.raises(ValueError, match="user ids must be u<digits>"):
        write_kaggle_2020(tmp_path, tmp_path / "out")
