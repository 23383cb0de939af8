"""One short "why" per recommendation, from the display data and what the user rated (no model needed).

Checked in order, first match wins:

1. franchise: the candidate is related to an anime the user liked
   ("sequel of X, which you rated 9"). A relation ``[j, TYPE]`` on candidate
   ``c`` means ``j`` is ``c``'s TYPE, so ``PREQUEL`` there makes ``c`` the
   sequel of ``j``; sequels/prequels are preferred, then the best-rated anime.
2. studio: the candidate shares an animation studio with a liked anime ("same studio (Bones) as Y
   (you rated 8)"). Only the display entry's ``studios`` (animation studios) count: a producer,
   publisher or broadcaster (``producers``: Aniplex, Shueisha, a TV channel) is never called the
   studio, and is no reason on its own (the big ones produce a large share of the catalog).
3. watched together: the candidate and a liked anime are among each other's most co-rated anime
   (``corated`` of the display entry, strongest first, from the model's co-rated table,
   :mod:`gnn.graph.corated`: the same users rated both) ("often watched with W (you rated 9)"); the
   pair closest to the top of either list wins, then the better-rated anime. The GNN's "will watch"
   score reads the same table, so this is what often put the candidate in the list.
4. genre: the candidate's genre the user liked most ("Drama, like Z (you rated 9) and 3 more you liked"),
   else "popular with fans of <genre>" (its first genre), else "predicted from your ratings".

"Liked" is at least two thirds of the way up the rating scale (7 on 1-10).

A series-aware list's card (:mod:`gnn.franchise`) says its franchise first (:func:`card_reason`: "sequel
of X, which you rated 9", or rule 1's link to a liked anime of another franchise for an entry point); an
entry point gives rules 2-4's reason, when one names a liked anime, with "; start of its series (N
entries)", else "start of the X series (N entries)"; other cards fall back to the reason above.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Mapping, Sequence

from gnn.franchise import Card, Franchises

# How the candidate relates to the anime it points at, by the relation TYPE it stores.
PHRASE = {
    "PREQUEL": "sequel of", "SEQUEL": "prequel of", "PARENT": "side story of",
    "SIDE_STORY": "main story of", "SPIN_OFF": "original of the spin-off", "ALTERNATIVE": "alternative version of",
    "SUMMARY": "full story of the summary", "CHARACTER": "shares characters with", "OTHER": "related to",
}
_PRIORITY = {"PREQUEL": 0, "SEQUEL": 1, "PARENT": 2, "SIDE_STORY": 2}
# How a franchise card's anime relates to the rated anime before it (``Franchises.via_type``: the
# continuity type stated on either side).
_CARD_PHRASE = {"PREQUEL": "sequel of", "PARENT": "side story of", "SEQUEL": "sequel of", "SIDE_STORY": "side story of"}


def _fmt(rating: float) -> str:
    return f"{rating:g}" if float(rating).is_integer() else f"{rating:.1f}"


class ReasonBuilder:
    """Reasons for one user: ``rated`` maps anime index -> rating (original scale)."""

    def __init__(self, display: Sequence[Mapping[str, Any] | None], rated: Mapping[int, float],
                 low: float, high: float) -> None:
        self.display = display
        self.rated = rated
        threshold = low + (high - low) * 2 / 3
        self.liked = {a: r for a, r in rated.items() if r >= threshold and 0 < a < len(display)}
        self.threshold = threshold
        # Studio/genre -> best-rated liked anime with it; genre -> how many liked anime have it.
        self.studio_best: dict[str, tuple[float, int]] = {}
        self.genre_best: dict[str, tuple[float, int]] = {}
        self.genre_count: Counter[str] = Counter()
        # Candidate -> (place in a liked anime's co-rated list, -rating, that anime), best first.
        self.listed_by: dict[int, tuple[int, float, int]] = {}
        for a, r in sorted(self.liked.items()):
            entry = display[a] or {}
            for best, field in ((self.studio_best, "studios"), (self.genre_best, "genres")):
                for key in entry.get(field, []):
                    if r > best.get(key, (float("-inf"), 0))[0]:
                        best[key] = (r, a)
            self.genre_count.update(entry.get("genres", []))
            for place, c in enumerate(entry.get("corated", [])):
                if c != a:
                    self.listed_by[c] = min(self.listed_by.get(c, (place, -r, a)), (place, -r, a))

    def title(self, index: int) -> str:
        entry = self.display[index] or {}
        return str(entry.get("title") or f"anime {entry.get('id', index)}")

    def relation(self, candidate: int) -> str | None:
        """The franchise reason (rule 1), or None when the candidate has no relation to a liked anime."""
        entry = self.display[candidate] or {}
        related = [(_PRIORITY.get(t, 3), -self.liked[j], j, t) for j, t in entry.get("relations", [])
                   if j in self.liked]
        if not related:
            return None
        _, neg, j, t = min(related)
        return f"{PHRASE.get(t, 'related to')} {self.title(j)}, which you rated {_fmt(-neg)}"

    def __call__(self, candidate: int) -> str:
        related = self.relation(candidate)
        if related is not None:
            return related
        personal = self.personal(candidate)
        if personal is not None:
            return personal
        genres = (self.display[candidate] or {}).get("genres", [])
        return f"popular with fans of {genres[0]}" if genres else "predicted from your ratings"

    def personal(self, candidate: int) -> str | None:
        """Rules 2-4 with a liked anime to name (studio, watched together, liked genre); None without one."""
        entry = self.display[candidate] or {}
        shared = [(self.studio_best[s], s) for s in entry.get("studios", []) if s in self.studio_best]
        shared = [x for x in shared if x[0][1] != candidate]
        if shared:
            (r, a), studio = max(shared, key=lambda x: x[0][0])
            return f"same studio ({studio}) as {self.title(a)} (you rated {_fmt(r)})"
        together = [(place, -self.liked[j], j) for place, j in enumerate(entry.get("corated", []))
                    if j in self.liked and j != candidate]
        if candidate in self.listed_by:
            together.append(self.listed_by[candidate])
        if together:
            _, neg, j = min(together)
            return f"often watched with {self.title(j)} (you rated {_fmt(-neg)})"
        genres = entry.get("genres", [])
        itself = int(candidate in self.liked)   # a liked candidate is in its own genres' counts: never "1 more"
        liked_genres = [(self.genre_count[g] - itself, g) for g in genres if self.genre_count[g]
                        and self.genre_best[g][1] != candidate]
        if liked_genres:
            n, g = max(liked_genres)
            r, a = self.genre_best[g]
            more = f" and {n - 1} more you liked" if n > 1 else ""
            return f"{g}, like {self.title(a)} (you rated {_fmt(r)}){more}"
        return None


def card_reason(card: Card, fr: Franchises, title: Callable[[int], str], rated: Mapping[int, float | None],
                base: str, related: str | None = None, personal: str | None = None) -> str:
    """A series-aware card's "why" (:func:`gnn.franchise.franchise_list`): a franchise reason for
    "entry"/"next" cards, else ``base`` (a :class:`ReasonBuilder` reason).

    "next": "sequel of X, which you rated 9" ("..., which is on your list" when X has no rating);
    "entry": ``related`` (:meth:`ReasonBuilder.relation`) where the entry point is linked to a liked
    anime of another franchise ("alternative version of Fullmetal Alchemist: Brotherhood, which you
    rated 9" says more than "start of the Fullmetal Alchemist series"), else ``personal``
    (:meth:`ReasonBuilder.personal`) and that it starts a series ("often watched with Mob Psycho 100
    (you rated 9); start of its series (4 entries)"), else "start of the <title> series (N entries)";
    "candidate" of a franchise the user started:
    "in the series of X, which you rated 9", X the furthest-along anime they rated; "candidate" of one
    they did not start (a filter left its entry point out, e.g. a later season under ``--year-min``):
    "in the <entry point> series (N entries), which you have not started", so that a later entry
    never passes for a place to begin.
    """
    def said(a: int) -> str:
        r = rated.get(a)
        return f"which you rated {_fmt(r)}" if r is not None else "which is on your list"

    if card.kind == "next" and card.via is not None:
        phrase = _CARD_PHRASE.get(fr.via_type.get((card.anime, card.via), ""), "next after")
        return f"{phrase} {title(card.via)}, {said(card.via)}"
    started = [m for m in fr.members.get(int(fr.franchise[card.anime]), ()) if m in rated] \
        if card.kind == "candidate" else []
    if started:
        furthest = fr.furthest(started)
        return f"in the series of {title(furthest)}, {said(furthest)}"
    if card.kind == "entry":
        if related or personal:
            return related or f"{personal}; start of its series ({card.size} entries)"
        return f"start of {_series(title(card.anime))} ({card.size} entries)"
    if card.kind == "candidate" and card.size > 1:   # a franchise not started whose entry point a filter left out
        entry = fr.entry[int(fr.franchise[card.anime])]
        return f"in {_series(title(entry))} ({card.size} entries), which you have not started"
    return base


def _series(name: str) -> str:
    return f"{'' if name.lower().startswith('the ') else 'the '}{name} series"   # not "the The Hollow Blade series"
