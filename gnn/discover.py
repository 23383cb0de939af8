"""Discover: a list that leans away from what everybody watches, by the user's choice (numpy only).

The model orders anime by how likely this user is to watch and like them, which for a short history
is close to the popularity chart (benchmarks/README "Discover"). ``discover`` takes
``weight x log(1 + n)`` off each anime's order score, ``n`` the anime's training ratings
(``anime_display.json``'s ``ratings``). The "will watch" part of the score is a log-probability that
grows with ``log n`` like the chart does, so weight 1 ranks by how much more likely this user is than
the average one to watch an anime (a lift), and weights between 0 and 1 mix the two. It reorders the
anime the model scored (the export rates its ``rank_candidates`` best by "will watch"), so it never
lists an anime the model did not consider. Weight 0 is the model's own order. Only an export with a
ranking score (the GNN's) takes a weight above 0 (:meth:`gnn.inference.OnnxRecommender.recommend`).

``public/js/recs.js``'s ``discounted`` does the same in the page (``tests/web/test_recs_js.py``).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from gnn.errors import UsageError


def log_ratings(display: Sequence[Mapping[str, Any] | None]) -> np.ndarray | None:
    """``[n]`` float32 ``log(1 + training ratings)`` of each entry (0 for the padding entry), or None when
    an entry does not say (an export written before the count was exported)."""
    counts = [0 if i == 0 else (e or {}).get("ratings") for i, e in enumerate(display)]
    if any(c is None for c in counts):
        return None
    return np.log1p(np.asarray(counts, dtype=np.float64)).astype(np.float32)


def check_weight(weight: float) -> float:
    """``weight`` as a float; a UsageError unless it is a finite number >= 0."""
    w = float(weight)
    if not (math.isfinite(w) and w >= 0):
        raise UsageError(f"discover must be a number >= 0 (0 = the model's order), got {weight!r}")
    return w


def discounted(order: np.ndarray, log_n: np.ndarray | None, weight: float) -> np.ndarray:
    """``order - weight * log_n`` (a new array; -inf, anime not scored, stays -inf). Weight 0: ``order``
    itself. ``log_n`` None (:func:`log_ratings` of an older export) with a weight > 0: a UsageError."""
    w = check_weight(weight)
    if w == 0:
        return order
    if log_n is None:
        raise UsageError("this export does not carry the anime's rating counts that discover needs: "
                         "export the model again with this version of anime-gnn")
    return (order - np.float32(w) * log_n).astype(order.dtype, copy=False)
