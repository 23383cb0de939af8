"""Series-aware lists: one card per franchise, at its entry point or at the next entry (numpy only, no torch).

``public/js/franchise.js`` is a line-by-line port (with :mod:`gnn.franchise_order`, the order rules);
``tests/web/test_franchise_js.py`` checks that both give the same cards on the same input.

Input: the export's ``anime_display.json`` (entry 0 is the padding ``null``). Entry ``i`` has
``"relations": [[j, TYPE], ...]``: anime ``j`` is anime ``i``'s TYPE (``[j, "PREQUEL"]`` = ``j`` is
``i``'s prequel), plus ``"year"`` and ``"format"``.

Franchise
    A connected component over the *continuity* relations SEQUEL, PREQUEL, PARENT and SIDE_STORY.
    ALTERNATIVE, SPIN_OFF, CHARACTER, SUMMARY and OTHER link separate works. A pair of anime is
    continuity only if every type stated about it, from either end, is a continuity type: MAL calls
    the original of a spin-off, recap or "other" work its PARENT ("parent story"), and the catalog
    graph adds that PARENT as the inverse of SPIN_OFF / SUMMARY, so ``[j, PARENT]`` on ``i`` with
    ``[i, SPIN_OFF]`` on ``j`` is a spin-off, not a side story. Relations are read from both ends
    (the export keeps at most 16 per anime). An anime in no continuity pair is a standalone work.
Order
    ``j`` comes before ``i`` when ``i`` states ``[j, PREQUEL|PARENT]`` or ``j`` states
    ``[i, SEQUEL|SIDE_STORY]``; except that a PREQUEL/SEQUEL link whose prequel came out in a later
    year (both years known) does not count: a prequel made afterwards is watched afterwards (MAL's
    PREQUEL is story order: One Piece (1999) has a 2024 prequel, Attack on Titan (2013) the 2014 OVA
    "No Regrets"; 126 of the MAL catalog's 6,055 anime with an earlier entry have only such
    prequels). Within one year a TV series comes before a prequel that is not TV (the film or OVA of
    the series' year that opens the franchise, such as One-Punch Man's "Road to Hero"), unless that
    prequel has an earlier entry of its own: an episode 0 between seasons (Yuru Yuri's summer
    specials before its third season, Free!'s "Episode 0") keeps its place, or the next season would
    be cut off from the seasons before it (in the MAL catalog 41 of 98 such prequels; 18 of their
    seasons, Spice and Wolf II among them, had nothing else before them). A sequel left with nothing
    before it by these rules (its only prequel was made afterwards) follows the latest entries before
    that prequel that may come before it (12 MAL seasons: Darker than Black's second follows the
    first season's 2008 special, Psycho-Pass 3 the 2019 films). A side story stays after
    its parent whatever the years (pilots and promotional specials often come first). A *later
    entry* has something before it; a *root* has nothing. ``depth``: the longest chain of earlier
    entries (a root is 0). Anime on a cycle (contradictory data) keep the depth their acyclic
    predecessors give (0 if none).
Entry point (for someone who rated none of the franchise)
    The root with the earliest year (unknown year last), then a TV one before other formats, then
    the lowest index. A franchise without a root (a cycle) picks among all its members the same way.
Next entry (for someone who started it)
    An unrated anime with a rated anime before it. Preferred: the one whose rated predecessor is
    furthest along (deepest); then a sequel (a PREQUEL/SEQUEL link to it) before a side story
    (PARENT/SIDE_STORY); then the higher order score, then the lower index. None if every entry
    after a rated one is rated too.
List policy (:func:`franchise_list`)
    Walk the allowed anime (filters passed, not excluded) by order score, highest first, ties by
    index. The first one of a franchise makes its card; the card shows the franchise's entry point
    (the user rated none of it: kind ``"entry"``), its next entry (the user started it:
    ``"next"``), or the anime itself (a standalone work: ``"standalone"``). Filters win: if that
    entry is not allowed (filtered out, or excluded) or the user has no next entry, the card shows
    the walked anime itself (``"candidate"``). Every later allowed anime of the same franchise is
    attached to its card as an *other entry*, in walk order. A candidate of a franchise the user has
    not started (a filter left its entry point out: an announced sequel, a recent season under
    ``--year-min``; its reason says "which you have not started") comes after every card that can be
    started or continued, in walk order: such anime fill the list only where nothing else is left.
    ``rated`` is every anime the user rated or otherwise marked as seen (rating ``None``): it decides
    "started" and "next".
Scores
    ``order_score`` ranks; the predicted rating is only shown. Exports with one output use the
    predicted rating for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from gnn.franchise_order import (bridge_later_prequels, components, depths, entry_point, is_int,
                                  keep_episode_zeros, made_after, place)

CONTINUITY = frozenset({"SEQUEL", "PREQUEL", "PARENT", "SIDE_STORY"})
_BEFORE = ("PREQUEL", "PARENT")   # [j, T] on i: j comes before i
_SEQUEL = ("PREQUEL", "SEQUEL")  # the main line; PARENT / SIDE_STORY are side stories


@dataclass(frozen=True)
class Franchises:
    """The franchise structure of a catalog (see the module docstring); build with :meth:`from_display`.

    ``franchise`` int64 [n]: franchise id of each anime index (its lowest member index; 0 = padding).
    ``depth`` int64 [n]; ``later`` bool [n]: has an earlier entry. ``preds[i]``: anime before ``i``
    (ascending); ``via_type[(i, j)]``: the continuity type that places ``j`` before ``i``.
    ``members[f]`` ascending; ``entry[f]``: the entry point.
    """

    franchise: np.ndarray
    depth: np.ndarray
    later: np.ndarray
    preds: tuple[tuple[int, ...], ...]
    via_type: Mapping[tuple[int, int], str]
    members: Mapping[int, tuple[int, ...]]
    entry: Mapping[int, int]

    @classmethod
    def from_display(cls, display: Sequence[Mapping[str, Any] | None]) -> "Franchises":
        n = len(display)
        stated: dict[tuple[int, int], list[str]] = {}
        for i, e in enumerate(display):
            for rel in (e or {}).get("relations") or []:
                j, t = rel[0], str(rel[1])
                if is_int(j) and 0 < i < n and 0 < j < n and i != j and display[int(j)] is not None:
                    j = int(j)
                    stated.setdefault((min(i, j), max(i, j)), []).append(f"{'<' if i < j else '>'}{t}")
        preds: list[set[int]] = [set() for _ in range(n)]
        via_type: dict[tuple[int, int], str] = {}
        neighbours: list[list[int]] = [[] for _ in range(n)]
        same_year: list[tuple[int, int, str]] = []   # (TV series, its non-TV prequel of the same year, type)
        later_year: list[tuple[int, int, str]] = []  # (sequel, its prequel made in a later year, type)
        for (a, b), types in sorted(stated.items()):
            if not all(t[1:] in CONTINUITY for t in types):
                continue
            neighbours[a].append(b)
            neighbours[b].append(a)
            for t in types:  # "<T": a states [b, T]; ">T": b states [a, T]
                src, dst = (a, b) if t[0] == "<" else (b, a)
                later, earlier = (src, dst) if t[1:] in _BEFORE else (dst, src)
                after = made_after(display[earlier], display[later]) if t[1:] in _SEQUEL else ""
                if after:   # decided below; a prequel made afterwards: release order wins
                    (same_year if after == "same year" else later_year).append((later, earlier, t[1:]))
                else:
                    place(preds, via_type, later, earlier, t[1:])
        keep_episode_zeros(same_year, preds, via_type)
        bridge_later_prequels(later_year, preds, via_type, display)
        franchise = components(neighbours)
        depth = depths(preds)
        members: dict[int, list[int]] = {}
        for i in range(1, n):
            if display[i] is None:
                franchise[i] = 0  # a missing entry belongs to nothing (the padding's 0)
            else:
                members.setdefault(int(franchise[i]), []).append(i)
        entry = {f: ms[0] if len(ms) == 1 else entry_point(ms, preds, display) for f, ms in members.items()}
        later = np.array([bool(p) for p in preds], dtype=bool)
        return cls(np.array(franchise, dtype=np.int64), np.array(depth, dtype=np.int64), later,
                   tuple(tuple(sorted(p)) if p else () for p in preds), via_type,
                   {f: tuple(ms) for f, ms in members.items()}, entry)

    def size(self, f: int) -> int:
        return len(self.members.get(f, ()))

    def started(self, rated: Iterable[int]) -> set[int]:
        """The franchises with an anime among ``rated`` (indices; out-of-range ones and the padding's 0 ignored)."""
        return {int(self.franchise[a]) for a in rated if 0 < int(a) < len(self.franchise)} - {0}

    def furthest(self, anime: Iterable[int]) -> int:
        """The furthest along of ``anime`` (non-empty): the deepest, then the lowest index."""
        return max(anime, key=lambda a: (int(self.depth[a]), -a))


def next_entry(fr: Franchises, f: int, rated: Mapping[int, Any], order_score: np.ndarray,
               allowed: np.ndarray | None = None) -> tuple[int, int] | None:
    """``(anime, via)``: franchise ``f``'s next unrated entry and the rated anime before it, or None.
    ``allowed`` bool [n] (optional): only these anime may be it."""
    best, best_key = None, None
    for m in fr.members.get(f, ()):
        if m in rated or (allowed is not None and not allowed[m]):
            continue
        before = [p for p in fr.preds[m] if p in rated]
        if not before:
            continue
        via = fr.furthest(before)
        key = (int(fr.depth[via]), fr.via_type.get((m, via)) in _SEQUEL, float(order_score[m]), -m)
        if best_key is None or key > best_key:
            best, best_key = (m, via), key
    return best


@dataclass(frozen=True)
class Card:
    """One list item: ``anime`` is shown; ``others`` are the franchise's other allowed anime, walk order.

    ``kind``: "standalone" | "entry" | "next" | "candidate"; ``candidate``: the anime whose rank made the
    card; ``via``: for "next", the rated anime it follows; ``size``: anime in the franchise.
    """

    anime: int
    kind: str
    candidate: int
    via: int | None
    size: int
    others: tuple[int, ...]


def franchise_list(order_score: np.ndarray, rated: Mapping[int, Any], fr: Franchises, allowed: np.ndarray,
                   k: int, complete: bool = True) -> list[Card]:
    """The top ``k`` cards (module docstring). ``allowed`` bool [n]: may be shown (filters, exclusion).

    ``complete=False`` stops the walk once the ``k`` cards are known: the cards are the same, but their
    ``others`` hold only what was walked before (for metrics over many users; the page and the CLI walk on).
    """
    scores = np.asarray(order_score, dtype=np.float64)
    candidates = np.flatnonzero(np.asarray(allowed, dtype=bool))
    candidates = candidates[candidates > 0]
    walk = candidates[np.lexsort((candidates, -scores[candidates]))].tolist()
    cards: dict[int, dict[str, Any]] = {}
    first = 0   # cards that can be started or continued (the others wait: module docstring)
    for c in walk:
        f = int(fr.franchise[c])
        if f in cards:
            if c != cards[f]["anime"]:
                cards[f]["others"].append(c)
            continue
        if first >= k:
            if not complete:
                break
            continue
        cards[f] = _make_card(c, f, scores, rated, fr, allowed)
        first += not cards[f]["waits"]
    ordered = sorted(cards.items(), key=lambda item: item[1]["waits"])[:max(0, k)]
    return [Card(d["anime"], d["kind"], d["candidate"], d["via"], fr.size(f), tuple(d["others"])) for f, d in ordered]


def next_candidates(rated: Mapping[int, Any], fr: Franchises, allowed: np.ndarray) -> list[int]:
    """Every anime that may be a started franchise's next entry (ascending): allowed, unrated, with a
    rated anime before it. What :func:`continue_list` needs predicted ratings of."""
    return [m for m in range(1, len(fr.franchise)) if allowed[m] and m not in rated
            and any(p in rated for p in fr.preds[m])]


def continue_list(rating: np.ndarray, rated: Mapping[int, Any], fr: Franchises, allowed: np.ndarray,
                  k: int) -> list[Card]:
    """"Continue your series": the next entry (kind ``"next"``) of each franchise the user started, the
    ``k`` with the highest predicted ``rating`` (ties by index). Unlike :func:`franchise_list`, nothing
    here ranks by "will watch": the user chose the franchise already, so what they will think of the
    next entry decides. ``rating [n]`` must hold the :func:`next_candidates`; ``allowed`` as there.
    """
    score = np.nan_to_num(np.asarray(rating, dtype=np.float64), nan=-np.inf)
    cards = []
    for f in sorted(fr.started(rated)):
        found = next_entry(fr, f, rated, score, allowed)
        if found is not None:
            cards.append(Card(found[0], "next", found[0], found[1], fr.size(f), ()))
    return sorted(cards, key=lambda c: (-score[c.anime], c.anime))[:max(0, k)]


def _make_card(c: int, f: int, scores: np.ndarray, rated: Mapping[int, Any], fr: Franchises,
               allowed: np.ndarray) -> dict[str, Any]:
    anime, kind, via = c, "standalone", None
    started = True
    if fr.size(f) > 1:
        started = any(m in rated for m in fr.members[f])
        if not started:
            anime, kind = fr.entry[f], "entry"
        else:
            found = next_entry(fr, f, rated, scores)
            anime, kind, via = (found[0], "next", found[1]) if found else (c, "candidate", None)
        if not allowed[anime]:
            anime, kind, via = c, "candidate", None
    # "waits": a candidate of a franchise the user rated nothing of (not its entry point, so a later
    # entry, or another root: a prequel made later, a same-year film or OVA that opens the franchise).
    return {"anime": anime, "kind": kind, "candidate": c, "via": via, "others": [] if anime == c else [c],
            "waits": kind == "candidate" and not started}
