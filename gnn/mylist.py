"""A person's imported list (:mod:`gnn.listimport`) mapped onto a model's catalog, with a counts report.

``public/js/listimport.js`` does the same (``resolveList``); both are tested on the same fixtures.

Ids: a MyAnimeList entry is the catalog anime whose ``idMal`` is its id; an AniList entry the one whose
``idAnilist`` is its id, else (AniList knows it) the one whose ``idMal`` is the media's ``idMal``; a page
export entry is a catalog id. Several catalog anime with one id: the lowest index.

What each entry becomes (each is counted once; the counts add up to ``entries``):

* ``rated``: scored, not plan-to-watch: a rating, converted from 1-10 to the model's scale
  (``low + (r - 1) (high - low) / 9``; unchanged on 1-10) - a history entry, excluded from the list.
  Dropped and low scores stay what they are: the model's only negative evidence.
* ``unscored``: watching / completed / on-hold / dropped without a score: no rating is invented;
  excluded from the list, and it counts as having started its franchise.
* ``planned``: plan-to-watch (even with a score): not a rating and not excluded; the list marks them.
* ``not_in_catalog`` (with up to 5 titles), ``repeated`` (the same anime again), ``invalid`` (no usable
  id, a score outside its format or the model's scale, an unknown status).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from gnn.listimport import ParsedList

SHOWN_MISSING = 5


@dataclass(frozen=True)
class ImportedList:
    """``ratings``: (anime index, rating on the model's scale), oldest first; ``seen`` / ``planned``: indices."""

    format: str
    ratings: tuple[tuple[int, float], ...]
    seen: tuple[int, ...]
    planned: tuple[int, ...]
    counts: dict[str, int] = field(default_factory=dict)
    missing_titles: tuple[str, ...] = ()
    no_ids: tuple[str, ...] = ()  # sources the list uses that the catalog has no ids of (an older export)


def catalog_maps(display: Sequence[Mapping[str, Any] | None]) -> dict[str, dict[int, int]]:
    """``{"mal": idMal -> index, "anilist": idAnilist -> index, "catalog": id -> index}`` (lowest index wins)."""
    maps: dict[str, dict[int, int]] = {"mal": {}, "anilist": {}, "catalog": {}}
    for i, e in enumerate(display):
        if i == 0 or not e:
            continue
        for source, key in (("mal", "idMal"), ("anilist", "idAnilist"), ("catalog", "id")):
            value = e.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                maps[source].setdefault(value, i)
    return maps


def resolve_list(parsed: ParsedList, display: Sequence[Mapping[str, Any] | None], low: float, high: float,
                 maps: dict[str, dict[int, int]] | None = None) -> ImportedList:
    """Map every entry of ``parsed`` onto the catalog of ``display`` (module docstring)."""
    maps = maps or catalog_maps(display)
    counts = dict.fromkeys(("rated", "unscored", "planned", "not_in_catalog"), 0)
    counts.update(entries=len(parsed.entries) + parsed.invalid + parsed.repeated, invalid=parsed.invalid,
                  repeated=parsed.repeated)
    ratings, seen, planned, missing, used = [], [], [], [], set()
    for e in parsed.entries:
        index = maps[e.source].get(e.id)
        if index is None and e.source == "anilist" and e.id_mal is not None:
            index = maps["mal"].get(e.id_mal)
        if index is None:
            counts["not_in_catalog"] += 1
            if len(missing) < SHOWN_MISSING:
                missing.append(e.title or f"{e.source} id {e.id}")
            continue
        rating = e.rating
        if rating is not None and e.source != "catalog":
            rating = low + (rating - 1) * (high - low) / 9
        if index in used:
            counts["repeated"] += 1
        elif e.status == "plan_to_watch":
            counts["planned"] += 1
            planned.append(index)
        elif rating is not None and low <= rating <= high:
            counts["rated"] += 1
            ratings.append((index, rating))
        elif rating is None and e.status is not None:
            counts["unscored"] += 1
            seen.append(index)
        else:
            counts["invalid"] += 1
            continue
        used.add(index)
    no_ids = tuple(sorted({e.source for e in parsed.entries if not maps[e.source]}))
    return ImportedList(parsed.format, tuple(ratings), tuple(seen), tuple(planned), counts, tuple(missing), no_ids)


def report_lines(imported: ImportedList) -> list[str]:
    """The counts report as short lines (the CLI prints them; the page says the same)."""
    c = imported.counts
    lines = [f"read {c['entries']} entries ({imported.format}): {c['rated']} rated, "
             f"{c['unscored']} without a score (left out of recommendations), "
             f"{c['planned']} plan-to-watch (marked, not ratings)"]
    dropped = [f"{c[k]} {label}" for k, label in (("not_in_catalog", "not in this model's catalog"),
                                                 ("repeated", "repeated"), ("invalid", "invalid")) if c[k]]
    if dropped:
        lines.append("skipped: " + ", ".join(dropped))
    names = {"mal": "MyAnimeList", "anilist": "AniList", "catalog": "catalog"}
    if imported.no_ids:
        lines.append(f"this model's catalog has no {' or '.join(names[s] for s in imported.no_ids)} ids "
                     "(exported before they were kept?): re-export the model to read this list")
    if imported.missing_titles:
        more = c["not_in_catalog"] - len(imported.missing_titles)
        lines.append("not in the catalog: " + "; ".join(imported.missing_titles) + (f" and {more} more" if more else ""))
    return lines
