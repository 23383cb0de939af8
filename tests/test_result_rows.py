"""gnn/result_rows.py: the rows a recommendation returns, from a hand-made display table."""

from __future__ import annotations

import math

import numpy as np

from gnn.result_rows import anime_rows, mark_planned, number

DISPLAY = [None, {"title": "A", "format": "TV", "year": 2001}, None, {"title": "C", "format": "MOVIE", "year": 2003}]
IDS = [None, 101, 102, 103]


def test_number_rounds_and_turns_non_finite_into_null():
    assert number(8.123456) == 8.1235 and number(np.float32(7.5)) == 7.5
    assert number(float("nan")) is None and number(-math.inf) is None


def test_rows_in_the_given_order_with_ranks_values_scores_and_reasons():
    values = np.array([0.0, 8.0, 7.0, float("nan")])
    rows = anime_rows([3, 1], values, "predicted_rating", DISPLAY, IDS, iter(["why C", "why A"]),
                      ranking=np.array([0.0, -1.5, 0.0, -0.25]))
    assert rows == [
        {"rank": 1, "anime_id": 103, "anime_index": 3, "title": "C", "predicted_rating": None,
         "ranking_score": -0.25, "format": "MOVIE", "year": 2003, "reason": "why C"},
        {"rank": 2, "anime_id": 101, "anime_index": 1, "title": "A", "predicted_rating": 8.0,
         "ranking_score": -1.5, "format": "TV", "year": 2001, "reason": "why A"}]
    bare = anime_rows([2], values, "similarity", DISPLAY, IDS)          # no display entry, score or reason
    assert bare == [{"rank": 1, "anime_id": 102, "anime_index": 2, "title": None, "similarity": 7.0,
                     "format": None, "year": None}]


def test_mark_planned_marks_rows_and_other_entries_only_when_a_list_is_given():
    rows = [{"anime_index": 1, "other_entries": [{"anime_index": 2}, {"anime_index": 3}]}, {"anime_index": 4}]
    assert mark_planned([dict(r) for r in rows], set()) == rows                     # no list: no key added
    marked = mark_planned(rows, {3, 4})
    assert [marked[0]["planned"], marked[1]["planned"]] == [False, True]
    assert [o["planned"] for o in marked[0]["other_entries"]] == [False, True]
