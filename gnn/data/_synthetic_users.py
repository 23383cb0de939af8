"""Synthetic users: latent tastes, popularity-driven discovery, franchise continuation.

Each user belongs to one of a few taste archetypes (weights over genres and
tags, so users of one archetype agree: collaborative signal) plus personal
noise, a few favourite studios and a personal rating bias. A user discovers
anime in proportion to ``popularity ** a * exp(taste)``, rates each with
``mean + bias + quality + taste + noise`` on 1..10, and after liking an entry
goes on to its sequel (rarely after disliking it), side stories and remakes.
That last step is what gives the relation edges real predictive value.

Users are simulated one after another from one random stream and handed out in
chunks of consecutive users (:func:`user_chunks`), so a generator of any size
holds one chunk of ratings at a time and the chunk size never changes the result.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Iterator

import numpy as np
import pandas as pd
from tqdm import tqdm

from gnn.data._synthetic_catalog import TAG_NAMES, SyntheticCatalog
from gnn.data._synthetic_names import GENRES

if TYPE_CHECKING:
    from gnn.data.synthetic import SampleConfig

# How readily a direct pick lands on each kind of entry. Later seasons and
# extras are mostly reached by continuing a franchise, not discovered cold.
_ENTRY_FACTOR = {"main": 0.1, "movie": 0.1, "side": 0.08, "summary": 0.05, "spin": 0.4,
                 "alt": 0.6, "music": 0.05}

CHUNK_USERS = 5_000   # users simulated before their ratings are handed out


class _Sparse:
    """A row-normalized entry x feature matrix as (row, column, value) triplets: ``x @ w`` costs the
    non-zeros, not rows x features (a 28k-anime catalog has ~3 tags per anime out of 39)."""

    def __init__(self, n_rows: int, rows: list[int], cols: list[int], vals: list[float], n_cols: int) -> None:
        self.n_rows, self.n_cols = n_rows, n_cols
        self.row, self.col, self.val = np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), \
            np.array(vals, dtype=np.float64)

    def __matmul__(self, w: np.ndarray) -> np.ndarray:
        return np.bincount(self.row, weights=self.val * w[self.col], minlength=self.n_rows)

    def column_sums(self) -> np.ndarray:
        return np.bincount(self.col, weights=self.val, minlength=self.n_cols)


def item_features(cat: SyntheticCatalog) -> tuple[_Sparse, _Sparse, _Sparse]:
    """Row-normalized genre, tag (rank-weighted, unit norm) and main-studio matrices, one row per entry."""
    n = len(cat.entries)
    parts: dict[str, tuple[list[int], list[int], list[float]]] = {k: ([], [], []) for k in "gts"}
    for i, e in enumerate(cat.entries):
        ranks = {}
        for tag, rank in e.tags:           # a repeated tag keeps its last rank, as the dense matrix did
            ranks[tag] = rank / 100.0
        norm = max(1e-9, float(np.linalg.norm(np.array(list(ranks.values()), dtype=np.float64))))
        studios = sorted(set(e.studios))
        for key, items in (("g", [(g, 1.0 / np.sqrt(len(e.genres))) for g in sorted(set(e.genres))]),
                           ("t", [(t, r / norm) for t, r in sorted(ranks.items())]),
                           ("s", [(s, 1.0 / len(e.studios)) for s in studios])):
            rows, cols, vals = parts[key]
            for col, val in items:
                rows.append(i), cols.append(col), vals.append(val)
    return (_Sparse(n, *parts["g"], len(GENRES)), _Sparse(n, *parts["t"], len(TAG_NAMES)),
            _Sparse(n, *parts["s"], cat.n_studios))


def _walk(order: np.ndarray, complete: bool, released: np.ndarray, follow: list, coin: np.ndarray,
          keen: np.ndarray, n_u: int) -> list[int] | None:
    """The anime one user watches, in order: the next released unseen anime by ``order``, unless a
    follow-up of a watched one comes first (taken when ``coin[j] < strength * keen[i]``, ``keen`` by the
    rating given to ``i``); stops at ``n_u`` anime or when none is left. ``order`` may be only the head
    of the full order (``complete`` False): None when the walk would need more of it."""
    n = len(order)
    seen: set[int] = set()
    picked: list[int] = []
    queue: deque[int] = deque()
    pos = 0
    while len(picked) < n_u:
        if queue:
            i = queue.popleft()
        else:
            while pos < n and (int(order[pos]) in seen or not released[order[pos]]):
                pos += 1
            if pos == n:
                if not complete:
                    return None
                break
            i = int(order[pos])
        if i in seen:
            continue
        seen.add(i)
        picked.append(i)
        for j, strength in follow[i]:
            if released[j] and j not in seen and coin[j] < strength * keen[i]:
                queue.append(j)
    return picked


def _watch_order(key: np.ndarray, n_u: int) -> tuple[np.ndarray, bool]:
    """``argsort(-key, stable)``, or just its head when that is certainly enough for a walk of ``n_u``
    picks (each position a walk passes is a pick or an anime already picked from the queue, so
    ``2 n_u`` positions suffice). The head is exactly the stable order's: no tie at its boundary."""
    n = len(key)
    m = 2 * n_u + 16
    if m < n:
        head = np.argpartition(-key, m - 1)[:m]
        kth = key[head].min()
        if np.isfinite(kth) and np.count_nonzero(key >= kth) == m:
            return head[np.lexsort((head, -key[head]))], False
    return np.argsort(-key, kind="stable"), True


class _Population:
    """What every user draws from: item features, archetypes, discovery weights (one per catalog)."""

    def __init__(self, cat: SyntheticCatalog, cfg: SampleConfig, rng: np.random.Generator) -> None:
        entries = cat.entries
        self.cfg, self.n = cfg, len(entries)
        self.g, self.t, self.s = item_features(cat)
        self.quality = np.array([e.quality for e in entries])
        self.released = np.array([e.year <= cfg.end_year for e in entries])   # nobody rates unaired anime
        factor = np.array([1.0 if e.role == "main" and e.season == 1 else _ENTRY_FACTOR[e.role] for e in entries])
        self.base = cfg.popularity_exponent * np.log([e.pop for e in entries]) + 0.3 * self.quality + np.log(factor)
        self.base[~self.released] = -np.inf
        self.follow = [e.follow for e in entries]
        self.anime_ids = np.array([e.id for e in entries], dtype=np.int64)
        self.n_released = int(self.released.sum())
        # Taste archetypes: shared preferences make co-rating patterns informative.
        self.arch_g = rng.normal(0.0, 1.0, size=(cfg.n_archetypes, self.g.n_cols))
        self.arch_t = rng.normal(0.0, 0.7, size=(cfg.n_archetypes, self.t.n_cols))
        studio_p = self.s.column_sums() + 1.0
        self.studio_p = studio_p / studio_p.sum()
        # Probability of continuing to a follow-up, by the rating given (index = rating).
        self.keen = 1.0 / (1.0 + np.exp(-1.3 * (np.arange(11) - 6.5)))

    def user(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One user's (entry indices, ratings), in watch order; draws from ``rng`` in a fixed sequence."""
        cfg, n, n_studios = self.cfg, self.n, self.s.n_cols
        k = int(rng.integers(cfg.n_archetypes))
        w_s = np.zeros(n_studios)
        n_fav = min(int(rng.integers(0, 4)), n_studios)
        fav = rng.choice(n_studios, size=n_fav, replace=False, p=self.studio_p)
        w_s[fav] = rng.normal(1.0, 0.3, size=len(fav))
        taste = (self.g @ (self.arch_g[k] + rng.normal(0.0, 0.6, size=self.g.n_cols))
                 + self.t @ (self.arch_t[k] + rng.normal(0.0, 0.5, size=self.t.n_cols)) + self.s @ w_s)
        taste = (taste - taste.mean()) / (taste.std() + 1e-9)
        bias = rng.normal(0.0, cfg.user_bias_sd)
        n_u = int(np.clip(round(rng.lognormal(np.log(cfg.ratings_median), cfg.ratings_sigma)),
                          cfg.ratings_min, min(cfg.ratings_max, self.n_released)))
        # Gumbel-max trick: sorting by log-weight + Gumbel noise is sampling without replacement.
        key = self.base + cfg.taste_pick_weight * taste + rng.gumbel(size=n)
        rating = np.clip(np.rint(cfg.mean_rating + bias + cfg.quality_weight * self.quality
                                 + cfg.taste_weight * taste + rng.normal(0.0, cfg.rating_noise, size=n)),
                         1, 10).astype(np.int64)
        coin = rng.random(n)
        order, complete = _watch_order(key, n_u)
        picked = _walk(order, complete, self.released, self.follow, coin, self.keen[rating], n_u)
        if picked is None:   # the head was not enough (cannot happen, see _watch_order): the full order
            picked = _walk(np.argsort(-key, kind="stable"), True, self.released, self.follow, coin,
                           self.keen[rating], n_u)
        idx = np.array(picked, dtype=np.int64)
        return idx, rating[idx]


def user_label_width(total_users: int) -> int:
    """Digits of the user ids ``u000001``, ... (at least 6)."""
    return max(6, len(str(total_users)))


def _frame(first: int, users: list[np.ndarray], items: list[np.ndarray], scores: list[np.ndarray],
           total_users: int) -> pd.DataFrame:
    """``user_id, anime_id, rating`` sorted by user, anime; ``users`` are offsets from user ``first``."""
    user = np.concatenate(users) if users else np.zeros(0, dtype=np.int64)
    anime = np.concatenate(items) if items else np.zeros(0, dtype=np.int64)
    score = np.concatenate(scores) if scores else np.zeros(0, dtype=np.int64)
    order = np.lexsort((anime, user))
    width = user_label_width(total_users)
    labels = np.array([f"u{first + i + 1:0{width}d}" for i in range(len(users))], dtype=object)
    return pd.DataFrame({"user_id": labels[user[order]] if len(user) else np.array([], dtype=object),
                         "anime_id": anime[order], "rating": score[order]})


def user_chunks(cat: SyntheticCatalog, cfg: SampleConfig, rng: np.random.Generator, progress: bool = False,
                chunk_users: int = CHUNK_USERS) -> Iterator[pd.DataFrame]:
    """Simulate ``cfg.total_users`` users; yield ``user_id, anime_id, rating`` frames of ``chunk_users``
    consecutive users each, sorted by user, anime (so their concatenation is too)."""
    if chunk_users < 1:
        raise ValueError(f"chunk_users must be at least 1, got {chunk_users}")
    pop = _Population(cat, cfg, rng)
    total = cfg.total_users
    with tqdm(total=total, disable=not progress, desc="synthetic users", unit="user") as bar:
        for first in range(0, total, chunk_users):
            users, items, scores = [], [], []
            for u in range(min(chunk_users, total - first)):
                idx, rating = pop.user(rng)
                users.append(np.full(len(idx), u, dtype=np.int64))
                items.append(pop.anime_ids[idx])
                scores.append(rating)
            bar.update(len(users))
            yield _frame(first, users, items, scores, total)


def generate_ratings(cat: SyntheticCatalog, cfg: SampleConfig, rng: np.random.Generator,
                     progress: bool = False) -> pd.DataFrame:
    """All of :func:`user_chunks` as one frame (small configs: tests, the embedded sample)."""
    return pd.concat(list(user_chunks(cat, cfg, rng, progress)), ignore_index=True)
