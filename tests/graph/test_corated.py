"""Co-rated anime tables (gnn/graph/corated.py) on a rating graph small enough to count by hand.

Users: 1 rated anime {1, 2, 3}, 2 rated {1, 2}, 3 rated {2, 4}. Rating counts n_1 = 2, n_2 = 3,
n_3 = n_4 = 1; shared users c_12 = 2, c_13 = c_23 = c_24 = 1; weight c / sqrt(n_a n_b).
"""

from __future__ import annotations

import math

import pytest
import torch

from gnn.graph.corated import corated_table, without_own

USER = torch.tensor([1, 1, 1, 2, 2, 3, 3])
ANIME = torch.tensor([1, 2, 3, 1, 2, 2, 4])


@pytest.mark.parametrize("chunk", [1, 2, 100])
def test_each_anime_lists_its_most_co_rated_strongest_first(chunk):
    idx, w = corated_table(USER, ANIME, n_anime=6, width=2, min_common=1, chunk=chunk)
    assert idx.tolist() == [[0, 0], [2, 3], [1, 3], [1, 2], [2, 0], [0, 0]]   # 2 ties 3 and 4: the lower index
    expect = [[0, 0], [2 / math.sqrt(6), 1 / math.sqrt(2)], [2 / math.sqrt(6), 1 / math.sqrt(3)],
              [1 / math.sqrt(2), 1 / math.sqrt(3)], [1 / math.sqrt(3), 0], [0, 0]]   # anime 5: nobody rated it
    assert w.tolist() == [pytest.approx(row) for row in expect]


@pytest.mark.parametrize("max_products", [1, 5, 10**9])
def test_summing_over_blocks_of_users_gives_the_same_table(max_products):
    """Blocks of users bounded by the paths they add (1: one user per block), in any input order."""
    g = torch.Generator().manual_seed(0)
    pairs = torch.unique(torch.randint(1, 40, (300,), generator=g) * 30 + torch.randint(1, 30, (300,), generator=g))
    user, anime = pairs // 30, pairs % 30
    whole = corated_table(user, anime, n_anime=30, width=4, min_common=2, chunk=30, max_products=10**12)
    perm = torch.randperm(len(user), generator=g)
    blocks = corated_table(user[perm], anime[perm], n_anime=30, width=4, min_common=2, chunk=7,
                           max_products=max_products)
    assert torch.equal(whole[0], blocks[0]) and torch.equal(whole[1], blocks[1])
    assert (whole[1][1:, 0] > 0).sum() > 20                  # most anime list a co-rated one


def test_pairs_need_min_common_users():
    idx, w = corated_table(USER, ANIME, n_anime=6, width=2, min_common=2)
    assert idx[1].tolist() == [2, 0] and idx[2].tolist() == [1, 0] and (idx[3:] == 0).all() and (w[3:] == 0).all()


def test_no_ratings_gives_an_empty_table():
    idx, w = corated_table(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), n_anime=4, width=3)
    assert idx.shape == (4, 3) and (idx == 0).all() and (w == 0).all()


def test_without_own_takes_one_user_out_of_the_pair():
    w = torch.tensor([2 / math.sqrt(6), 1 / math.sqrt(2), 0.0])   # pairs (1, 2), (1, 3), and one not listed
    n_a, n_b = torch.tensor([2.0, 2.0, 2.0]), torch.tensor([3.0, 1.0, 3.0])
    # (1, 2) without user 1: one shared user of 1 and 2 rating counts -> 1 / sqrt(1 * 2); (1, 3): nobody left.
    assert without_own(w, n_a, n_b).tolist() == pytest.approx([1 / math.sqrt(2), 0.0, 0.0])


def test_shrink_lists_by_share_of_the_other_anime_raters_and_keeps_cosine_weights():
    """Anime 1: c_12 / (n_2 + 0.5) = 2 / 3.5 < c_13 / (n_3 + 0.5) = 1 / 1.5, so 3 comes before 2 (cosine: 2
    first); with a large shrink the share follows c, and 2 is first again."""
    idx, w = corated_table(USER, ANIME, n_anime=6, width=2, min_common=1, shrink=0.5)
    assert idx[1].tolist() == [3, 2]
    assert w[1].tolist() == pytest.approx([1 / math.sqrt(2), 2 / math.sqrt(6)])       # the pairs' cosines
    assert corated_table(USER, ANIME, n_anime=6, width=2, min_common=1, shrink=100.0)[0][1].tolist() == [2, 3]
    # min_common still decides who is listed at all
    assert corated_table(USER, ANIME, n_anime=6, width=2, min_common=2, shrink=0.5)[0][1].tolist() == [2, 0]
