"""benchmarks/continue_row.py: the shares of list slots that users went on to rate, and to like."""

from __future__ import annotations

import pytest

from benchmarks.continue_row import list_hits


def test_list_hits_counts_watched_and_liked_slots_and_the_error_on_watched_ones():
    rows = [[("a", 9.0), ("b", 7.0), ("c", 8.0)],   # a rated 10 (liked), b rated 6 (watched), c never rated
            [],                                   # an empty list: no slots, not a user with a list
            [("a", 5.0)]]                         # rated 8: liked (>= 8 counts)
    others = [{"a": 10.0, "b": 6.0}, {"a": 9.0}, {"a": 8.0}]
    got = list_hits(rows, others)
    assert got["slots"] == 4 and got["users"] == 2
    assert got["watched"] == pytest.approx(3 / 4) and got["liked"] == pytest.approx(2 / 4)
    assert got["mae"] == pytest.approx((1.0 + 1.0 + 3.0) / 3)
    assert list_hits([[]], [{}]) == {"watched": None, "liked": None, "mae": None, "slots": 0, "users": 0}
