"""Which catalog anime a list may show: format, airing status, year range and adult titles (numpy only).

``public/js/recs.js``'s ``passes`` applies the same rules in the page (``tests/web/test_recs_js.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

# Genres that mark a title as adult (18+): MyAnimeList's explicit genres; AniList's isAdult titles carry "Hentai".
ADULT_GENRES = frozenset({"Hentai", "Erotica"})


@dataclass(frozen=True)
class Filters:
    """Candidate filters: formats (e.g. {"TV", "MOVIE"}), statuses (FINISHED, RELEASING,
    NOT_YET_RELEASED) and an inclusive year range; None = any. An anime of unknown status or year
    fails a status or year filter. Adult titles (a genre in :data:`ADULT_GENRES`) are left out unless
    ``adult``, as MyAnimeList and AniList hide them by default."""

    formats: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    year_min: int | None = None
    year_max: int | None = None
    adult: bool = False


class CatalogColumns:
    """The fields the filters read, one array per field by anime index, from ``anime_display.json``
    entries (entry 0, the padding, passes nothing)."""

    def __init__(self, display: Sequence[Mapping[str, Any] | None]) -> None:
        entries = [e or {} for e in display]
        self.years = np.array([np.nan if e.get("year") is None else e["year"] for e in entries], dtype=float)
        self.formats = np.array([str(e.get("format") or "").upper() for e in entries])
        self.statuses = np.array([str(e.get("status") or "").upper() for e in entries])
        self.adult = np.array([bool(ADULT_GENRES.intersection(e.get("genres") or ())) for e in entries])

    def allowed(self, filters: Filters | None = None) -> np.ndarray:
        """bool ``[n]``: the anime that pass ``filters`` (default :class:`Filters`: adult titles out)."""
        filters = filters or Filters()
        keep = np.arange(len(self.years)) > 0
        if not filters.adult:
            keep &= ~self.adult
        if filters.formats:
            keep &= np.isin(self.formats, sorted({f.upper() for f in filters.formats}))
        if filters.statuses:
            keep &= np.isin(self.statuses, sorted({s.upper() for s in filters.statuses}))
        # NaN (unknown year) compares False: a year filter drops anime without a year.
        if filters.year_min is not None:
            keep &= self.years >= filters.year_min
        if filters.year_max is not None:
            keep &= self.years <= filters.year_max
        return keep
