"""Recommendations from an ONNX export folder: numpy + onnxruntime only, the computation the web page runs.

No torch here: loading and scoring read only the files ``anime-gnn export``
wrote (see :mod:`gnn.export.onnx_export`). One ONNX run scores the whole
catalog for one user; filtering, exclusion, ranking and reasons are numpy/Python.

For a known user (``user_id``), "rated" means every rating of that user in the
training data's train/val/test splits, shipped as ``user_ratings.bin`` with
the user table; a history (new user) excludes its own anime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import onnxruntime as ort

from gnn.errors import UsageError
from gnn.export.verify import load_verified, open_session
from gnn.reasons import ReasonBuilder


@dataclass(frozen=True)
class Filters:
    """Candidate filters: formats (e.g. {"TV", "MOVIE"}) and an inclusive year range; None = any."""

    formats: frozenset[str] | None = None
    year_min: int | None = None
    year_max: int | None = None


class OnnxRecommender:
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
        # Per-index columns for vectorized filters (row 0 = padding).
        entries = [e or {} for e in display]
        self._years = np.array([np.nan if e.get("year") is None else e["year"] for e in entries], dtype=float)
        self._formats = np.array([str(e.get("format") or "").upper() for e in entries])

    @classmethod
    def load(cls, model_dir: str | Path, threads: int = 1) -> "OnnxRecommender":
        """Read an export folder; every file is checked first (:mod:`gnn.export.verify`), nothing unverified is used."""
        v = load_verified(model_dir)
        return cls(v.folder, open_session(v, threads), v.metadata, v.mappings, v.display, v.embeddings,
                   v.user_ratings)

    # -- ids and histories -------------------------------------------------------------------------

    def known_user(self, user_id: str) -> int:
        if not self.user_index:
            raise UsageError("this export has no user table (exported for new users only); "
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
        H = self.max_history
        hist = np.zeros((1, H), dtype=np.int64)
        rating = np.zeros((1, H), dtype=np.float32)
        for j, (a, r) in enumerate(list(history)[-H:]):
            hist[0, j], rating[0, j] = a, r
        feed = {"user": np.array([user], dtype=np.int64), "hist_anime": hist, "hist_rating": rating,
                "anime": np.arange(self.n_anime, dtype=np.int64)}
        return self.session.run(["rating"], feed)[0]

    def _allowed(self, filters: Filters | None) -> np.ndarray:
        keep = np.ones(self.n_anime, dtype=bool)
        keep[0] = False
        if filters is None:
            return keep
        if filters.formats:
            keep &= np.isin(self._formats, sorted({f.upper() for f in filters.formats}))
        # NaN (unknown year) compares False: a year filter drops anime without a year.
        if filters.year_min is not None:
            keep &= self._years >= filters.year_min
        if filters.year_max is not None:
            keep &= self._years <= filters.year_max
        return keep

    def _rows(self, order: Iterable[int], values: np.ndarray, key: str, reason: Any = None) -> list[dict]:
        rows = []
        for rank, i in enumerate(order, start=1):
            entry = self.display[i] or {}
            rows.append({"rank": rank, "anime_id": self.anime_ids[i], "anime_index": int(i),
                         "title": entry.get("title"), key: round(float(values[i]), 4),
                         "format": entry.get("format"), "year": entry.get("year"),
                         **({"reason": reason(i)} if reason else {})})
        return rows

    def recommend(self, user_id: str | None = None, history: Iterable[tuple[Any, float]] | None = None,
                  k: int = 10, exclude_rated: bool = True, filters: Filters | None = None) -> list[dict]:
        """Top ``k`` anime for a known user (``user_id``) or a new user (``history`` of ``(anime_id, rating)``).

        Each row: rank, anime_id, anime_index, title, predicted_rating, format, year, reason.
        """
        if user_id is not None and history is not None:
            raise UsageError("give either a known user id or a history of ratings, not both")
        if user_id is not None:
            user = self.known_user(user_id)
            rated = self.rated_by(user)
            # Their own ratings feed the franchise term of a model that has one (ignored otherwise).
            scores = self.score(user=user, history=list(rated.items()))
        else:
            pairs = self.history_indices(history or [])
            rated = dict(pairs)
            scores = self.score(history=pairs)
        keep = self._allowed(filters)
        if exclude_rated and rated:
            keep[[a for a in rated if 0 < a < self.n_anime]] = False
        candidates = np.flatnonzero(keep)
        # Highest score first; ties by anime index, so the order is reproducible.
        order = candidates[np.lexsort((candidates, -scores[candidates]))][:max(0, k)]
        reason = ReasonBuilder(self.display, rated, self.low, self.high)
        return self._rows(order, scores, "predicted_rating", reason)

    def similar(self, anime_id: Any, k: int = 10) -> list[dict]:
        """"More like this": the ``k`` nearest anime by cosine of ``item_embeddings.bin``."""
        index = self.anime_index.get(str(anime_id))
        if index is None:
            raise UsageError(f"unknown anime id {anime_id!r}")
        sims = self.embeddings @ self.embeddings[index]
        sims[0], sims[index] = -np.inf, -np.inf
        order = np.argsort(-sims, kind="stable")[:max(0, k)]
        return self._rows(order, sims, "similarity")
