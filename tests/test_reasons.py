"""gnn.reasons: only animation studios are called "studio" (a producer is no studio reason)."""

from __future__ import annotations

import numpy as np

from gnn.franchise import Franchises, franchise_list
from gnn.reasons import ReasonBuilder, card_reason
from tests.test_franchise import show, three_seasons

DISPLAY = [
    None,
    {"id": 1, "title": "Steel Alchemist", "studios": ["Bones"], "producers": ["Aniplex", "Shueisha"],
     "genres": ["Action"], "relations": []},
    {"id": 2, "title": "Aniplex Only", "studios": ["Lerche"], "producers": ["Aniplex"], "genres": ["Drama"],
     "relations": []},
    {"id": 3, "title": "Bones Again", "studios": ["Bones"], "producers": [], "genres": [], "relations": []},
    {"id": 4, "title": "Publisher Pick", "studios": [], "producers": ["Shueisha"], "genres": [], "relations": []},
]


def test_shared_animation_studio_is_the_reason():
    reasons = ReasonBuilder(DISPLAY, {1: 9.0}, 1, 10)
    assert reasons(3) == "same studio (Bones) as Steel Alchemist (you rated 9)"


def test_shared_producer_is_never_called_the_studio():
    reasons = ReasonBuilder(DISPLAY, {1: 9.0}, 1, 10)
    assert reasons(2) == "popular with fans of Drama"      # Aniplex produced both: not "same studio (Aniplex)"
    assert reasons(4) == "predicted from your ratings"     # Shueisha published both


# Co-rated lists (strongest first): Liked Nine lists 6 then 7, Liked Ten lists 3; 4, 5 and 7 list liked
# anime themselves (4's first entry, 9, is outside the catalog); 6 shares Liked Nine's studio.
TOGETHER = [
    None,
    {"id": 1, "title": "Liked Nine", "studios": ["Bones"], "genres": ["Drama"], "relations": [], "corated": [6, 7]},
    {"id": 2, "title": "Liked Ten", "studios": [], "genres": ["Drama"], "relations": [], "corated": [3]},
    {"id": 3, "title": "Listed", "studios": [], "genres": ["Drama"], "relations": [], "corated": []},
    {"id": 4, "title": "Lists Liked", "studios": [], "genres": ["Drama"], "relations": [], "corated": [9, 1]},
    {"id": 5, "title": "Both Ways", "studios": [], "genres": ["Drama"], "relations": [], "corated": [2]},
    {"id": 6, "title": "Bones Listed", "studios": ["Bones"], "genres": [], "relations": [], "corated": []},
    {"id": 7, "title": "Second Place", "studios": [], "genres": ["Drama"], "relations": [], "corated": [1]},
]


def test_an_anime_often_watched_with_a_liked_one_says_so_before_a_genre():
    reasons = ReasonBuilder(TOGETHER, {1: 9.0, 2: 10.0, 9: 9.0}, 1, 10)
    assert reasons(3) == "often watched with Liked Ten (you rated 10)"   # in a liked anime's list
    assert reasons(4) == "often watched with Liked Nine (you rated 9)"   # the liked anime is in its list (9 is out of range)
    assert reasons(5) == "often watched with Liked Ten (you rated 10)"   # the liked anime first in its list
    assert reasons(7) == "often watched with Liked Nine (you rated 9)"   # listed both ways: one anime named
    assert reasons(6) == "same studio (Bones) as Liked Nine (you rated 9)"   # a studio still comes first


def test_watched_together_needs_a_liked_anime_and_never_names_the_candidate_itself():
    assert ReasonBuilder(TOGETHER, {2: 5.0}, 1, 10)(3) == "popular with fans of Drama"   # rated, not liked
    # Liked Nine is the candidate: its own co-rated list (6, 7) says nothing about it; Liked Ten shares Drama.
    # Nor does it count itself among the other anime liked for that genre (was "... and 1 more you liked").
    assert ReasonBuilder(TOGETHER, {1: 9.0, 2: 10.0}, 1, 10)(1) == "Drama, like Liked Ten (you rated 10)"
    assert ReasonBuilder(TOGETHER, {1: 9.0, 2: 10.0, 3: 8.0}, 1, 10)(1) == \
        "Drama, like Liked Ten (you rated 10) and 1 more you liked"
    # Without co-rated lists (a baseline export) the genre reason is unchanged.
    plain = [e if e is None else {k: v for k, v in e.items() if k != "corated"} for e in TOGETHER]
    assert ReasonBuilder(plain, {2: 10.0}, 1, 10)(3) == "Drama, like Liked Ten (you rated 10)"


def test_the_place_in_a_co_rated_list_comes_before_the_rating_then_the_better_rating_wins():
    display = [None, *({"id": i, "title": f"Show {i}", "studios": [], "genres": [], "relations": [], "corated": c}
                       for i, c in ((1, []), (2, []), (3, [1, 2]), (4, []), (5, [2]), (6, [])))]
    display[1]["corated"], display[2]["corated"] = [4], [4, 6]
    reasons = ReasonBuilder(display, {1: 8.0, 2: 10.0}, 1, 10)
    assert reasons(3) == "often watched with Show 1 (you rated 8)"    # first in its list beats a 10 second
    assert reasons(4) == "often watched with Show 2 (you rated 10)"   # first in both lists: the better rating
    assert reasons(6) == "often watched with Show 2 (you rated 10)"   # second in Show 2's list still counts
    assert reasons(5) == "often watched with Show 2 (you rated 10)"


def test_a_later_entry_left_alone_by_a_filter_says_its_series_was_not_started():
    # S1 is filtered out (say --year-min 2003): the best-scored anime, S3, makes the card, and the reason
    # says that it belongs to a series the user has not started, never a genre reason that could pass
    # a third season for a place to begin.
    display = three_seasons()
    fr = Franchises.from_display(display)
    cards = franchise_list(np.array([0, 9.0, 5.0, 8.0, 1.0, 2.0]), {}, fr,
                           np.array([False, False, True, True, True, True]), 10)
    assert [(c.anime, c.kind) for c in cards] == [(5, "standalone"), (3, "candidate")]   # S3 waits (franchise.py)
    title = lambda i: display[i]["title"]  # noqa: E731
    assert card_reason(cards[1], fr, title, {}, "Drama, like Z") == "in the S1 series (4 entries), which you have not started"
    assert card_reason(cards[1], fr, lambda i: "The Hollow Blade", {}, "b") == \
        "in The Hollow Blade series (4 entries), which you have not started"
    # Started (S1 seen, the sequel S2 filtered out too): the started reason, as before.
    cards = franchise_list(np.array([0, 9.0, 5.0, 8.0, 1.0, 2.0]), {1: 8.0}, fr,
                           np.array([False, False, False, True, True, True]), 10)
    assert card_reason(cards[0], fr, title, {1: 8.0}, "b") == "in the series of S1, which you rated 8"
    # A standalone work keeps the base reason.
    assert card_reason(cards[-1], fr, title, {}, "base") == "base" and cards[-1].kind == "standalone"


def test_an_entry_point_linked_to_a_liked_anime_of_another_franchise_says_that_link():
    # 6 remakes Lone (ALTERNATIVE, one end only) and starts a two-entry franchise of its own with 7.
    # A fan of Lone is told why the remake's card is there, not only that it starts a series; a user
    # who liked nothing it links to, or rated Lone low, gets the series reason.
    display = three_seasons() + [show("Lone Remake", [(5, "ALTERNATIVE"), (7, "SEQUEL")], 2010),
                                 show("Lone Remake 2", [(6, "PREQUEL")], 2012)]
    fr = Franchises.from_display(display)
    title = lambda i: display[i]["title"]  # noqa: E731
    for rated, said in (({5: 9.0}, "alternative version of Lone, which you rated 9"),
                        ({5: 3.0}, "start of the Lone Remake series (2 entries)"),
                        ({}, "start of the Lone Remake series (2 entries)")):
        allowed = np.array([i > 0 and i not in rated for i in range(len(display))])
        cards = franchise_list(np.array([0, 1, 1, 1, 1, 1, 9.0, 1], dtype=np.float32), rated, fr, allowed, 10)
        assert (cards[0].anime, cards[0].kind) == (6, "entry")
        reasons = ReasonBuilder(display, rated, 1, 10)
        assert card_reason(cards[0], fr, title, rated, reasons(6), reasons.relation(6)) == said
    # A next entry keeps its own reason whatever the entry point's links: the franchise was started.
    cards = franchise_list(np.array([0, 1, 1, 1, 1, 1, 1, 9.0], dtype=np.float32), {6: 8.0, 5: 9.0}, fr,
                           np.array([False, True, True, True, True, False, False, True]), 10)
    assert (cards[0].anime, cards[0].kind) == (7, "next")
    assert card_reason(cards[0], fr, title, {6: 8.0}, "b", "alternative version of Lone, which you rated 9") == \
        "sequel of Lone Remake, which you rated 8"


def test_an_entry_point_names_the_liked_anime_behind_it_and_that_it_starts_a_series():
    # 6 starts a two-entry franchise; it shares its studio with Lone (5) and is in nobody's co-rated list.
    display = three_seasons() + [show("Remake", [(7, "SEQUEL")], 2010), show("Remake 2", [(6, "PREQUEL")], 2012)]
    display[5] = {**display[5], "studios": ["Bones"], "genres": ["Drama"]}
    display[6] = {**display[6], "studios": ["Bones"], "genres": ["Drama"]}
    fr = Franchises.from_display(display)
    title = lambda i: display[i]["title"]  # noqa: E731
    allowed = np.array([i > 0 and i != 5 for i in range(len(display))])
    cards = franchise_list(np.array([0, 1, 1, 1, 1, 1, 9.0, 1], dtype=np.float32), {5: 9.0}, fr, allowed, 10)
    assert (cards[0].anime, cards[0].kind) == (6, "entry")
    for rated, said in (({5: 9.0}, "same studio (Bones) as Lone (you rated 9); start of its series (2 entries)"),
                        ({5: 3.0}, "start of the Remake series (2 entries)")):   # nothing liked: no personal reason
        reasons = ReasonBuilder(display, rated, 1, 10)
        assert card_reason(cards[0], fr, title, rated, reasons(6), reasons.relation(6), reasons.personal(6)) == said
    # The personal reason is rules 2-4 only: none where only the generic genre or nothing is left.
    reasons = ReasonBuilder(display, {5: 9.0}, 1, 10)
    assert reasons.personal(6) == "same studio (Bones) as Lone (you rated 9)" == reasons(6)
    assert reasons.personal(1) is None and reasons(1) == "predicted from your ratings"
    # A standalone or next card is unchanged by it: the personal reason speaks only for an entry point.
    standalone = franchise_list(np.array([0, 1, 1, 1, 1, 9.0, 1, 1], dtype=np.float32), {}, fr,
                                np.array([i > 0 for i in range(len(display))]), 1)[0]
    assert standalone.kind == "standalone" and card_reason(standalone, fr, title, {}, "base", None, "mine") == "base"
