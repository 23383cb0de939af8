"""gnn.graph.cooccurrence: X^T X of a binary user x item matrix, by hand and against the dense product."""

from __future__ import annotations

import pytest
import torch

from gnn.graph.cooccurrence import co_counts, gram, user_csr


def test_gram_counts_shared_users_and_each_item_s_raters_on_the_diagonal():
    user, item = torch.tensor([0, 0, 1, 2, 2, 2]), torch.tensor([0, 1, 1, 0, 1, 2])
    g = gram(user, item, n_users=3, n_items=3)
    assert g.dtype == torch.float32
    assert g.tolist() == [[2, 2, 1], [2, 3, 1], [1, 1, 1]]


@pytest.mark.parametrize(("chunk", "max_products"), [(1, 1), (3, 7), (17, 10**9), (1024, 50)])
def test_gram_in_chunks_of_items_and_blocks_of_users_is_the_dense_product(chunk, max_products):
    """Row chunks (1: one item per chunk) and user blocks bounded by their paths (1: one user per block),
    in any input order: the same integer counts as X^T X computed densely."""
    g = torch.Generator().manual_seed(0)
    pairs = torch.unique(torch.randint(0, 50, (400,), generator=g) * 17 + torch.randint(0, 17, (400,), generator=g))
    user, item = pairs // 17, pairs % 17
    x = torch.zeros(50, 17)
    x[user, item] = 1.0
    perm = torch.randperm(len(user), generator=g)
    got = gram(user[perm], item[perm], n_users=50, n_items=17, chunk=chunk, max_products=max_products)
    assert torch.equal(got, x.T @ x)


def test_rows_of_a_range_and_items_nobody_in_it_rated():
    # Users 0 and 1 rated items {0, 2} and {2, 3}; item 1 has no rater, so its row is all zero.
    crow, col, edge_user = user_csr(torch.tensor([1, 0, 1, 0]), torch.tensor([3, 0, 2, 2]), n_users=2, n_items=4)
    assert co_counts(crow, col, edge_user, first=1, last=2, n_items=4).tolist() == [[0, 0, 0, 0], [1, 0, 2, 1]]


def test_no_ratings_give_a_zero_matrix():
    g = gram(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), n_users=0, n_items=3)
    assert g.shape == (3, 3) and not g.any()
