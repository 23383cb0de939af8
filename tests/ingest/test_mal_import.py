"""import mal: both Kaggle layouts, genre taxonomy, unrated rows, bad headers, CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli.ingest import import_group
from gnn.errors import InputError
from gnn.ingest.mal_import import (convert_ratings, detect_anime_layout, detect_ratings_layout,
                                   import_mal, parse_duration, split_companies)
from gnn.ingest.mal_taxonomy import split_genres

MAL = Path(__file__).resolve().parents[1] / "fixtures" / "mal"


def _load(out_dir: Path) -> tuple[dict[int, dict], list[tuple[str, int, int]]]:
    catalog = json.loads((out_dir / "anime_catalog.json").read_text(encoding="utf-8"))
    ratings = pd.read_csv(out_dir / "ratings.csv")
    assert list(ratings.columns) == ["user_id", "anime_id", "rating"]
    return {a["id"]: a for a in catalog}, list(ratings.itertuples(index=False, name=None))


def test_layouts_are_detected_from_the_header() -> None:
    assert detect_anime_layout(MAL / "2020" / "anime.csv") == "2020"
    assert detect_anime_layout(MAL / "2017" / "anime.csv") == "2017"
    assert detect_ratings_layout(MAL / "2020" / "animelist.csv") == "animelist"
    assert detect_ratings_layout(MAL / "2020" / "rating_complete.csv") == "ratings"
    assert detect_ratings_layout(MAL / "2017" / "rating.csv") == "ratings"


def test_bad_headers_give_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"not a Kaggle MyAnimeList anime.csv: the 2020 layout lacks "
                                         r"MAL_ID, Name, .*; the 2017 layout lacks anime_id, name"):
        detect_anime_layout(MAL / "bad" / "anime.csv")
    with pytest.raises(InputError, match="missing column.s. user_id, anime_id, rating"):
        detect_ratings_layout(MAL / "bad" / "ratings.csv")


@pytest.mark.parametrize("text, genres, tags", [
    ("Action, Military, Sci-Fi, Shounen, Dementia", ["Action", "Sci-Fi", "Avant Garde"],
     [("Military", "Theme"), ("Shounen", "Demographic")]),
    ("Shoujo Ai, Yuri, Shounen Ai, Yaoi, Thriller", ["Girls Love", "Boys Love", "Suspense"], []),
    ("Cars, Demons, Police, Game, Harem, Josei", [],
     [("Racing", "Theme"), ("Mythology", "Theme"), ("Detective", "Theme"), ("Game", "Theme"),
      ("Harem", "Theme"), ("Josei", "Demographic")]),
    ("Unknown", [], []),
    ("", [], []),
])
def test_old_genre_lists_follow_the_current_taxonomy(text: str, genres: list[str], tags: list) -> None:
    got_genres, got_tags = split_genres(text)
    assert got_genres == genres
    assert [(t["name"], t["category"]) for t in got_tags] == tags
    assert all(t["rank"] is None for t in got_tags)


def test_small_parsers() -> None:
    assert parse_duration("24 min. per ep.") == 24
    assert parse_duration("1 hr. 55 min.") == 115
    assert parse_duration("2 hr.") == 120
    assert parse_duration("30 sec.") == 1
    assert parse_duration("Unknown") is None
    assert split_companies("Bandai Fiction, TEM Co., Ltd., add some") == ["Bandai Fiction", "TEM Co., Ltd."]


def test_2020_layout(tmp_path: Path) -> None:
    counts = import_mal(MAL / "2020" / "anime.csv", MAL / "2020" / "rating_complete.csv", tmp_path)
    catalog, ratings = _load(tmp_path)
    assert sorted(catalog) == [1, 2, 3, 4]
    first = catalog[1]
    assert first["id"] == first["idMal"] == 1 and first["idAnilist"] is None
    assert first["title"] == {"romaji": "Kumo no Ue no Toshokan", "english": "Library Above the Clouds",
                              "native": "雲の上の図書館"}
    assert (first["format"], first["episodes"], first["duration"], first["status"], first["year"]) == (
        "TV", 24, 24, "FINISHED", 2001)
    assert first["genres"] == ["Action", "Sci-Fi", "Avant Garde"]
    assert first["averageScore"] == 81.2 and first["popularity"] == 150000
    assert first["studios"] == [{"id": None, "name": "Studio Kumo", "isMain": True},
                                {"id": None, "name": "Bandai Fiction", "isMain": False},
                                {"id": None, "name": "TEM Co., Ltd.", "isMain": False}]
    assert first["relations"] == [] and first["coverImage"] is None
    movie = catalog[2]
    assert movie["title"]["english"] is None and movie["averageScore"] is None
    assert movie["popularity"] is None  # 0 members: unknown
    assert (movie["format"], movie["duration"], movie["year"]) == ("MOVIE", 115, 2010)
    assert [s["name"] for s in movie["studios"]] == ["Studio Kumo", "Pixel Forge"]
    assert movie["genres"] == ["Slice of Life", "Girls Love"]
    ova = catalog[3]
    assert (ova["episodes"], ova["duration"], ova["status"], ova["year"]) == (None, None, None, 2019)
    assert ova["studios"] == [{"id": None, "name": "Pixel Forge", "isMain": True}]
    assert catalog[4]["format"] == "MUSIC" and catalog[4]["tags"][0]["name"] == "Music"

    assert ratings == [("u000001", 1, 9), ("u000001", 2, 7), ("u000002", 1, 10), ("u000002", 3, 4),
                       ("u000003", 4, 6)]
    assert counts["ratings_dropped_anime_not_in_catalog"] == 1
    assert (counts["anime"], counts["ratings"], counts["users"]) == (4, 5, 3)


def test_2020_animelist_drops_unscored_rows(tmp_path: Path) -> None:
    counts = import_mal(MAL / "2020" / "anime.csv", MAL / "2020" / "animelist.csv", tmp_path)
    _, ratings = _load(tmp_path)
    assert ratings == [("u000001", 1, 9), ("u000002", 2, 8), ("u000003", 3, 5)]
    assert counts["ratings_dropped_unrated"] == 4 and counts["users"] == 3


def test_2017_layout(tmp_path: Path) -> None:
    counts = import_mal(MAL / "2017" / "anime.csv", MAL / "2017" / "rating.csv", tmp_path)
    catalog, ratings = _load(tmp_path)
    assert catalog[101]["title"] == {"romaji": "Neko & Inu", "english": None, "native": None}
    assert catalog[101]["genres"] == ["Comedy", "Boys Love"]
    assert catalog[101]["tags"] == [{"name": "Mythology", "rank": None, "category": "Theme"},
                                    {"name": "Seinen", "rank": None, "category": "Demographic"}]
    assert (catalog[101]["averageScore"], catalog[101]["popularity"]) == (72.5, 5000)
    assert catalog[102]["genres"] == ["Drama", "Romance", "Boys Love", "Girls Love"]
    assert catalog[103]["title"]["romaji"] == 'Tenkuu "Senki"'
    assert catalog[103]["genres"] == ["Action", "Suspense"] and catalog[103]["episodes"] is None
    assert [t["name"] for t in catalog[103]["tags"]] == ["Super Power", "Magic"]
    assert (catalog[104]["format"], catalog[104]["averageScore"], catalog[104]["popularity"]) == (
        None, None, None)
    assert ratings == [("u000001", 102, 8), ("u000002", 101, 10), ("u000003", 104, 5)]
    assert counts["ratings_dropped_unrated"] == 3
    assert counts["ratings_dropped_anime_not_in_catalog"] == 1
    assert counts["ratings_dropped_out_of_range"] == 1
    assert counts["ratings_dropped_malformed"] == 1


def test_user_ids_are_stable_across_chunks(tmp_path: Path) -> None:
    whole, chunked = tmp_path / "a.csv", tmp_path / "b.csv"
    ids = {1, 2, 3, 4}
    convert_ratings(MAL / "2020" / "rating_complete.csv", whole, ids, Counter())
    convert_ratings(MAL / "2020" / "rating_complete.csv", chunked, ids, Counter(), chunksize=2)
    assert whole.read_text() == chunked.read_text()


def _invoke(*args: str):
    return CliRunner().invoke(import_group, ["mal", *args])


def test_cli_import_mal_prints_counts(tmp_path: Path) -> None:
    result = _invoke("--anime", str(MAL / "2020" / "anime.csv"), "--animelist",
                     str(MAL / "2020" / "animelist.csv"), "--out-dir", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "wrote 4 anime and 3 ratings of 3 users" in result.output
    assert "ratings_dropped_unrated: 4" in result.output
    assert (tmp_path / "out" / "anime_catalog.json").exists()


@pytest.mark.parametrize("args, message", [
    (["--anime", "bad/anime.csv", "--ratings", "2017/rating.csv"], "not a Kaggle MyAnimeList anime.csv"),
    (["--anime", "2017/anime.csv", "--ratings", "bad/ratings.csv"], "missing column(s) user_id"),
    (["--anime", "2017/anime.csv"], "give exactly one of --ratings and --animelist"),
    (["--anime", "2020/anime.csv", "--animelist", "2020/rating_complete.csv"],
     "has no watching_status column"),
])
def test_cli_user_mistakes_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    args = [str(MAL / a) if a.endswith(".csv") else a for a in args]
    result = _invoke(*args, "--out-dir", str(tmp_path))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert not (tmp_path / "anime_catalog.json").exists()


# ------------------------------------------------------------------ issue 17, defects 4, 5 and 9

HEADER_2017 = "anime_id,name,genre,type,episodes,rating,members\n"
RATINGS_OK = "user_id,anime_id,rating\n1,1,8\n2,1,7\n"


def _files(tmp_path: Path, anime: str | bytes, ratings: str | bytes = RATINGS_OK) -> list[str]:
    a, r = tmp_path / "anime.csv", tmp_path / "rating.csv"
    for path, content in ((a, anime), (r, ratings)):
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return ["--anime", str(a), "--ratings", str(r), "--out-dir", str(tmp_path / "out")]


def test_inf_and_out_of_range_numbers_become_null_and_are_counted(tmp_path: Path) -> None:
    args = _files(tmp_path, HEADER_2017 + "1,A,Action,TV,inf,inf,inf\n2,B,Drama,TV,-3,11,-7\n3,C,Drama,TV,12,8.5,900\n")
    result = _invoke(*args)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "out" / "anime_catalog.json").read_text(encoding="utf-8")
    assert "Infinity" not in text and "NaN" not in text
    catalog = {a["id"]: a for a in json.loads(text)}
    assert [(catalog[i]["episodes"], catalog[i]["averageScore"], catalog[i]["popularity"]) for i in (1, 2, 3)] == [
        (None, None, None), (None, None, None), (12, 85.0, 900)]
    for field in ("episodes", "score", "members"):
        assert f"anime_{field}_invalid_as_null: 2" in result.output
    # ... and preprocess takes the file (strict JSON) as it is.
    from gnn.data.catalog import read_catalog
    assert len(read_catalog(tmp_path / "out" / "anime_catalog.json").anime) == 3


@pytest.mark.parametrize("anime, ratings, message", [
    (HEADER_2017 + "inf,A,Action,TV,12,8.0,100\n", RATINGS_OK,
     "anime.csv, record 2, field 'anime_id': MAL id is not a whole number: 'inf'"),
    (HEADER_2017 + "1,A,Action,TV,12,8.0,100,extra,more\n", RATINGS_OK,
     "anime.csv, record 2: 9 fields where the header has 7 (a ragged row)"),
    (HEADER_2017 + "1,A,Action,TV,12\n", RATINGS_OK, "anime.csv, record 2: 5 fields where the header has 7"),
    (HEADER_2017.encode() + b"1,\xff,Action,TV,12,8.0,100\n", RATINGS_OK, "anime.csv: not UTF-8 text"),
    (HEADER_2017 + "1,A,Action,TV,12,8.0,100\n",
     ("user_id,anime_id,rating\n" + "".join(f"{u},1,8\n" for u in range(3000))).encode() + b"\xff\xfe,1,8\n",
     "rating.csv: not UTF-8 text (invalid start byte at byte"),
    (HEADER_2017 + "1,A,Action,TV,12,8.0,100\n", 'user_id,anime_id,rating\n1,1,8\n"2,1,7\n',
     "rating.csv: not a readable CSV"),
])
def test_hostile_mal_files_are_one_line(tmp_path: Path, anime, ratings, message) -> None:
    result = _invoke(*_files(tmp_path, anime, ratings))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
    assert not (tmp_path / "out" / "anime_catalog.json").exists()


def test_big_ids_are_exact(tmp_path: Path) -> None:
    big = 2**53 + 1
    args = _files(tmp_path, HEADER_2017 + f"{big},A,Action,TV,12,8.0,100\n4.0,B,Drama,TV,1,7,50\n",
                  f"user_id,anime_id,rating\n1,{big},8\n1,4.0,7\n")
    assert _invoke(*args).exit_code == 0
    catalog, ratings = _load(tmp_path / "out")
    assert sorted(catalog) == [4, big]
    assert sorted(r[1] for r in ratings) == [4, big]
