"""gnn.franchise: franchises, entry points, next entries, one card per franchise.

Every catalog here is hand-written and invented: ``show(...)`` builds an anime_display.json entry.
"""

from __future__ import annotations

import numpy as np

from gnn.franchise import Card, Franchises, continue_list, franchise_list, next_candidates, next_entry
from gnn.reasons import card_reason


def show(title: str, relations=(), year=2000, fmt="TV") -> dict:
    return {"id": title, "title": title, "year": year, "format": fmt, "relations": [list(r) for r in relations]}


def three_seasons() -> list:
    """1 -> 2 -> 3 (SEQUEL/PREQUEL both ways), 4 a side story of 1 (one end only), 5 standalone."""
    return [None,
            show("S1", [(2, "SEQUEL"), (4, "SIDE_STORY")], 2001),
            show("S2", [(1, "PREQUEL"), (3, "SEQUEL")], 2003),
            show("S3", [(2, "PREQUEL")], 2005),
            show("S1 OVA", [], 2002, "OVA"),
            show("Lone", [], 1999)]


def cards_of(display, scores, rated=None, allowed=None, k=10) -> list[Card]:
    fr = Franchises.from_display(display)
    allowed = np.ones(len(display), dtype=bool) if allowed is None else np.asarray(allowed)
    allowed[0] = False
    rated = rated or {}
    for a in rated:
        allowed[a] = False
    return franchise_list(np.asarray(scores, dtype=np.float32), rated, fr, allowed, k)


def test_structure_of_a_three_season_franchise():
    fr = Franchises.from_display(three_seasons())
    assert fr.franchise.tolist() == [0, 1, 1, 1, 1, 5]
    assert fr.depth.tolist() == [0, 0, 1, 2, 1, 0]
    assert fr.later.tolist() == [False, False, True, True, True, False]
    assert fr.preds == ((), (), (1,), (2,), (1,), ())
    assert fr.entry == {1: 1, 5: 5} and fr.members[1] == (1, 2, 3, 4)
    assert fr.via_type[(2, 1)] == "SEQUEL" and fr.via_type[(4, 1)] == "SIDE_STORY"


def test_rated_season_one_only_is_offered_season_two_not_three():
    # The model likes S3 best; the user rated S1 only: the card shows S2, S3 is reachable from it.
    scores = [0, 0, 5.0, 9.0, 1.0, 2.0]
    cards = cards_of(three_seasons(), scores, rated={1: 9.0})
    assert [(c.anime, c.kind, c.via, c.others) for c in cards] == [(2, "next", 1, (3, 4)), (5, "standalone", None, ())]
    assert cards[0].candidate == 3 and cards[0].size == 4
    fr = Franchises.from_display(three_seasons())
    title = lambda i: three_seasons()[i]["title"]  # noqa: E731
    assert card_reason(cards[0], fr, title, {1: 9.0}, "base") == "sequel of S1, which you rated 9"
    assert card_reason(cards[1], fr, title, {1: 9.0}, "base") == "base"
    # Seen without a score (an imported "completed" entry): still started, said so.
    cards = cards_of(three_seasons(), scores, rated={1: None})
    assert cards[0].anime == 2 and card_reason(cards[0], fr, title, {1: None}, "b") == "sequel of S1, which is on your list"


def test_rated_nothing_is_offered_the_first_entry():
    scores = [0, 1.0, 5.0, 9.0, 7.0, 8.0]
    cards = cards_of(three_seasons(), scores)
    assert [(c.anime, c.kind, c.others) for c in cards] == [(1, "entry", (3, 4, 2)), (5, "standalone", ())]
    fr = Franchises.from_display(three_seasons())
    assert card_reason(cards[0], fr, lambda i: three_seasons()[i]["title"], {}, "b") == "start of the S1 series (4 entries)"
    # A title that starts with "The" is not given a second one.
    assert card_reason(cards[0], fr, lambda i: "The Hollow Blade", {}, "b") == "start of The Hollow Blade series (4 entries)"


def test_next_entry_follows_the_furthest_rated_entry_then_the_score():
    fr = Franchises.from_display(three_seasons())
    scores = np.array([0, 0, 0, 1.0, 9.0, 0], dtype=np.float32)
    # S1 and S2 rated: S3 follows S2 (depth 1) and beats the better-scored OVA after S1 (depth 0).
    assert next_entry(fr, 1, {1: 8, 2: 7}, scores) == (3, 2)
    # Only S1 rated: S2 (its sequel) and the OVA (its side story) follow it: the sequel first,
    # even with a lower order score.
    assert next_entry(fr, 1, {1: 8}, scores) == (2, 1)
    # S1 and S2 rated, S3 rated too: only the OVA is left.
    assert next_entry(fr, 1, {1: 8, 2: 7, 3: 9}, scores) == (4, 1)
    # Two sequels of one rated entry (a branching franchise): the order score, then the lower index.
    branching = [None, show("A", [(2, "SEQUEL"), (3, "SEQUEL")]), show("B", [(1, "PREQUEL")]),
                 show("C", [(1, "PREQUEL")])]
    fb = Franchises.from_display(branching)
    assert next_entry(fb, 1, {1: 9}, np.array([0, 0, 1.0, 2.0])) == (3, 1)
    assert next_entry(fb, 1, {1: 9}, np.zeros(4)) == (2, 1)
    # Everything after a rated entry is rated: no next entry.
    assert next_entry(fr, 1, {1: 8, 2: 8, 3: 8, 4: 8}, scores) is None


def test_continue_list_offers_each_started_franchise_its_next_entry_by_predicted_rating():
    """Two franchises started (S1 rated; B's A rated), one not (Lone): one "next" card each, the better
    predicted rating first, whatever the franchise or index order; nothing for an unstarted franchise."""
    display = three_seasons() + [show("A", [(7, "SEQUEL")]), show("B", [(6, "PREQUEL")])]   # 6 -> 7
    fr = Franchises.from_display(display)
    allowed = np.array([False, False, True, True, True, True, False, True])
    rated = {1: 9.0, 6: 7.0}
    assert next_candidates(rated, fr, allowed) == [2, 4, 7]        # S2 and the OVA follow S1; B follows A
    rating = np.array([np.nan, np.nan, 6.0, 9.9, 5.0, 9.9, np.nan, 8.0])
    cards = continue_list(rating, rated, fr, allowed, k=10)
    assert [(c.anime, c.kind, c.via, c.size) for c in cards] == [(7, "next", 6, 2), (2, "next", 1, 4)]
    assert card_reason(cards[1], fr, lambda i: display[i]["title"], rated, "") == "sequel of S1, which you rated 9"
    assert [c.anime for c in continue_list(rating, rated, fr, allowed, k=1)] == [7]
    # The sequel comes before the side story whatever their ratings; a filtered-out sequel gives way.
    assert [c.anime for c in continue_list(np.where(np.arange(8) == 4, 10.0, rating), rated, fr, allowed, 10)] == [7, 2]
    no_s2 = allowed.copy()
    no_s2[2] = False
    assert [c.anime for c in continue_list(rating, rated, fr, no_s2, 10)] == [7, 4]
    # A rating the model did not give (NaN) sorts last; S1 and S2 seen: S3 (after the furthest one) is next.
    assert [c.anime for c in continue_list(np.where(np.arange(8) == 7, np.nan, rating), rated, fr, allowed, 10)] == [2, 7]
    assert [c.anime for c in continue_list(rating, {1: None, 2: None}, fr, allowed, 10)] == [3]
    assert continue_list(rating, {5: 8.0}, fr, allowed, 10) == []             # a standalone work: nothing follows


def test_started_without_a_next_entry_shows_the_candidate():
    # S3 rated, S1/S2 not: nothing unrated follows a rated entry; the walked anime is shown.
    cards = cards_of(three_seasons(), [0, 1.0, 2.0, 0, 3.0, 0], rated={3: 8})
    assert (cards[0].anime, cards[0].kind, cards[0].others) == (4, "candidate", (2, 1))
    fr = Franchises.from_display(three_seasons())
    title = lambda i: three_seasons()[i]["title"]  # noqa: E731
    assert card_reason(cards[0], fr, title, {3: 8}, "base") == "in the series of S3, which you rated 8"
    # Two rated: the furthest along is named (S2 after S1); seen without a score, said so.
    s2 = Card(3, "candidate", 3, None, 4, ())
    assert card_reason(s2, fr, title, {1: 9, 2: None}, "base") == "in the series of S2, which is on your list"
    assert card_reason(Card(5, "candidate", 5, None, 1, ()), fr, title, {1: 9}, "base") == "base"   # not started


def test_entry_point_tie_breaks():
    display = [None,
               show("late TV", [(2, "SIDE_STORY")], 2004),     # root, 2004
               show("side", [(1, "PARENT")], 2001),
               show("movie", [(2, "OTHER"), (5, "SEQUEL")], 2003, "MOVIE"),  # root 2003, not TV
               show("tv", [(5, "SEQUEL")], 2003),               # root 2003, TV: the entry
               show("after both", [(3, "PREQUEL"), (4, "PREQUEL"), (1, "PARENT")], 2006)]
    fr = Franchises.from_display(display)
    assert fr.entry[1] == 4 and fr.members[1] == (1, 2, 3, 4, 5)
    assert fr.franchise[2] == 1  # via 1's side story only; its OTHER to 3 is not a link but 3 joins via 5
    # Unknown years go last; equal keys fall to the lower index.
    display = [None, show("a", [(2, "SEQUEL")], None), show("b", [], 2010), show("c", [(2, "SEQUEL")], None),
               show("d", [(2, "SEQUEL")], None)]
    assert Franchises.from_display(display).entry[1] == 1  # roots 1, 3, 4: all unknown, all TV
    display[4]["year"] = 2020
    assert Franchises.from_display(display).entry[1] == 4


def test_non_continuity_pairs_are_separate_works():
    # MAL's PARENT on a spin-off / recap / "other" work: the other end says what it is.
    display = [None,
               show("Original", [(2, "SPIN_OFF"), (3, "SUMMARY"), (4, "ALTERNATIVE"), (5, "SEQUEL")]),
               show("Spin-off", [(1, "PARENT")]),
               show("Recap", [(1, "PARENT")]),
               show("Alt", [(1, "ALTERNATIVE")]),
               show("Sequel", [(1, "PREQUEL")]),
               show("Char", [(5, "CHARACTER")])]
    fr = Franchises.from_display(display)
    assert fr.franchise.tolist() == [0, 1, 2, 3, 4, 1, 6]
    assert fr.later.tolist() == [False, False, False, False, False, True, False]


def test_cycles_bad_indices_and_null_entries_do_not_break_it():
    display = [None,
               show("a", [(2, "PREQUEL"), (99, "SEQUEL"), (0, "SEQUEL"), (1, "SEQUEL"), ("3", "SEQUEL")]),
               show("b", [(1, "PREQUEL")]),
               None,
               show("c", [(3, "PREQUEL")])]
    fr = Franchises.from_display(display)
    assert fr.franchise.tolist() == [0, 1, 1, 0, 4]
    assert fr.entry[1] == 1  # no root: every member is a candidate, lowest index wins
    assert fr.later.tolist() == [False, True, True, False, False]
    # A null entry is never walked (its display row is missing).
    cards = cards_of(display, [0, 1, 2, 0, 3], allowed=[False, True, True, False, True])
    assert [c.anime for c in cards] == [4, 1]


def test_filters_win_over_the_mapped_entry():
    scores = [0, 1.0, 5.0, 9.0, 7.0, 8.0]
    # Only OVAs and anime from 2003 on: S1 (the entry point) is filtered out; the card shows S3 itself.
    allowed = [False, False, True, True, True, False]
    cards = cards_of(three_seasons(), scores, allowed=allowed)
    assert [(c.anime, c.kind, c.others) for c in cards] == [(3, "candidate", (4, 2))]
    # Next entry filtered out: S1 rated, S2 not allowed; the walked S3 is shown (not the OVA).
    cards = cards_of(three_seasons(), scores, rated={1: 9}, allowed=[False, True, False, True, True, True])
    assert (cards[0].anime, cards[0].kind, cards[0].via) == (3, "candidate", None)


def test_k_cards_and_other_entries_after_the_kth():
    display = [None] + [show(f"x{i}") for i in range(1, 5)] + [show("y1", [(6, "SEQUEL")]), show("y2", [(5, "PREQUEL")])]
    scores = [0, 9, 8, 7, 6, 10, 1]
    cards = cards_of(display, scores, k=2)  # y2 is walked last, after the 2nd card: still attached
    assert [(c.anime, c.kind, c.others) for c in cards] == [(5, "entry", (6,)), (1, "standalone", ())]
    cards = cards_of(display, [0, 9, 8, 7, 6, 0.5, 10], k=2)  # y2 ranks first, its card shows y1
    assert [(c.anime, c.kind, c.candidate, c.others) for c in cards] == [(5, "entry", 6, (6,)), (1, "standalone", 1, ())]
    assert cards_of(display, scores, k=0) == []


def test_a_non_tv_prequel_of_the_series_year_does_not_come_first():
    """Within one year the TV series is the entry point, not the OVA or film that MAL calls its prequel;
    a TV prequel of the same year, or a non-TV prequel of an earlier year, still comes first."""
    display = [None,
               show("Road to Hero", [(2, "SEQUEL")], 2015, "OVA"),
               show("Series", [(1, "PREQUEL"), (3, "SEQUEL")], 2015, "TV"),
               show("Season 2", [(2, "PREQUEL")], 2019, "TV"),
               show("Film", [(5, "SEQUEL")], 2015, "MOVIE"),
               show("Film's TV sequel", [(4, "PREQUEL")], 2016, "TV"),
               show("TV prequel", [(7, "SEQUEL")], 2015, "TV"),
               show("Same-year TV sequel", [(6, "PREQUEL")], 2015, "tv")]
    fr = Franchises.from_display(display)
    assert fr.later.tolist() == [False, False, False, True, False, True, False, True]   # 1 and 2: both roots
    assert fr.entry == {1: 2, 4: 4, 6: 6}
    cards = cards_of(display, [0, 9, 1, 0, 0, 0, 0, 0])
    assert (cards[0].anime, cards[0].kind) == (2, "entry")


def episode_zeros() -> list:
    """S1 (2011 TV) -> S2 (2012 TV) -> Summer OVA (2015) -> Summer special (2015) -> S3 (2015 TV): MAL's
    chain into Yuru Yuri's third season. 6 "Road to Hero" (2015 OVA) opens 7 (2015 TV) -> 8 (2019 TV)."""
    return [None,
            show("S1", [(2, "SEQUEL")], 2011),
            show("S2", [(1, "PREQUEL"), (3, "SEQUEL")], 2012),
            show("Summer OVA", [(2, "PREQUEL"), (4, "SEQUEL")], 2015, "OVA"),
            show("Summer special", [(3, "PREQUEL"), (5, "SEQUEL")], 2015, "SPECIAL"),
            show("S3", [(4, "PREQUEL")], 2015),
            show("Road to Hero", [(7, "SEQUEL")], 2015, "OVA"),
            show("Series", [(6, "PREQUEL"), (8, "SEQUEL")], 2015),
            show("Season 2", [(7, "PREQUEL")], 2019)]


def test_an_episode_0_between_seasons_keeps_its_place_before_the_next_season():
    """A same-year non-TV prequel that continues a chain comes before its TV sequel; one that opens the
    franchise still comes after it (the summer OVA and special placed, not "Road to Hero")."""
    fr = Franchises.from_display(episode_zeros())
    assert fr.depth.tolist() == [0, 0, 1, 2, 3, 4, 0, 0, 1]   # S3 after the chain, not a second root
    assert fr.later.tolist() == [False, False, True, True, True, True, False, False, True]
    assert fr.entry == {1: 1, 6: 7}
    # Whoever watched everything up to the special is offered S3 (it used to have nothing before it).
    assert next_candidates({1: 8.0, 2: 8.0, 3: 7.0, 4: 7.0}, fr, np.ones(9, dtype=bool)) == [5]
    cards = cards_of(episode_zeros(), [0, 1, 1, 1, 1, 9.0, 1, 1, 1], rated={1: 8.0, 2: 8.0, 3: 7.0, 4: 7.0})
    assert (cards[0].anime, cards[0].kind) == (5, "next")


def moved_prequel() -> list:
    """S1 (2007) -> Special (2008) -> S2 (2009) -> S3 (2012), but S2's only PREQUEL is the OVAs made in
    2010 (set between the seasons, after the special): MAL's Darker than Black."""
    return [None,
            show("S1", [(2, "SEQUEL")], 2007),
            show("Special", [(1, "PREQUEL"), (4, "SEQUEL")], 2008, "SPECIAL"),
            show("S2", [(4, "PREQUEL"), (5, "SEQUEL")], 2009),
            show("OVAs", [(2, "PREQUEL"), (3, "SEQUEL")], 2010, "OVA"),
            show("S3", [(3, "PREQUEL")], 2012)]


def test_a_season_whose_prequel_came_out_later_follows_what_came_before_that_prequel():
    fr = Franchises.from_display(moved_prequel())
    assert fr.preds[3] == (2,)                           # the special, the latest entry before the OVAs
    assert fr.depth.tolist() == [0, 0, 1, 2, 2, 3]       # S2 no longer a second root (depth 0)
    assert fr.entry == {1: 1}
    everything = np.ones(6, dtype=bool)
    assert 3 in next_candidates({1: 8.0, 2: 8.0}, fr, everything)   # S2 offered after the special
    # A season with another link before it is left as it is, and nothing is placed before S1 (2007).
    display = moved_prequel()
    display[3] = show("S2", [(4, "PREQUEL"), (5, "SEQUEL"), (1, "PREQUEL")], 2009)
    assert Franchises.from_display(display).preds[3] == (1,)


def test_a_prequel_made_afterwards_does_not_come_first():
    """MAL's PREQUEL is story order: a 2014 prequel OVA of a 2013 series is not its entry point."""
    display = [None,
               show("Series", [(2, "PREQUEL"), (3, "SEQUEL"), (4, "SIDE_STORY")], 2013),
               show("Prequel OVA", [(1, "SEQUEL")], 2014, "OVA"),
               show("Season 2", [(1, "PREQUEL")], 2017),
               show("Pilot", [(1, "PARENT")], 2012, "SPECIAL"),   # a side story released first
               show("Undated prequel", [(6, "SEQUEL")], None, "OVA"),
               show("Other series", [(5, "PREQUEL")], 2000)]
    fr = Franchises.from_display(display)
    assert fr.franchise.tolist() == [0, 1, 1, 1, 1, 5, 5]
    assert fr.later.tolist() == [False, False, False, True, True, False, True]
    assert fr.entry == {1: 1, 5: 5}  # the series, not its prequel; an undated prequel still counts
    cards = cards_of(display, [0, 1, 9, 2, 3, 0, 0])
    assert (cards[0].anime, cards[0].kind, cards[0].others) == (1, "entry", (2, 4, 3))


def test_a_later_entry_of_a_franchise_not_started_waits_for_every_card_that_can_be_started():
    # S1 filtered out (say the announced-only filter): S3 and S2 can only be later entries for someone
    # who never started the franchise, so the standalone work scored below them comes first; S3 still
    # fills the list when nothing else is left (k = 2), and is left out before Lone when k = 1.
    display = three_seasons()
    allowed = [True, False, True, True, True, True]
    cards = cards_of(display, [0, 9.0, 8.0, 7.0, 1.0, 2.0], allowed=allowed)
    assert [(c.anime, c.kind) for c in cards] == [(5, "standalone"), (2, "candidate")]
    assert cards[1].others == (3, 4)
    assert [c.anime for c in cards_of(display, [0, 9.0, 8.0, 7.0, 1.0, 2.0], allowed=allowed, k=1)] == [5]
    # Started (S1 rated): S2 is the next entry and keeps its place by score.
    cards = cards_of(display, [0, 9.0, 8.0, 7.0, 1.0, 2.0], rated={1: 8.0})
    assert [(c.anime, c.kind) for c in cards] == [(2, "next"), (5, "standalone")]
    # S1 OVA, a side story of S1 (the link stated on S1's side only), is a later entry too: with S1..S3
    # filtered out it waits as well.
    cards = cards_of(display, [0, 9.0, 8.0, 7.0, 6.0, 2.0], allowed=[True, False, False, False, True, True])
    assert [(c.anime, c.kind) for c in cards] == [(5, "standalone"), (4, "candidate")]
    # So does a root that is not the entry point: a prequel made later (2005, of the 2001 S1).
    display = [None, show("S1", [(2, "PREQUEL")], 2001), show("Prequel OVA", [(1, "SEQUEL")], 2005, "OVA"),
               show("Lone", [], 1999)]
    assert Franchises.from_display(display).later.tolist() == [False, False, False, False]
    cards = cards_of(display, [0, 9.0, 8.0, 2.0], allowed=[True, False, True, True])
    assert [(c.anime, c.kind) for c in cards] == [(3, "standalone"), (2, "candidate")]


def test_the_metrics_walk_stops_early_with_the_same_cards():
    display = three_seasons()
    scores = [0, 9.0, 8.0, 7.0, 1.0, 2.0]
    allowed = np.array([False, False, True, True, True, True])
    fr = Franchises.from_display(display)
    for k in (1, 2, 3):
        full = franchise_list(np.asarray(scores, dtype=np.float32), {}, fr, allowed, k)
        short = franchise_list(np.asarray(scores, dtype=np.float32), {}, fr, allowed, k, complete=False)
        assert [(c.anime, c.kind) for c in short] == [(c.anime, c.kind) for c in full]
