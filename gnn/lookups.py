"""Look anime up in a loaded export: the web page's title search and "More like this".

A mixin of :class:`gnn.inference.OnnxRecommender`; it reads the recommender's ``display``,
``anime_index``, ``embeddings`` and catalog columns, and lists rows the way its lists do.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from gnn.errors import UsageError
from gnn.filters import CatalogColumns
from gnn.title_search import TitleIndex


class Lookups:
    """``titles``, ``search``, ``find`` and ``similar`` of an :class:`~gnn.inference.OnnxRecommender`."""

    # What the recommender provides (set in its __init__; _rows lists anime as its lists do).
    display: list
    anime_index: dict[str, int]
    embeddings: np.ndarray
    _columns: CatalogColumns
    _rows: Callable[..., list[dict]]
    _titles: TitleIndex | None = None

    @property
    def titles(self) -> TitleIndex:
        """The page's title search over this export (:mod:`gnn.title_search`), built on first use."""
        if self._titles is None:
            self._titles = TitleIndex(self.display)
        return self._titles

    def search(self, query: str, k: int = 12) -> list[dict]:
        """Anime whose titles match ``query``, best match first, with each one's number of training ratings."""
        order = self.titles.search(query, k)
        counts = np.zeros(len(self.display))
        counts[order] = [float(self.display[i].get("ratings") or 0) for i in order]
        return self._rows(order, counts, "ratings")

    def find(self, anime: Any) -> int:
        """The anime index of a catalog id, else of the best title match (:meth:`search`)."""
        index = self.anime_index.get(str(anime).strip())
        if index is None:
            hits = self.titles.search(str(anime), 1)
            if not hits:
                raise UsageError(f"no anime in this model's catalog has the id or a title matching {str(anime)!r}")
            index = hits[0]
        return index

    def similar(self, anime_id: Any, k: int = 10) -> list[dict]:
        """"More like this": the ``k`` nearest anime by cosine of ``item_embeddings.bin`` (adult titles only
        for an adult one)."""
        index = self.anime_index.get(str(anime_id))
        if index is None:
            raise UsageError(f"unknown anime id {anime_id!r}")
        sims = self.embeddings @ self.embeddings[index]
        sims[0], sims[index] = -np.inf, -np.inf
        adult = self._columns.adult
        sims[adult & ~adult[index]] = -np.inf      # adult titles only next to an adult one
        order = np.argsort(-sims, kind="stable")[:max(0, k)]
        return self._rows(order, sims, "similarity")
