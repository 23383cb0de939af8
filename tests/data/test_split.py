"""gnn.data.split: min-ratings filter to a fixed point, per-user splits, honoured split column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnn.data.split import filter_min_ratings, honour_split_column, pick_holdout_users, pick_new_anime, split_per_user
from gnn.data.tally import Tally


def frame(pairs, ratings=None) -> pd.DataFrame:
    users, anime = zip(*pairs) if pairs else ((), ())
    return pd.DataFrame({"user_id": list(users), "anime_id": np.array(anime, dtype="int64"),
                         "rating": ratings if ratings is not None else [5.0] * len(pairs)})


def pairs_of(df: pd.DataFrame) -> set[tuple[str, int]]:
    return set(zip(df["user_id"], df["anime_id"]))


# ------------------------------------------------------------------ min-ratings filter

def test_filter_iterates_until_stable():
    # min 2. Pass 1: every user has >= 2 ratings; anime C has 1 and goes. That leaves
    # user u3 with a single rating, so a second pass must drop u3 as well.
    df = frame([("u1", 1), ("u1", 2), ("u2", 1), ("u2", 2), ("u3", 1), ("u3", 3)])
    tally = Tally(total=len(df))
    out = filter_min_ratings(df, 2, tally)
    assert pairs_of(out) == {("u1", 1), ("u1", 2), ("u2", 1), ("u2", 2)}
    assert dict(tally.dropped) == {"anime_below_min_ratings": 1, "user_below_min_ratings": 1}
    assert tally.kept == len(out)


def test_filter_cascades_over_several_rounds():
    # A chain: each removal pushes the next user or anime below the minimum, down to nothing.
    df = frame([("u1", 1), ("u1", 2), ("u2", 2), ("u2", 3), ("u3", 3), ("u3", 4), ("u4", 4)])
    tally = Tally(total=len(df))
    out = filter_min_ratings(df, 2, tally)
    assert out.empty
    assert tally.kept == 0 and sum(tally.dropped.values()) == len(df)


def test_filter_min_one_keeps_everything():
    df = frame([("u1", 1), ("u2", 2)])
    tally = Tally(total=2)
    assert filter_min_ratings(df, 1, tally) is df
    assert not tally.dropped


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from("abcdefg"), st.integers(1, 8)), unique=True, max_size=40),
       minimum=st.integers(2, 4))
def test_filter_reaches_a_fixed_point(pairs, minimum):
    df = frame(pairs)
    tally = Tally(total=len(df))
    out = filter_min_ratings(df, minimum, tally)
    assert (out.groupby("user_id").size() >= minimum).all()
    assert (out.groupby("anime_id").size() >= minimum).all()
    assert tally.kept == len(out)
    again = Tally(total=len(out))
    assert len(filter_min_ratings(out, minimum, again)) == len(out) and not again.dropped
    assert pairs_of(out) == _core(set(pairs), minimum)


def _core(pairs: set, minimum: int) -> set:
    """Reference: remove one offending row at a time; the fixed point (the core) is unique."""
    pairs = set(pairs)
    while True:
        users = pd.Series([u for u, _ in pairs]).value_counts().to_dict()
        anime = pd.Series([a for _, a in pairs]).value_counts().to_dict()
        bad = next((p for p in sorted(pairs) if users[p[0]] < minimum or anime[p[1]] < minimum), None)
        if bad is None:
            return pairs
        pairs.discard(bad)


# ------------------------------------------------------------------ per-user split

def test_ten_ratings_split_8_1_1():
    df = frame([("u", a) for a in range(10)])
    split = split_per_user(df, 0.1, 0.1, seed=0)
    assert split.value_counts().to_dict() == {"train": 8, "val": 1, "test": 1}


@pytest.mark.parametrize("n, expected", [
    (1, (1, 0, 0)), (2, (2, 0, 0)), (4, (4, 0, 0)), (5, (3, 1, 1)), (10, (8, 1, 1)),
    (15, (11, 2, 2)), (20, (16, 2, 2)), (25, (19, 3, 3)),
])
def test_split_proportions_per_user(n, expected):
    # round half up: 5 * 0.1 = 0.5 -> 1, 15 * 0.1 = 1.5 -> 2, 25 * 0.1 = 2.5 -> 3
    df = frame([("u", a) for a in range(n)] + [("other", a) for a in range(7)])
    split = split_per_user(df, 0.1, 0.1, seed=3)
    mine = split[df["user_id"] == "u"]
    assert ((mine == "train").sum(), (mine == "val").sum(), (mine == "test").sum()) == expected


def test_split_always_leaves_a_training_row():
    df = frame([(f"u{n}", a) for n in range(1, 8) for a in range(n)])
    split = split_per_user(df, 0.45, 0.45, seed=1)
    train_per_user = (split == "train").groupby(df["user_id"]).sum()
    assert (train_per_user >= 1).all() and len(train_per_user) == 7


def test_split_is_complete_and_aligned_with_the_input_index():
    df = frame([("a", 1), ("a", 2), ("b", 1)]).set_axis([10, 20, 30])
    split = split_per_user(df, 0.1, 0.1, seed=0)
    assert list(split.index) == [10, 20, 30]
    assert set(split) <= {"train", "val", "test"} and split.notna().all()


def _as_map(df: pd.DataFrame, split: pd.Series) -> dict:
    return dict(zip(zip(df["user_id"], df["anime_id"]), split))


def test_split_deterministic_and_independent_of_row_order():
    rng = np.random.default_rng(0)
    df = frame([(f"u{u}", a) for u in range(20) for a in rng.choice(100, size=int(rng.integers(1, 30)),
                                                                    replace=False)])
    first = _as_map(df, split_per_user(df, 0.1, 0.1, seed=7))
    assert first == _as_map(df, split_per_user(df, 0.1, 0.1, seed=7))
    shuffled = df.sample(frac=1.0, random_state=1)
    assert first == _as_map(shuffled, split_per_user(shuffled, 0.1, 0.1, seed=7))
    renumbered = shuffled.reset_index(drop=True)
    assert first == _as_map(renumbered, split_per_user(renumbered, 0.1, 0.1, seed=7))
    assert first != _as_map(df, split_per_user(df, 0.1, 0.1, seed=8))


@settings(max_examples=50, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(1, 30)), unique=True,
                      max_size=60),
       val=st.floats(0, 0.45), test=st.floats(0, 0.45), seed=st.integers(0, 2**16),
       perm_seed=st.integers(0, 2**16))
def test_split_properties(pairs, val, test, seed, perm_seed):
    df = frame(pairs)
    split = split_per_user(df, val, test, seed)
    assert len(split) == len(df) and split.index.equals(df.index)
    assert set(split) <= {"train", "val", "test"}
    for user, part in split.groupby(df["user_id"]):
        n = len(part)
        assert (part == "train").sum() >= 1
        n_test = min(int(np.floor(n * test + 0.5)), n - 1)
        assert (part == "test").sum() == n_test
        assert (part == "val").sum() == min(int(np.floor(n * val + 0.5)), n - 1 - n_test)
    shuffled = df.sample(frac=1.0, random_state=perm_seed)
    assert _as_map(df, split) == _as_map(shuffled, split_per_user(shuffled, val, test, seed))


# ------------------------------------------------------------------ split column

def test_split_column_with_val_rows_is_used_as_is():
    df = frame([("u", a) for a in range(4)]).assign(split=["train", "val", "test", "train"])
    tally = Tally()
    out = honour_split_column(df, 0.1, 0.1, 0, tally)
    assert out.tolist() == ["train", "val", "test", "train"]
    assert not tally.notes


def test_validation_carved_from_train_when_column_has_none():
    # Each user: 9 train + 1 test rows. val_frac 0.1 of all = 0.1 / 0.9 of the train rows = 1 row.
    rows = [(f"u{u}", a) for u in range(3) for a in range(10)]
    df = frame(rows).assign(split=["test" if a == 0 else "train" for _, a in rows])
    tally = Tally()
    out = honour_split_column(df, 0.1, 0.1, 0, tally)
    assert (out[df["split"] == "test"] == "test").all()          # test rows never move
    assert set(out[df["split"] == "train"]) == {"train", "val"}  # val only comes out of train
    per_user = out.groupby(df["user_id"]).value_counts().unstack()
    assert per_user["val"].tolist() == [1, 1, 1] and per_user["train"].tolist() == [8, 8, 8]
    assert tally.notes == {"val_rows_carved_from_train": 3}
    assert df["split"].tolist().count("val") == 0  # the input frame is not modified


# ------------------------------------------------------------------ holdout users

def test_holdout_users_are_eligible_and_deterministic():
    df = frame([(f"u{u:02d}", a) for u in range(20) for a in range(5 + u)])  # u00 has 5 ... u19 has 24
    chosen = pick_holdout_users(df, 0.25, min_ratings=15, seed=0)
    assert len(chosen) == 5
    assert all(int(u[1:]) >= 10 for u in chosen)   # only users with >= 15 ratings
    assert chosen == pick_holdout_users(df.sample(frac=1.0, random_state=0), 0.25, 15, seed=0)
    assert pick_holdout_users(df, 0.0, 15, 0) == set()
    assert len(pick_holdout_users(df, 0.9, 22, 0)) == 3  # capped at the eligible users


def test_new_anime_are_those_after_the_year_among_the_rated_ones():
    ratings = pd.DataFrame({"user_id": ["a", "a", "b", "b"], "anime_id": [1, 2, 3, 4], "rating": [5, 6, 7, 8]})
    year = {1: 2018, 2: 2019, 3: None, 4: 2024, 5: 2025}     # 3: unknown year, never "after"; 5: nobody rated it
    assert pick_new_anime(ratings, year, 2018) == {2, 4}
    assert pick_new_anime(ratings, year, 2019) == {4}
    assert pick_new_anime(ratings, year, None) == set()
