"""gnn.data.catalog: both catalog shapes, fatal errors that name file/record/field."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from gnn.data.catalog import read_catalog
from gnn.data.schema import RELATION_TYPES, Anime, Relation, Studio, Tag
from gnn.errors import InputError
from tests.builders import FIXTURES, raw_catalogs, record, rel, studio, tag, write_json


def test_reads_fixture_in_file_order(fixture_catalog):
    assert [a.id for a in fixture_catalog.anime] == [101, 102, 103, 104, 105, 106, 107]
    assert fixture_catalog.source.endswith("anime_catalog.json")
    a = fixture_catalog.by_id()[101]
    assert (a.title_romaji, a.title_english, a.title_native) == ("Hoshi no Haitatsunin", "Star Courier", None)
    assert a.title == "Star Courier"
    assert (a.format, a.episodes, a.duration, a.status, a.year) == ("TV", 12, 24, "FINISHED", 2015)
    assert a.genres == ("Action", "Sci-Fi")
    assert a.tags == (Tag("Space", 90, "Setting-Universe"), Tag("Robots", 40, "Theme-Sci-Fi"),
                      Tag("Shounen", None, "Demographic"))
    assert a.studios == (Studio("Studio Kestrel", True, 11), Studio("Orbit Pictures", False, 21))
    assert a.relations == (Relation(102, "SEQUEL"), Relation(103, "SIDE_STORY"), Relation(999, "OTHER"))
    assert (a.popularity, a.average_score) == (52000.0, 78.5)
    assert a.cover_image == "https://example.invalid/101.jpg"
    assert (a.id_mal, a.id_anilist) == (101, 9101)


def test_unknown_relation_type_kept_as_other_and_counted(fixture_catalog):
    iron_garden = fixture_catalog.by_id()[106]
    assert iron_garden.relations == (Relation(101, "OTHER"), Relation(103, "OTHER"))  # ADAPTATION -> OTHER
    assert fixture_catalog.counts == {"relations_unknown_type_as_other": 1}


def test_missing_values_stay_none(fixture_catalog):
    harbor = fixture_catalog.by_id()[107]
    assert (harbor.format, harbor.episodes, harbor.year, harbor.popularity, harbor.average_score) == (
        None, None, None, None, None)
    assert harbor.genres == harbor.tags == harbor.studios == ()


def test_anilist_shape_reads_to_the_same_anime(fixture_catalog):
    old = read_catalog(FIXTURES / "anime_catalog_anilist.json")
    assert len(old.anime) == len(fixture_catalog.anime)
    assert old.counts == fixture_catalog.counts
    for a_old, a_new in zip(old.anime, fixture_catalog.anime):
        # The older shape has no separate AniList id: its id is the AniList id.
        assert a_old.id_anilist == a_old.id
        assert dataclasses.replace(a_old, id_anilist=None) == dataclasses.replace(a_new, id_anilist=None)


def test_studio_role_from_is_main_and_anilist_is_animation_studio(tmp_path):
    path = write_json(tmp_path / "c.json", [
        record(1, studios=[studio("Bones", True, 4, animation=True), studio("Aniplex", True, 17, animation=False),
                           studio("Sunrise", False, 14, animation=True), studio("MAL Studio", True),
                           studio("MAL Producer", False)]),
        {"anilist_id": 2, "studios": [{"isMain": True, "node": {"id": 17, "name": "Aniplex",
                                                                "isAnimationStudio": False}},
                                      {"isMain": True, "node": {"id": 4, "name": "Bones"}}]}])
    first, second = read_catalog(path).anime
    assert first.studios[1] == Studio("Aniplex", True, 17, is_animation_studio=False)
    assert [s.animates for s in first.studios] == [True, False, False, True, False]
    assert [(s.is_animation_studio, s.animates) for s in second.studios] == [(False, False), (None, True)]


def test_anilist_cover_image_object_and_season_year(tmp_path):
    path = write_json(tmp_path / "c.json", [{"anilist_id": 5, "seasonYear": 2001, "rating": 6.5,
                                              "coverImage": {"large": "L", "medium": "M"}}])
    a = read_catalog(path).anime[0]
    assert (a.id, a.year, a.average_score, a.cover_image, a.id_anilist) == (5, 2001, 65.0, "L", 5)


def test_title_fallbacks(tmp_path):
    path = write_json(tmp_path / "c.json", [
        record(1, title={"romaji": "R", "english": None, "native": "N"}),
        record(2, title={"romaji": None, "english": None, "native": "N"}),
        record(3, title=None),
        record(4, title="Plain String Title"),
    ])
    titles = [a.title for a in read_catalog(path).anime]
    assert titles == ["R", "N", "anime 3", "Plain String Title"]


def test_genres_deduplicated_in_order_and_relation_type_case_insensitive(tmp_path):
    path = write_json(tmp_path / "c.json", [record(1, genres=["Drama", "Action", "Drama"],
                                                   relations=[rel(2, "sequel")]), record(2)])
    a = read_catalog(path).anime[0]
    assert a.genres == ("Drama", "Action")
    assert a.relations == (Relation(2, "SEQUEL"),)


def test_integral_floats_accepted_and_tag_rank_rounded(tmp_path):
    path = write_json(tmp_path / "c.json", [record(1.0, episodes=12.0, tags=[tag("Space", 79.6)])])
    a = read_catalog(path).anime[0]
    assert (a.id, a.episodes, a.tags[0].rank) == (1, 12, 80)
    assert isinstance(a.id, int) and isinstance(a.episodes, int)


# ------------------------------------------------------------------ fatal errors

@pytest.mark.parametrize("records, record_label, field, message", [
    ([{"title": {"romaji": "No Id"}}], "record 0", "field 'id'", "has no id"),
    ([record(1), record(2), record(1)], "record 2", "field 'id'", "duplicate id 1 (first at record 0)"),
    ([record(1), record(2, episodes="twelve")], "record 1 (id 2)", "field 'episodes'", "expected an integer"),
    ([record(3, episodes=12.5)], "record 0 (id 3)", "field 'episodes'", "expected an integer, got 12.5"),
    ([record(True)], "record 0", "field 'id'", "expected an integer, got True"),
    ([record("7")], "record 0", "field 'id'", "expected an integer, got '7'"),
    ([record(4, averageScore="high")], "record 0 (id 4)", "field 'averageScore'", "expected a number"),
    ([record(4, popularity=float("inf"))], "record 0 (id 4)", "field 'popularity'", "expected a number"),
    ([record(5, studios="Sunrise")], "record 0 (id 5)", "field 'studios'", "expected a list of objects"),
    ([record(5, studios=[{"id": 1, "isMain": True}])], "record 0 (id 5)", "field 'studios[].name'",
     "studio without a name"),
    ([record(5, studios=[studio("S", is_main="yes")])], "record 0 (id 5)", "field 'studios[].isMain'",
     "expected true/false"),
    ([record(5, studios=[{"isMain": True, "node": "S"}])], "record 0 (id 5)", "field 'studios[].node'",
     "expected an object"),
    ([record(5, studios=[studio("S", animation="no")])], "record 0 (id 5)", "field 'studios[].isAnimationStudio'",
     "expected true/false/null, got 'no'"),
    ([record(6, tags=[tag("Space", 150)])], "record 0 (id 6)", "field 'tags[].rank'", "within 0..100"),
    ([record(6, tags=[{"rank": 10}])], "record 0 (id 6)", "field 'tags[].name'", "tag without a name"),
    ([record(7, relations=[{"relationType": "SEQUEL"}])], "record 0 (id 7)", "field 'relations[].id'",
     "relation without a target id"),
    ([record(7, relations=[{"relationType": "SEQUEL", "node": {"id": "x"}}])], "record 0 (id 7)",
     "field 'relations[].id'", "expected an integer"),
    ([record(8, genres=["Drama", 3])], "record 0 (id 8)", "field 'genres'", "expected a list of strings"),
    ([record(9, title=42)], "record 0 (id 9)", "field 'title'", "expected an object or a string"),
    ([record(9, title={"romaji": 42})], "record 0 (id 9)", "field 'title.romaji'", "expected a string"),
    ([record(1), "not a record"], "record 1", None, "expected an object"),
])
def test_fatal_record_errors_name_file_record_and_field(tmp_path, records, record_label, field, message):
    path = write_json(tmp_path / "anime_catalog.json", records)
    with pytest.raises(InputError) as info:
        read_catalog(path)
    text = str(info.value)
    assert text.startswith(f"{path}, {record_label}")
    if field is not None:
        assert field in text
    assert message in text
    assert "\n" not in text
    assert info.value.file == str(path)


def test_bad_json_names_the_file(tmp_path):
    path = tmp_path / "anime_catalog.json"
    path.write_text('[{"id": 1,}]', encoding="utf-8")
    with pytest.raises(InputError, match=r"anime_catalog\.json: not valid JSON \(.*line 1 column 11"):
        read_catalog(path)


def test_not_an_array_and_missing_file(tmp_path):
    path = write_json(tmp_path / "anime_catalog.json", {"id": 1})
    with pytest.raises(InputError, match="expected a JSON array of anime records"):
        read_catalog(path)
    with pytest.raises(InputError, match=r"nope\.json: file not found"):
        read_catalog(tmp_path / "nope.json")


def test_non_utf8_is_an_input_error(tmp_path):
    path = tmp_path / "anime_catalog.json"
    path.write_bytes(b'[{"id": 1, "title": "\xff"}]')
    with pytest.raises(InputError, match=r"not UTF-8 text \(invalid start byte at byte 21\)"):
        read_catalog(path)


# ------------------------------------------------------------------ property-based

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=raw_catalogs())
def test_random_valid_catalogs_read_without_error(records):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "anime_catalog.json"
        path.write_text(json.dumps(records), encoding="utf-8")
        catalog = read_catalog(path)
    assert [a.id for a in catalog.anime] == [r.get("id", r.get("anilist_id")) for r in records]
    unknown = 0
    for a, r in zip(catalog.anime, records):
        assert isinstance(a, Anime)
        assert len(a.relations) == len(r["relations"])
        assert all(x.type in RELATION_TYPES for x in a.relations)
        unknown += sum(x["relationType"].upper() not in RELATION_TYPES for x in r["relations"])
        assert [s.name for s in a.studios] == [s.get("node", s)["name"] for s in r["studios"]]
        assert [s.is_animation_studio for s in a.studios] == [
            s.get("node", s).get("isAnimationStudio") for s in r["studios"]]
        assert len(a.tags) == len(r["tags"])
        assert all(t.rank is None or 0 <= t.rank <= 100 for t in a.tags)
        assert list(a.genres) == list(dict.fromkeys(r["genres"]))
        assert a.average_score is None or 0 <= a.average_score <= 100 + 1e-9
    assert catalog.counts.get("relations_unknown_type_as_other", 0) == unknown


# ------------------------------------------------------------------ number ranges (issue 17, defect 7)

def test_numbers_outside_their_range_become_missing_and_are_counted(tmp_path):
    path = write_json(tmp_path / "anime_catalog.json", [
        record(1, averageScore=1e308), record(2, averageScore=-1e308), record(3, averageScore=100.0),
        record(4, popularity=-5), record(5, episodes=-1, duration=-24, year=99999),
        record(6, format="MOTION_COMIC"), record(7, format="TV", popularity=0, averageScore=0.0)])
    catalog = read_catalog(path)
    by_id = catalog.by_id()
    assert [by_id[i].average_score for i in (1, 2, 3, 7)] == [None, None, 100.0, 0.0]
    assert by_id[4].popularity is None and by_id[7].popularity == 0
    assert (by_id[5].episodes, by_id[5].duration, by_id[5].year) == (None, None, None)
    assert by_id[6].format == "MOTION_COMIC"  # kept: its one-hot is "unknown"
    assert catalog.counts == {"average_score_out_of_range_as_missing": 2, "popularity_negative_as_missing": 1,
                              "episodes_negative_as_missing": 1, "duration_negative_as_missing": 1,
                              "year_out_of_range_as_missing": 1, "format_unknown": 1}


def test_a_huge_score_no_longer_flattens_the_feature_for_everyone(tmp_path):
    """Before: averageScore 1e308 made the z-score's std overflow, zeroing every anime's score feature."""
    from gnn.graph.features import anime_features

    path = write_json(tmp_path / "anime_catalog.json",
                      [record(1, averageScore=1e308), record(2, averageScore=40.0), record(3, averageScore=80.0)])
    x = anime_features(read_catalog(path).anime)
    assert x[2:, 1].tolist() == pytest.approx([-1.0, 1.0]) and x[1, 1] == 0 and x[1, 5] == 1  # missing flag


@pytest.mark.parametrize("value", ["1e400", "-1e400", "NaN", "Infinity"])
def test_non_finite_json_numbers_name_the_record(tmp_path, value):
    path = tmp_path / "anime_catalog.json"
    path.write_text(f'[{{"id": 1, "averageScore": {value}}}]')
    with pytest.raises(InputError, match=r"record 0 \(id 1\), field 'averageScore': expected a number"):
        read_catalog(path)


def test_ids_beyond_64_bits_are_refused(tmp_path):
    path = write_json(tmp_path / "anime_catalog.json", [record(2**63)])
    with pytest.raises(InputError, match=r"field 'id': integer out of range \(64-bit\)"):
        read_catalog(path)
