"""Release order in a franchise: which anime comes before which (numpy-free helpers of :mod:`gnn.franchise`).

The rules are stated in :mod:`gnn.franchise`'s docstring ("Order", "Entry point");
``public/js/franchise.js`` ports them line by line.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence


def is_int(x: Any) -> bool:
    """An integral JSON number (JavaScript's Number.isInteger)."""
    if type(x) is int:
        return True
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and float(x).is_integer()


def release_year(entry: Mapping[str, Any] | None) -> float:
    """The entry's year, or 0 if unknown (so "came out later" needs both years)."""
    year = (entry or {}).get("year")
    return float(year) if is_int(year) else 0.0


def is_tv(entry: Mapping[str, Any] | None) -> bool:
    return str((entry or {}).get("format") or "").upper() == "TV"


def made_after(prequel: Mapping[str, Any] | None, sequel: Mapping[str, Any] | None) -> str:
    """Whether the story's prequel came out after its sequel: ``"later year"``; ``"same year"`` as a TV
    sequel while it is not TV itself (the OVA or film of a series' year: One-Punch Man's "Road to
    Hero"; :func:`keep_episode_zeros` decides); else ``""``. Needs both years."""
    p, s = release_year(prequel), release_year(sequel)
    if p > 0 and s > 0 and p > s:
        return "later year"
    return "same year" if p > 0 and p == s and is_tv(sequel) and not is_tv(prequel) else ""


def place(preds: list[set[int]], via_type: dict[tuple[int, int], str], later: int, earlier: int, t: str) -> None:
    """Put ``earlier`` before ``later``; the first continuity type that placed them names the link."""
    preds[later].add(earlier)
    via_type.setdefault((later, earlier), t)


def keep_episode_zeros(same_year: list[tuple[int, int, str]], preds: list[set[int]],
                       via_type: dict[tuple[int, int], str]) -> None:
    """Place each same-year non-TV prequel whose story has an earlier entry (other than the series
    itself) before its TV series: an episode 0 between seasons. One that opens the franchise stays
    after it. One pass: a placed link gives a TV series an earlier entry, never a non-TV prequel."""
    for later, earlier, t in same_year:
        if preds[earlier] - {later}:
            place(preds, via_type, later, earlier, t)


def bridge_later_prequels(dropped: list[tuple[int, int, str]], preds: list[set[int]],
                           via_type: dict[tuple[int, int], str], display: Sequence[Mapping[str, Any] | None]) -> None:
    """A sequel left with nothing before it because its story prequel came out in a later year
    follows what came before that prequel instead: up the prequel's earlier entries to the latest
    ones that may come before the sequel (by :func:`made_after`; a same-year non-TV one only with
    an earlier entry of its own). MAL moving a season's PREQUEL to a prequel made afterwards no
    longer cuts it off: Darker than Black's 2009 second season follows the 2007 first, not nothing
    (its PREQUEL is the 2010 OVAs set between them); Psycho-Pass 3 follows the 2019 films. Reads
    only the links placed so far; none that would close a cycle."""
    direct = [set(p) for p in preds]
    for later, earlier, t in dropped:
        if direct[later]:
            continue   # placed by another link: not cut off
        found, stack, seen = [], [earlier], {earlier, later}
        while stack:
            for a in sorted(direct[stack.pop()]):
                if a in seen:
                    continue
                seen.add(a)
                after = made_after(display[a], display[later])
                if after == "later year" or (after and not direct[a] - {later}):
                    stack.append(a)   # released after the sequel too: look further up
                elif not reaches(direct, a, later):
                    found.append(a)
        for a in found:   # the latest of them: not one that is before another one found
            if not any(reaches(direct, b, a) for b in found if b != a):
                place(preds, via_type, later, a, t)


def reaches(direct: list[set[int]], start: int, target: int) -> bool:
    """``target`` is among ``start``'s earlier entries (any number of links up)."""
    stack, seen = [start], {start}
    while stack:
        for a in direct[stack.pop()]:
            if a == target:
                return True
            if a not in seen:
                seen.add(a)
                stack.append(a)
    return False


def components(neighbours: list[list[int]]) -> list[int]:
    out = [0] * len(neighbours)
    for start in range(1, len(neighbours)):
        if out[start]:
            continue
        out[start], stack = start, [start]
        while stack:
            for b in neighbours[stack.pop()]:
                if not out[b]:
                    out[b] = start
                    stack.append(b)
    return out


def depths(preds: list[set[int]]) -> list[int]:
    """Longest chain of predecessors (Kahn's order); nodes on a cycle keep what finished nodes gave."""
    n = len(preds)
    succ: list[list[int]] = [[] for _ in range(n)]
    for i, ps in enumerate(preds):
        for p in ps:
            succ[p].append(i)
    indeg = [len(p) for p in preds]
    depth = [0] * n
    queue = [i for i in range(n) if indeg[i] == 0]
    while queue:
        i = queue.pop()
        for s in succ[i]:
            depth[s] = max(depth[s], depth[i] + 1)
            indeg[s] -= 1
            if indeg[s] == 0:
                queue.append(s)
    return depth


def entry_point(members: list[int], preds: list[set[int]], display: Sequence[Mapping[str, Any] | None]) -> int:
    roots = [m for m in members if not preds[m]] or members

    def key(m: int) -> tuple:
        e = display[m] or {}
        year = e.get("year")
        known = is_int(year)
        return (not known, year if known else 0, not is_tv(e), m)

    return min(roots, key=key)
