"""Recommendations from an ONNX export folder: numpy + onnxruntime only, the computation the web page runs.

No torch here: loading and scoring read only the files ``anime-gnn export``
wrote (see :mod:`gnn.export.onnx_export`). One ONNX run scores the whole
catalog for one user; filtering, exclusion, ranking and reasons are numpy/Python.

For a known user (``user_id``), "rated" means every rating of that user in the
training data's train/val/test splits, shipped as ``user_ratings.bin`` with
the user table; a history (new user) excludes its own anime.

The list is ordered by the export's ranking output ``score`` when it has one, else by the
predicted ``rating`` (which is always what is shown), and grouped into one card per franchise
by :mod:`gnn.franchise` (``group=False`` gives the raw list). "Continue your series"
(:meth:`OnnxRecommender.continue_series`) lists the next entry of each franchise the user started.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import onnxruntime as ort

from gnn.discover import check_weight, discounted, log_ratings
from gnn.errors import UsageError
from gnn.export.verify import load_verified, open_session
from gnn.filters import CatalogColumns, Filters
from gnn.franchise import Franchises, continue_list, franchise_list, next_candidates
from gnn.lookups import Lookups
from gnn.reasons import ReasonBuilder, card_reason
from gnn.result_rows import anime_rows, mark_planned


class OnnxRecommender(Lookups):
    """A loaded export. Build with :meth:`load`."""

    def __init__(self, folder: Path, session: ort.InferenceSession, metadata: dict, mappings: dict,
                 display: list, embeddings: np.ndarray, user_ratings: tuple[np.ndarray, ...] | None) -> None:
        self.folder, self.session, self.metadata = folder, session, metadata
        self.display, self.embeddings, self.user_ratings = display, embeddings, user_ratings
        self.anime_ids: list = mappings["anime"]["index_to_id"]
        self.anime_index: dict[str, int] = mappings["anime"]["id_to_index"]
        self.user_index: dict[str, int] = mappings.get("user", {}).get("id_to_index", {})
        self.n_anime = int(metadata["n_anime"])
        self.max_history = int(metadata["max_history"])
        self.low = float(metadata["rating_scale"]["low"])
        self.high = float(metadata["rating_scale"]["high"])
        self.version = str(metadata["model_version"])
        self._columns = CatalogColumns(display)   # what the filters read (gnn.filters)
        self._log_ratings = log_ratings(display)   # what discover discounts (gnn.discover)
        # The ranking output, when the export has one (else the predicted rating ranks); an export
        # without a "user" input scores every user, known or new, from their ratings.
        self.order_output = "score" if "score" in {o.name for o in session.get_outputs()} else None
        self.user_input = "user" in {i.name for i in session.get_inputs()}
        # A history input of free length (the GNN's export) gets as many slots as the history has entries.
        self.history_dynamic = any(i.name == "hist_anime" and isinstance(i.shape[1], str) for i in session.get_inputs())
        self._franchises: Franchises | None = None

    @property
    def franchises(self) -> Franchises:
        if self._franchises is None:
            self._franchises = Franchises.from_display(self.display)
        return self._franchises

    @classmethod
    def load(cls, model_dir: str | Path, threads: int = 1) -> "OnnxRecommender":
        """Read an export folder; every file is checked first (:mod:`gnn.export.verify`), nothing unverified is used."""
        v = load_verified(model_dir)
        return cls(v.folder, open_session(v, threads), v.metadata, v.mappings, v.display, v.embeddings,
                   v.user_ratings)

    # -- ids and histories -------------------------------------------------------------------------

    def known_user(self, user_id: str) -> int:
        if not self.user_index or (not self.user_input and self.user_ratings is None):
            raise UsageError("this export has no known users (exported for new users only); "
                             "give the user's ratings as a history instead")
        index = self.user_index.get(str(user_id))
        if index is None:
            raise UsageError(f"unknown user id {user_id!r} (not a training user of this model)")
        return int(index)

    def history_indices(self, history: Iterable[tuple[Any, float]]) -> list[tuple[int, float]]:
        """``[(anime_id, rating)]`` -> ``[(anime_index, rating)]``; one error listing every bad entry.

        A repeated anime keeps its last rating (and its last position). Every entry counts as rated;
        :meth:`score` reads the last ``max_history`` of them.
        """
        out: dict[int, float] = {}
        unknown, bad = [], []
        for anime_id, rating in history:
            index = self.anime_index.get(str(anime_id))
            if index is None:
                unknown.append(str(anime_id))
                continue
            r = float(rating)
            if not (math.isfinite(r) and self.low <= r <= self.high):
                bad.append(f"{anime_id}:{rating}")
                continue
            out.pop(index, None)
            out[index] = r
        if unknown:
            raise UsageError(f"unknown anime id(s) in the ratings (not in this model's catalog): {', '.join(unknown)}")
        if bad:
            raise UsageError(f"rating(s) outside the {self.low:g}-{self.high:g} scale: {', '.join(bad)}")
        return list(out.items())

    def rated_by(self, user: int) -> dict[int, float]:
        """What known user ``user`` rated (anime index -> rating); empty without user_ratings.bin."""
        if self.user_ratings is None:
            return {}
        offsets, anime, rating = self.user_ratings
        lo, hi = int(offsets[user]), int(offsets[user + 1])
        return dict(zip(anime[lo:hi].tolist(), rating[lo:hi].tolist()))

    # -- scoring -----------------------------------------------------------------------------------

    def score(self, user: int = 0, history: Sequence[tuple[int, float]] = ()) -> np.ndarray:
        """Predicted ratings ``[n_anime]`` (position = anime index; 0 is the padding anime).

        ``user``: a known user index (>= 1), or 0 to score from ``history``, a list of
        ``(anime_index, rating)`` on the original scale; beyond ``max_history`` entries the
        last ones are used (the list's order is taken as oldest first).
        """
        return self.scores(user, history)[0]

    def scores(self, user: int = 0, history: Sequence[tuple[int, float]] = (),
               candidates: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(rating, order_score)``, each ``[n_anime]``: what is shown and what ranks (:meth:`score`).

        ``order_score`` is the export's ``score`` output, or the rating itself when it has none.
        ``candidates`` (anime indices; default every anime) are the ones scored; an export that rates
        only its best candidates (``rank_candidates``) leaves NaN ratings and -inf scores elsewhere,
        as do anime that were not candidates.
        """
        kept = list(history)[-self.max_history:]
        H = max(1, len(kept)) if self.history_dynamic else self.max_history
        hist = np.zeros((1, H), dtype=np.int64)
        rating = np.zeros((1, H), dtype=np.float32)
        for j, (a, r) in enumerate(kept):
            hist[0, j], rating[0, j] = a, r
        anime = np.arange(self.n_anime, dtype=np.int64) if candidates is None else np.asarray(candidates, np.int64)
        full_rating = np.full(self.n_anime, np.nan, dtype=np.float32)
        full_order = np.full(self.n_anime, -np.inf, dtype=np.float32)
        if len(anime) == 0:  # nothing to score (every anime rated or filtered out)
            return full_rating, full_order
        feed = {"hist_anime": hist, "hist_rating": rating, "anime": anime}
        if self.user_input:
            feed["user"] = np.array([user], dtype=np.int64)
        outputs = ["rating"] + ([self.order_output] if self.order_output else [])
        got = self.session.run(outputs, feed)
        full_rating[anime] = got[0]
        full_order[anime] = got[1] if self.order_output else got[0]
        return full_rating, full_order

    def rate_missing(self, rating: np.ndarray, anime: Iterable[int], user: int,
                     history: Sequence[tuple[int, float]]) -> None:
        """Fill NaN ratings of ``anime`` in place (anime shown but not among the scored candidates)."""
        missing = [int(a) for a in dict.fromkeys(anime) if 0 < int(a) < self.n_anime and np.isnan(rating[int(a)])]
        limit = int(self.metadata.get("rank_candidates") or len(missing) or 1)
        for start in range(0, len(missing), limit):
            part = np.array(missing[start:start + limit], dtype=np.int64)
            rating[part] = self.scores(user, history, part)[0][part]

    def _rows(self, order: Iterable[int], values: np.ndarray, key: str, reasons: Iterable[str] | None = None,
              ranking: np.ndarray | None = None) -> list[dict]:
        return anime_rows(order, values, key, self.display, self.anime_ids, reasons, ranking)

    def _known_ids(self, ids: Iterable[Any], what: str) -> list[int]:
        index = [(a, self.anime_index.get(str(a))) for a in ids]
        unknown = [str(a) for a, i in index if i is None]
        if unknown:
            raise UsageError(f"unknown anime id(s) in {what} (not in this model's catalog): {', '.join(unknown)}")
        return [int(i) for _, i in index]

    def _request(self, user_id: str | None, history: Iterable[tuple[Any, float]] | None, seen: Iterable[Any],
                 filters: Filters | None, exclude_rated: bool
                 ) -> tuple[int, list[tuple[int, float]], dict[int, float], dict[int, float | None], np.ndarray]:
        """``(user, pairs, rated, on_list, keep)`` of one request: the user input of the export (0 = scored
        from ``pairs``), the history as ``(anime index, rating)``, its ratings, everything on the person's
        list (``seen`` without a rating), and the anime that may be listed."""
        if user_id is not None and history is not None:
            raise UsageError("give either a known user id or a history of ratings, not both")
        if user_id is not None:
            user = self.known_user(user_id)
            rated = self.rated_by(user)
            pairs = list(rated.items())   # a known user is their ratings (ordered: the model keeps the last)
            user = user if self.user_input else 0
        else:
            pairs = self.history_indices(history or [])
            rated, user = dict(pairs), 0
        on_list: dict[int, float | None] = {a: None for a in self._known_ids(seen, "the list")}
        on_list.update(rated)
        keep = self._columns.allowed(filters)
        if exclude_rated and on_list:
            keep[[a for a in on_list if 0 < a < self.n_anime]] = False
        return user, pairs, rated, on_list, keep

    def _mark_planned(self, rows: list[dict], planned: Iterable[Any]) -> list[dict]:
        return mark_planned(rows, set(self._known_ids(planned, "the plan-to-watch list")))

    def recommend(self, user_id: str | None = None, history: Iterable[tuple[Any, float]] | None = None,
                  k: int = 10, exclude_rated: bool = True, filters: Filters | None = None,
                  group: bool = True, seen: Iterable[Any] = (), planned: Iterable[Any] = (),
                  discover: float = 0.0) -> list[dict]:
        """Top ``k`` anime for a known user (``user_id``) or a new user (``history`` of ``(anime_id, rating)``).

        Each row: rank, anime_id, anime_index, title, predicted_rating (ranking_score too when the
        export ranks by its own output), format, year, reason. ``group`` (the default): one row per
        franchise (:func:`gnn.franchise.franchise_list`), each also with ``kind``, ``series_size`` and
        ``other_entries`` (the franchise's other listed anime, as rows without rank and reason);
        ``group=False``: the raw list, highest order score first. ``seen``: anime ids on the person's
        list without a rating (left out like rated ones, and they start their franchise); ``planned``:
        plan-to-watch anime ids, not ratings, marked ``"planned": true`` on their rows. ``discover`` > 0
        leans the order away from much-rated anime (:mod:`gnn.discover`; ``ranking_score`` is then the discounted one).
        """
        request, rating, order = self._scored(user_id, history, seen, filters, exclude_rated, discover)
        return self._mark_planned(self._ranked(request, rating, order, k, group), planned)

    def _scored(self, user_id: str | None, history: Iterable[tuple[Any, float]] | None, seen: Iterable[Any],
                filters: Filters | None, exclude_rated: bool, discover: float = 0.0) -> tuple[tuple, np.ndarray, np.ndarray]:
        """``(request, rating, order)``: :meth:`_request`'s tuple and :meth:`scores` of its allowed anime, the
        order discounted by ``discover`` (:func:`gnn.discover.discounted`)."""
        if check_weight(discover) and self.order_output is None:   # a bad weight fails before the scoring
            raise UsageError("discover reorders the ranking score, and this export has none (it ranks by the "
                             "predicted rating): use a GNN export")
        request = self._request(user_id, history, seen, filters, exclude_rated)
        user, pairs, _, _, keep = request
        rating, order = self.scores(user=user, history=pairs, candidates=np.flatnonzero(keep))
        return request, rating, discounted(order, self._log_ratings, discover)

    def _ranked(self, request: tuple, rating: np.ndarray, order: np.ndarray, k: int, group: bool) -> list[dict]:
        """:meth:`recommend`'s rows from one request's scores (``rating`` gains the shown anime it lacked)."""
        user, pairs, rated, on_list, keep = request
        reason = ReasonBuilder(self.display, rated, self.low, self.high)
        ranking = order if self.order_output is not None else None
        if not group:
            candidates = np.flatnonzero(keep & np.isfinite(order))
            # Highest score first; ties by anime index, so the order is reproducible.
            top = candidates[np.lexsort((candidates, -order[candidates]))][:max(0, k)]
            return self._rows(top, rating, "predicted_rating", map(reason, top), ranking)
        cards = franchise_list(order, on_list, self.franchises, keep, max(0, k))
        # An entry point or next entry may lie outside the candidates the model rated: rate it now.
        self.rate_missing(rating, [a for c in cards for a in (c.anime, *c.others)], user, pairs)
        why = [card_reason(c, self.franchises, reason.title, on_list, reason(c.anime), reason.relation(c.anime),
                           reason.personal(c.anime)) for c in cards]
        rows = self._rows([c.anime for c in cards], rating, "predicted_rating", why, ranking)
        for row, card in zip(rows, cards):
            others = self._rows(card.others, rating, "predicted_rating", None, ranking)
            row.update(kind=card.kind, series_size=card.size,
                       other_entries=[{k: v for k, v in o.items() if k != "rank"} for o in others])
        return rows

    def continue_series(self, user_id: str | None = None, history: Iterable[tuple[Any, float]] | None = None,
                        k: int = 10, filters: Filters | None = None, seen: Iterable[Any] = (),
                        planned: Iterable[Any] = ()) -> list[dict]:
        """"Continue your series": the next entry of each franchise the user started (rated or seen), the
        ``k`` with the best predicted rating (:func:`gnn.franchise.continue_list`). Arguments and rows as
        :meth:`recommend`'s (grouped, without ``other_entries``); ``kind`` is always ``"next"``."""
        request = self._request(user_id, history, seen, filters, True)
        rating = np.full(self.n_anime, np.nan, dtype=np.float32)
        return self._mark_planned(self._next_rows(request, rating, k), planned)

    def _next_rows(self, request: tuple, rating: np.ndarray, k: int) -> list[dict]:
        """:meth:`continue_series`' rows; ``rating`` gains the next entries it lacked (NaN)."""
        user, pairs, rated, on_list, keep = request
        self.rate_missing(rating, next_candidates(on_list, self.franchises, keep), user, pairs)
        cards = continue_list(rating, on_list, self.franchises, keep, k)
        reason = ReasonBuilder(self.display, rated, self.low, self.high)
        why = [card_reason(c, self.franchises, reason.title, on_list, "") for c in cards]
        rows = self._rows([c.anime for c in cards], rating, "predicted_rating", why)
        for row, card in zip(rows, cards):
            row.update(kind=card.kind, series_size=card.size)
        return rows

    def recommend_with_next(self, user_id: str | None = None, history: Iterable[tuple[Any, float]] | None = None,
                            k: int = 10, exclude_rated: bool = True, filters: Filters | None = None,
                            seen: Iterable[Any] = (), planned: Iterable[Any] = (),
                            discover: float = 0.0) -> tuple[list[dict], list[dict]]:
        """``(rows, next_rows)`` from one scoring of the catalog: :meth:`recommend`'s grouped list, and the
        next entries (:meth:`continue_series`' rows, best predicted rating first) of every started franchise
        that the list shows neither as a card nor as a card's other entry."""
        request, rating, order = self._scored(user_id, history, seen, filters, exclude_rated, discover)
        rows = self._ranked(request, rating, order, k, True)
        listed = {r["anime_index"] for r in rows} | {o["anime_index"] for r in rows for o in r["other_entries"]}
        next_rows = [r for r in self._next_rows(request, rating, self.n_anime) if r["anime_index"] not in listed]
        for rank, row in enumerate(next_rows, start=1):
            row["rank"] = rank
        return self._mark_planned(rows, planned), self._mark_planned(next_rows, planned)
