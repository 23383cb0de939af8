"""gnn.franchise_order: the release-order helpers (their effect on whole franchises: tests/test_franchise.py)."""

from __future__ import annotations

from gnn.franchise_order import made_after, reaches


def test_made_after_tells_a_prequel_made_in_a_later_year_from_a_same_year_one():
    tv, ova = "TV", "OVA"
    assert made_after({"year": 2014, "format": ova}, {"year": 2013, "format": tv}) == "later year"
    assert made_after({"year": 2014, "format": tv}, {"year": 2013, "format": ova}) == "later year"
    assert made_after({"year": 2015, "format": ova}, {"year": 2015, "format": tv}) == "same year"
    assert made_after({"year": 2015, "format": tv}, {"year": 2015, "format": "tv"}) == ""     # both TV
    assert made_after({"year": 2015, "format": ova}, {"year": 2015, "format": "MOVIE"}) == ""  # sequel not TV
    assert made_after({"year": 2012, "format": ova}, {"year": 2013, "format": tv}) == ""
    assert made_after({"year": None, "format": ova}, {"year": 2013, "format": tv}) == ""     # needs both years
    assert made_after(None, {"year": 2013}) == ""


def test_reaches_follows_earlier_entries_up_and_ends_on_a_cycle():
    direct = [set(), set(), {1}, {2}, {5}, {4}]     # 1 <- 2 <- 3; 4 and 5 before each other
    assert reaches(direct, 3, 1) and reaches(direct, 2, 1)
    assert not reaches(direct, 1, 3)                # earlier entries only, not later ones
    assert not reaches(direct, 4, 1) and reaches(direct, 4, 5)
