"""Synthetic users: latent tastes, popularity-driven discovery, franchise continuation.

Each user belongs to one of a few taste archetypes (weights over genres and
tags, so users of one archetype agree: collaborative signal) plus personal
noise, a few favourite studios and a personal rating bias. A user discovers
anime in proportion to ``popularity ** a * exp(taste)``, rates each with
``mean + bias + quality + taste + noise`` on 1..10, and after liking an entry
goes on to its sequel (rarely after disliking it), side stories and remakes.
That last step is what gives the relation edges real predictive value.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

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


def item_features(cat: SyntheticCatalog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-normalized genre, tag (rank-weighted) and main-studio matrices, one row per entry."""
    n = len(cat.entries)
    g = np.zeros((n, len(GENRES)))
    t = np.zeros((n, len(TAG_NAMES)))
    s = np.zeros((n, cat.n_studios))
    for i, e in enumerate(cat.entries):
        g[i, e.genres] = 1.0 / np.sqrt(len(e.genres))
        for tag, rank in e.tags:
            t[i, tag] = rank / 100.0
        t[i] /= max(1e-9, float(np.linalg.norm(t[i])))
        s[i, e.studios] = 1.0 / len(e.studios)
    return g, t, s


def _walk(order: np.ndarray, released: np.ndarray, follow: list, seen: np.ndarray, coin: np.ndarray,
          keen: np.ndarray, n_u: int) -> list[int]:
    """The anime one user watches, in order: the next released unseen anime by ``order``, unless a
    follow-up of a watched one comes first (taken when ``coin[j] < strength * keen[i]``, ``keen`` by the
    rating given to ``i``); stops at ``n_u`` anime or when none is left. ``seen [n]`` starts all False."""
    n = len(order)
    picked: list[int] = []
    queue: deque[int] = deque()
    pos = 0
    while len(picked) < n_u:
        if queue:
            i = queue.popleft()
        else:
            while pos < n and (seen[order[pos]] or not released[order[pos]]):
                pos += 1
            if pos == n:
                break
            i = int(order[pos])
        if seen[i]:
            continue
        seen[i] = True
        picked.append(i)
        for j, strength in follow[i]:
            if released[j] and not seen[j] and coin[j] < strength * keen[i]:
                queue.append(j)
    return picked


def _frame(users: list[np.ndarray], items: list[np.ndarray], scores: list[np.ndarray], total_users: int) -> pd.DataFrame:
    """``user_id, anime_id, rating`` sorted by user, anime; ids ``u000001``, ... (at least 6 digits)."""
    user = np.concatenate(users) if users else np.zeros(0, dtype=np.int64)
    anime = np.concatenate(items) if items else np.zeros(0, dtype=np.int64)
    score = np.concatenate(scores) if scores else np.zeros(0, dtype=np.int64)
    order = np.lexsort((anime, user))
    width = max(6, len(str(total_users)))
    labels = np.array([f"u{i + 1:0{width}d}" for i in range(total_users)], dtype=object)
    return pd.DataFrame({"user_id": labels[user[order]] if len(user) else np.array([], dtype=object),
                         "anime_id": anime[order], "rating": score[order]})


def generate_ratings(cat: SyntheticCatalog, cfg: SampleConfig, rng: np.random.Generator,
                     progress: bool = False) -> pd.DataFrame:
    """Simulate ``cfg.total_users`` users; return ``user_id, anime_id, rating`` sorted by user, anime."""
    entries = cat.entries
    n = len(entries)
    g, t, s = item_features(cat)
    quality = np.array([e.quality for e in entries])
    released = np.array([e.year <= cfg.end_year for e in entries])   # nobody rates unaired anime
    factor = np.array([1.0 if e.role == "main" and e.season == 1 else _ENTRY_FACTOR[e.role] for e in entries])
    base = cfg.popularity_exponent * np.log([e.pop for e in entries]) + 0.3 * quality + np.log(factor)
    base[~released] = -np.inf
    follow = [e.follow for e in entries]
    anime_ids = np.array([e.id for e in entries], dtype=np.int64)
    n_released = int(released.sum())

    # Taste archetypes: shared preferences make co-rating patterns informative.
    arch_g = rng.normal(0.0, 1.0, size=(cfg.n_archetypes, g.shape[1]))
    arch_t = rng.normal(0.0, 0.7, size=(cfg.n_archetypes, t.shape[1]))
    studio_p = s.sum(axis=0) + 1.0
    studio_p /= studio_p.sum()
    # Probability of continuing to a follow-up, by the rating given (index = rating).
    keen = 1.0 / (1.0 + np.exp(-1.3 * (np.arange(11) - 6.5)))

    users: list[np.ndarray] = []
    items: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    for u in tqdm(range(cfg.total_users), disable=not progress, desc="synthetic users", unit="user"):
        k = int(rng.integers(cfg.n_archetypes))
        w_s = np.zeros(s.shape[1])
        n_fav = min(int(rng.integers(0, 4)), s.shape[1])
        fav = rng.choice(s.shape[1], size=n_fav, replace=False, p=studio_p)
        w_s[fav] = rng.normal(1.0, 0.3, size=len(fav))
        taste = (g @ (arch_g[k] + rng.normal(0.0, 0.6, size=g.shape[1]))
                 + t @ (arch_t[k] + rng.normal(0.0, 0.5, size=t.shape[1])) + s @ w_s)
        taste = (taste - taste.mean()) / (taste.std() + 1e-9)
        bias = rng.normal(0.0, cfg.user_bias_sd)
        n_u = int(np.clip(round(rng.lognormal(np.log(cfg.ratings_median), cfg.ratings_sigma)),
                          cfg.ratings_min, min(cfg.ratings_max, n_released)))
        # Gumbel-max trick: sorting by log-weight + Gumbel noise is sampling without replacement.
        order = np.argsort(-(base + cfg.taste_pick_weight * taste + rng.gumbel(size=n)), kind="stable")
        rating = np.clip(np.rint(cfg.mean_rating + bias + cfg.quality_weight * quality
                                 + cfg.taste_weight * taste + rng.normal(0.0, cfg.rating_noise, size=n)),
                         1, 10).astype(np.int64)
        coin = rng.random(n)

        picked = _walk(order, released, follow, np.zeros(n, dtype=bool), coin, keen[rating], n_u)
        idx = np.array(picked, dtype=np.int64)
        users.append(np.full(len(idx), u, dtype=np.int64))
        items.append(anime_ids[idx])
        scores.append(rating[idx])

    return _frame(users, items, scores, cfg.total_users)
