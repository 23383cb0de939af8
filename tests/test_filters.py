"""gnn.filters: which anime a list may show (format, status, years, adult titles)."""

from __future__ import annotations

from gnn.filters import CatalogColumns, Filters


def test_filters_by_field_with_unknown_values_failing_and_adult_titles_out_by_default():
    display = [None,
               {"format": "TV", "status": "FINISHED", "year": 2010, "genres": ["Action"]},
               {"format": "ova", "status": "FINISHED", "year": 2012, "genres": ["Romance", "Hentai"]},
               {"format": "TV", "status": "RELEASING", "year": None, "genres": ["Erotica"]},
               {"format": None, "status": None, "year": 2020}]                   # no genres at all
    cols = CatalogColumns(display)
    assert cols.adult.tolist() == [False, False, True, True, False]
    assert cols.allowed().tolist() == [False, True, False, False, True]           # padding and adult titles out
    assert cols.allowed(Filters(adult=True)).tolist() == [False, True, True, True, True]
    assert cols.allowed(Filters(formats=frozenset({"OVA"}), adult=True)).tolist() == [False, False, True, False, False]
    assert cols.allowed(Filters(statuses=frozenset({"finished"}))).tolist() == [False, True, False, False, False]
    assert cols.allowed(Filters(year_min=2011, adult=True)).tolist() == [False, False, True, False, True]
    assert cols.allowed(Filters(year_max=2011)).tolist() == [False, True, False, False, False]
