"""gnn.listimport + gnn.mylist: MyAnimeList XML, AniList JSON and page exports, mapped onto a catalog.

Fixtures: tests/fixtures/lists (hand-written, synthetic); the catalog is the tiny test catalog's
ids (anime i: MAL id 100 + i, AniList id 200 + i, none for anime 28-31).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from gnn.listimport import ListFormatError, parse_list
from gnn.mylist import report_lines, resolve_list

LISTS = Path(__file__).resolve().parent / "fixtures" / "lists"


def tiny_display() -> list:
    return [None] + [{"id": i, "idMal": 100 + i if i < 31 else None, "idAnilist": 200 + i if i < 28 else None,
                      "title": f"anime {i}"} for i in range(1, 32)]


def read(name: str) -> bytes:
    return (LISTS / name).read_bytes()


def summary(name: str, data: bytes | None = None, low: float = 1, high: float = 10) -> dict:
    imported = resolve_list(parse_list(read(name) if data is None else data), tiny_display(), low, high)
    return {"format": imported.format, "ratings": list(imported.ratings), "seen": list(imported.seen),
            "planned": list(imported.planned), "counts": imported.counts, "missing": list(imported.missing_titles)}


def test_mal_export():
    parsed = parse_list(read("mal_export.xml"))
    # Undated first in file order, then by finish (else start) date.
    assert [e.id for e in parsed.entries] == [104, 110, 113, 88888, 99999, 107, 101, 116, 105]
    assert (parsed.invalid, parsed.repeated) == (2, 0)  # score 11, status "Reading"
    e107 = next(e for e in parsed.entries if e.id == 107)
    assert (e107.title, e107.status, e107.rating, e107.when) == ("Show 2 S1 & <friends>", "dropped", 3.0, "2019-06-01")
    assert summary("mal_export.xml") == {
        "format": "mal-xml", "ratings": [(13, 7.0), (7, 3.0), (1, 9.0), (16, 10.0)], "seen": [4, 5], "planned": [10],
        "counts": {"entries": 11, "rated": 4, "unscored": 2, "planned": 1, "not_in_catalog": 2, "repeated": 0,
                   "invalid": 2},
        "missing": ["Paper Comet & Friends", "Moonlit Harbor"]}


def test_gzipped_mal_export_reads_the_same():
    assert summary("mal_export.xml", gzip.compress(read("mal_export.xml"))) == summary("mal_export.xml")


def test_anilist_list():
    got = summary("anilist_list.json")
    # 85/100 -> 9 (half up), REPEATING 100 -> 10, AniList id 228 unknown but its idMal 128 is anime 28.
    assert got == {
        "format": "anilist-json", "ratings": [(1, 9.0), (10, 10.0), (28, 4.0)], "seen": [2], "planned": [7],
        "counts": {"entries": 9, "rated": 3, "unscored": 1, "planned": 1, "not_in_catalog": 1, "repeated": 1,
                   "invalid": 2},
        "missing": ["Glass Orchard"]}
    c = got["counts"]
    assert c["entries"] == sum(c[k] for k in ("rated", "unscored", "planned", "not_in_catalog", "repeated", "invalid"))
    assert [e.when for e in parse_list(read("anilist_list.json")).entries] == [
        "", "2017-07-14", "2020-09-13", "2021-04-00", "2022-04-15", "2023-11-14"]


def test_anilist_smileys_and_scale():
    assert summary("anilist_smileys.json")["ratings"] == [(4, 4.0), (13, 6.0), (16, 9.0)]  # 2.5 smileys: invalid
    # A model on 1-5: 1-10 ratings are mapped linearly; a page export's are taken as they are.
    assert summary("anilist_smileys.json", low=1, high=5)["ratings"] == [(4, 1 + 3 * 4 / 9), (13, 1 + 5 * 4 / 9),
                                                                         (16, 1 + 8 * 4 / 9)]


def test_page_export_uses_catalog_ids_and_the_model_scale():
    doc = {"format": "anime-gnn-ratings", "ratings": [{"anime_id": "3", "rating": 8}, {"anime_id": 5, "rating": 4.5},
                                                      {"anime_id": "constructor", "rating": 8}, {"anime_id": 6, "rating": 11},
                                                      {"anime_id": 77, "rating": 5}, [9, 2], {"anime_id": 3, "rating": 1}]}
    got = summary("", json.dumps(doc).encode())
    assert got["ratings"] == [(3, 8), (5, 4.5), (9, 2)] and got["format"] == "anime-gnn-json"
    assert got["counts"] == {"entries": 7, "rated": 3, "unscored": 0, "planned": 0, "not_in_catalog": 1,
                             "repeated": 1, "invalid": 2}
    assert summary("", b"\xef\xbb\xbf[[1, 9]]")["ratings"] == [(1, 9)]  # a BOM is fine


def test_report_lines():
    imported = resolve_list(parse_list(read("mal_export.xml")), tiny_display(), 1, 10)
    assert report_lines(imported) == [
        "read 11 entries (mal-xml): 4 rated, 2 without a score (left out of "
        "recommendations), 1 plan-to-watch (marked, not ratings)",
        "skipped: 2 not in this model's catalog, 2 invalid",
        "not in the catalog: Paper Comet & Friends; Moonlit Harbor"]


@pytest.mark.parametrize("data, message", [
    (b"", "not a MyAnimeList XML export, an AniList list JSON or an anime-gnn ratings file"),
    (b"hello", "not a MyAnimeList XML export"),
    (b"<myanimelist><anime>", "not well-formed XML"),
    (b"<html><body/></html>", "not a MyAnimeList export (root <html>, not <myanimelist>)"),
    (b"<myanimelist><myinfo><user_export_type>2</user_export_type></myinfo></myanimelist>", "type 2 (a manga list?)"),
    (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><myanimelist/>', "XML with a DOCTYPE or entities is not read"),
    (b'{"ratings": [', "not valid JSON"),
    (b'{"ratings": [NaN]}', "not valid JSON"),
    (b'{"items": []}', "neither an AniList MediaListCollection"),
    (b'{"lists": [{"entries": [{"mediaId": 1, "score": 8, "status": "COMPLETED"}]}]}', "does not say its score format"),
    (b"\x1f\x8b\x08\x00broken", "not a readable gzip file"),
    (b"\xff\xfe<\x00", "not UTF-8 text"),
])
def test_bad_files_are_one_error(data, message):
    with pytest.raises(ListFormatError, match=None) as err:
        parse_list(data)
    assert message in str(err.value)


def test_a_truncated_mal_export_is_refused_whole():
    text = read("mal_export.xml")
    with pytest.raises(ListFormatError, match="not well-formed XML"):
        parse_list(text[: len(text) // 2])


def test_a_catalog_without_list_ids_says_so():
    display = [None] + [{"id": i, "title": f"anime {i}"} for i in range(1, 32)]
    imported = resolve_list(parse_list(read("anilist_list.json")), display, 1, 10)
    assert imported.counts["not_in_catalog"] == 6 and imported.no_ids == ("anilist",)
    assert report_lines(imported)[2] == ("this model's catalog has no AniList ids (exported before they were kept?): "
                                         "re-export the model to read this list")
