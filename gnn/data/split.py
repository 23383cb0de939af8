"""Rating filters and per-user train/val/test splits (seeded, deterministic)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from gnn.data.tally import Tally


def filter_min_ratings(ratings: pd.DataFrame, min_ratings: int, tally: Tally) -> pd.DataFrame:
    """Drop users and anime with fewer than ``min_ratings`` ratings, repeating until stable.

    Dropping a sparse anime can push a user below the minimum and vice versa, so
    the two filters alternate until a pass removes nothing: afterwards every
    remaining user and anime has at least ``min_ratings`` ratings. Counts on integer
    codes under one mask; the frame is copied once, at the end.
    """
    if min_ratings <= 1:
        return ratings
    users = _group_codes(ratings["user_id"])
    anime = pd.factorize(ratings["anime_id"])[0]
    keep = np.ones(len(ratings), dtype=bool)
    while True:
        low_user = _below(users, keep, min_ratings)
        tally.drop("user_below_min_ratings", int(low_user.sum()))
        keep &= ~low_user
        low_anime = _below(anime, keep, min_ratings)
        tally.drop("anime_below_min_ratings", int(low_anime.sum()))
        keep &= ~low_anime
        if not low_user.any() and not low_anime.any():
            return ratings[keep]


def _group_codes(column: pd.Series) -> np.ndarray:
    """Integer codes of a column's values (-1: missing, a row no count applies to, as groupby leaves it)."""
    return column.cat.codes.to_numpy() if isinstance(column.dtype, pd.CategoricalDtype) else pd.factorize(column)[0]


def _below(codes: np.ndarray, keep: np.ndarray, minimum: int) -> np.ndarray:
    """Kept rows whose group has fewer than ``minimum`` kept rows."""
    counts = np.bincount(codes[keep & (codes >= 0)], minlength=int(codes.max(initial=-1)) + 1)
    return keep & (codes >= 0) & (counts[np.maximum(codes, 0)] < minimum)


PARTS = ("train", "val", "test")


def _sorting_codes(users: pd.Series) -> np.ndarray:
    """Integer codes that sort like the user ids (a categorical's codes when its categories are sorted)."""
    if isinstance(users.dtype, pd.CategoricalDtype) and users.cat.categories.is_monotonic_increasing:
        return users.cat.codes.to_numpy()
    return pd.factorize(users, sort=True)[0]


def split_per_user(ratings: pd.DataFrame, val_frac: float, test_frac: float, seed: int) -> pd.Series:
    """Assign each row to train/val/test within its user (a categorical Series aligned with ``ratings``).

    A user with ``n`` ratings gets ``round(n * test_frac)`` test rows and
    ``round(n * val_frac)`` validation rows (half rounds up), always keeping at
    least one training row. The result depends only on the rows' content and
    the seed, not on the input order: the rows are put in (user, anime) order, each
    gets a seeded random key in that order, and the key ranks the rows within their user.
    Works on integer codes (no copy of the frame), so it stays small at tens of millions of rows.
    """
    n_rows = len(ratings)
    users = _sorting_codes(ratings["user_id"])
    content = np.lexsort((ratings["anime_id"].to_numpy(), users))    # rows in (user, anime) order
    users = users[content]
    key = np.random.default_rng(seed).random(n_rows)
    by_key = np.lexsort((key, users))      # within each user by the random key; users stay in the same blocks
    del key
    grouped = users[by_key]
    del users
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]) if n_rows else np.zeros(0, dtype=np.int64)
    del grouped
    n = np.diff(np.r_[starts, n_rows])                               # per user: row count and quotas
    n_test = np.floor(n * test_frac + 0.5)
    n_val = np.floor(n * val_frac + 0.5)
    n_test = np.minimum(n_test, np.maximum(n - 1, 0))
    n_val = np.minimum(n_val, np.maximum(n - 1 - n_test, 0))
    rank = np.arange(n_rows, dtype=np.int64)                         # rank within the user, in by_key order
    rank -= np.repeat(starts, n)
    part = np.zeros(n_rows, dtype=np.int8)
    part[rank < np.repeat((n_test + n_val).astype(np.int64), n)] = 1
    part[rank < np.repeat(n_test.astype(np.int64), n)] = 2
    del rank
    in_content = np.empty(n_rows, dtype=np.int8)
    in_content[by_key] = part
    del by_key, part
    codes = np.empty(n_rows, dtype=np.int8)
    codes[content] = in_content
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(PARTS)), index=ratings.index)


def honour_split_column(ratings: pd.DataFrame, val_frac: float, test_frac: float,
                        seed: int, tally: Tally) -> pd.Series:
    """Use the input's ``split`` column; carve validation rows out of train if it names none."""
    split = ratings["split"].copy()
    if (split == "val").any():
        return split
    train = ratings[split == "train"]
    carve = split_per_user(train, val_frac / max(1.0 - test_frac, 1e-9), 0.0, seed)
    split.loc[carve.index] = carve
    tally.note("val_rows_carved_from_train", int((carve == "val").sum()))
    return split


def pick_holdout_users(ratings: pd.DataFrame, frac: float, min_ratings: int, seed: int) -> set[str]:
    """Users set aside entirely (never trained on) to evaluate the new-user path."""
    if frac <= 0:
        return set()
    counts = ratings.groupby("user_id", observed=True).size()  # users still rated, not every category
    eligible = np.sort(counts[counts >= min_ratings].index.to_numpy())
    n = int(round(len(counts) * frac))
    n = min(n, len(eligible))
    rng = np.random.default_rng(seed + 1)
    return set(rng.choice(eligible, size=n, replace=False).tolist()) if n else set()


def pick_new_anime(ratings: pd.DataFrame, year: Mapping[Any, int | None], after: int | None) -> set:
    """Anime set aside as cold because they came out after the year ``after`` (``year[anime_id]``; an
    unknown year is never "after"): the new-season test, where the model meets anime newer than every
    anime it was trained on. Only anime that still have ratings after filtering; none for ``after=None``."""
    if after is None:
        return set()
    return {a for a in ratings["anime_id"].unique().tolist() if (y := year.get(a)) is not None and y > after}


def pick_cold_anime(ratings: pd.DataFrame, frac: float, seed: int) -> set:
    """Anime set aside as cold: none of their ratings reach train or validation (the cold-item test).

    A seeded ``frac`` of the anime that still have ratings after filtering, chosen independently
    of row order.
    """
    if frac <= 0:
        return set()
    anime = np.sort(ratings["anime_id"].unique())
    n = int(round(len(anime) * frac))
    rng = np.random.default_rng(seed + 2)
    return set(rng.choice(anime, size=n, replace=False).tolist()) if n else set()
