"""gnn.title_search: the folding of titles and queries, and the order of matches."""

from __future__ import annotations

import pytest

from gnn.title_search import TitleIndex, fold


@pytest.mark.parametrize("text, folded", [
    ("Re:Zero", "re zero"),                                   # punctuation -> one space
    ("  Steins;Gate 0 !! ", "steins gate 0"),                 # runs of it, and the ends
    ("Pokémon", "pokemon"),                                   # accents removed
    ("ＦＵＬＬ　ＭＥＴＡＬ", "full metal"),                      # full-width letters and space
    ("ｶｳﾎﾞｰｲ", "カウホーイ"),                                  # half-width kana -> full width, the voicing mark dropped
    ("進撃の巨人", "進撃の巨人"),                              # letters of any script kept
    (None, ""),
    (2013, "2013"),
])
def test_fold(text, folded):
    assert fold(text) == folded


def _display(*entries: dict) -> list:
    return [None, *entries]


def test_matches_are_ordered_by_kind_then_popularity_then_index():
    index = TitleIndex(_display(
        {"title": "Attack on Titan Season 2", "popularity": 5.0},   # 1: title prefix
        {"title": "Attack on Titan", "popularity": 1.0},            # 2: the whole title
        {"title": "Shingeki", "title_english": "The Attack on Titan Movie", "popularity": 9.0},  # 3: word prefix
        {"title": "Counterattack on Titans", "popularity": 9.0},    # 4: substring
        {"title": "Attackon Titan", "popularity": 9.0},             # 5: substring without spaces
        {"title": "Titan on the Attack", "popularity": 9.0},        # 6: every word somewhere
        {"title": "Attack on Titan Season 3", "popularity": 5.0},   # 7: title prefix, tie on popularity
        None,                                                       # 8: no entry
        {"title": "Titan", "popularity": 99.0},                     # 9: no match
    ))
    assert index.search("attack on titan") == [2, 1, 7, 3, 4, 5, 6]
    assert index.search("attack on titan", limit=2) == [2, 1]
    assert index.search("ATTACK-ON  titan!") == index.search("attack on titan")


def test_any_title_matches_and_the_best_one_counts():
    index = TitleIndex(_display(
        {"title": "Shingeki no Kyojin", "title_english": "Attack on Titan", "title_native": "進撃の巨人"},
        {"title": "Attack on Titan Junior High", "popularity": 50.0},
    ))
    assert index.search("attack on titan") == [1, 2]      # whole (English) title before a more popular prefix
    assert index.search("進撃") == [1]
    assert index.search("kyojin") == [1]


def test_an_empty_query_finds_nothing():
    index = TitleIndex(_display({"title": "Anything"}))
    assert index.search("") == [] and index.search(" :;! ") == [] and index.search("x", limit=0) == []
