"""Forgiving title search over an export's display entries: the web page's search (``public/js/search.js``)
for the CLI, so a query finds the same anime in the same order on both.

Titles and queries are folded the same way: Unicode compatibility decomposition (full-width letters
become ASCII, half-width kana full-width), combining marks removed (so "Pokemon" finds "Pokémon"),
lower case, and every run of characters that are not letters or digits turned into one space (so
"re zero" finds "Re:Zero"). Matches are ranked: whole title, title prefix, word prefix, substring,
substring ignoring spaces, all words anywhere; then by popularity, then by index.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any, Sequence

TITLE_KEYS = ("title", "title_romaji", "title_english", "title_native")


def fold(text: Any) -> str:
    """``"Re:Zero − Starting Life"`` -> ``"re zero starting life"`` (see the module docstring)."""
    decomposed = unicodedata.normalize("NFKD", "" if text is None else str(text))
    unmarked = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M")).lower()
    out, gap = [], False
    for c in unmarked:
        if unicodedata.category(c)[0] in "LN":
            if gap and out:
                out.append(" ")
            out.append(c)
            gap = False
        else:
            gap = True
    return "".join(out)


def _match_rank(key: str, compact_key: str, q: str, compact_q: str, words: list[str]) -> float:
    if key == q:
        return 0
    if key.startswith(q):
        return 1
    if f" {q}" in key:
        return 2
    if q in key:
        return 3
    if compact_q in compact_key:
        return 4
    if len(words) > 1 and all(w in key for w in words):
        return 5
    return math.inf


class TitleIndex:
    """Title search over ``anime_display.json`` (a list indexed by anime index; entry 0 is ``None``)."""

    def __init__(self, display: Sequence[dict | None]) -> None:
        self._entries: list[tuple[int, list[str], list[str], float]] = []
        for index, entry in enumerate(display):
            if not entry:
                continue
            keys = list(dict.fromkeys(k for k in (fold(entry.get(name)) for name in TITLE_KEYS) if k))
            self._entries.append((index, keys, [k.replace(" ", "") for k in keys],
                                  float(entry.get("popularity") or 0)))

    def search(self, query: str, limit: int = 12) -> list[int]:
        """Up to ``limit`` anime indices matching ``query``, best match first; ``[]`` for an empty query."""
        q = fold(query)
        if not q:
            return []
        compact_q, words = q.replace(" ", ""), q.split(" ")
        hits = []
        for index, keys, compact, popularity in self._entries:
            best = min((_match_rank(k, c, q, compact_q, words) for k, c in zip(keys, compact)), default=math.inf)
            if best != math.inf:
                hits.append((best, -popularity, index))
        hits.sort()
        return [index for _, _, index in hits[:max(0, limit)]]
