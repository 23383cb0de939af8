"""gnn.graph.ease: EASE's weights by hand, the lists of the strongest, and a user taken out exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gnn.graph.cooccurrence import gram
from gnn.graph.ease import ease_lists, ease_weights, leverage, precision, strongest, without_user

# 5 users over anime 1..4 (0 is padding; anime 5 has no rating).
PAIRS = [(0, 1), (0, 2), (1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (3, 1), (3, 4), (4, 3), (4, 4), (4, 1)]


def numpy_b(pairs, reg: float, n_items: int = 4) -> np.ndarray:
    """EASE's B over anime 1..n_items, from scratch."""
    users = sorted({u for u, _ in pairs})
    x = np.zeros((len(users), n_items))
    for u, a in pairs:
        x[users.index(u), a - 1] = 1.0
    p = np.linalg.inv(x.T @ x + reg * np.eye(n_items))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


def edges(pairs):
    return torch.tensor([u for u, _ in pairs]), torch.tensor([a for _, a in pairs])


def test_ease_weights_match_the_two_item_closed_form():
    # G = [[a, c], [c, b]]: B_12 = c / (a + reg), B_21 = c / (b + reg), diagonal 0.
    b = ease_weights(torch.tensor([[2.0, 1.0], [1.0, 1.0]]), reg=1.0)
    assert b.flatten().tolist() == pytest.approx([0.0, 1 / 3, 1 / 2, 0.0])


def test_precision_inverts_in_its_own_copy_and_leaves_the_gram_alone():
    g = torch.tensor([[3.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 4.0]], dtype=torch.float64)   # no dtype change
    before = g.clone()
    p = precision(g, reg=0.5)
    assert p.dtype == torch.float64 and torch.equal(g, before)
    want = np.linalg.inv(before.double().numpy() + 0.5 * np.eye(3))
    assert np.allclose(p.numpy(), want, atol=1e-12)


def test_strongest_rows_read_in_blocks_match_the_whole_b():
    # Row blocks of 2 over 4 anime: each row's own entry is B's zero diagonal, wherever its block starts.
    b = numpy_b(PAIRS, reg=1.0)
    user, anime = edges(PAIRS)
    p = precision(gram(user, anime - 1, n_users=5, n_items=4), reg=1.0)
    top, top_w = strongest(p, k=3, block=2)
    for j in range(4):
        assert top[j].tolist() == np.argsort(-b[j], kind="stable")[:3].tolist()
        assert top_w[j].tolist() == pytest.approx(b[j, top[j].numpy()].tolist(), abs=1e-12)


def test_lists_hold_each_anime_s_strongest_positive_weights_scaled_to_the_mean():
    b = numpy_b(PAIRS, reg=1.0)
    lists = ease_lists(*edges(PAIRS), n_anime=6, width=2, reg=1.0, mean_weight=0.25)
    kept = []
    for j in range(1, 5):
        order = [a for a in np.argsort(-b[j - 1], kind="stable") if b[j - 1, a] > 0][:2]
        assert lists.idx[j].tolist() == [a + 1 for a in order] + [0] * (2 - len(order))
        kept += [b[j - 1, a] for a in order]
        assert lists.w[j, :len(order)].tolist() == pytest.approx([b[j - 1, a] * lists.scale for a in order], rel=1e-5)
    assert lists.scale == pytest.approx(0.25 / np.mean(kept))
    assert lists.idx[[0, 5]].eq(0).all() and lists.w[[0, 5]].eq(0).all()     # padding, never rated
    assert lists.item_pos.tolist() == [-1, 0, 1, 2, 3, -1]


def test_without_user_is_ease_refitted_without_that_user():
    lists = ease_lists(*edges(PAIRS), n_anime=6, width=3, reg=1.0)
    for user in (1, 4):
        rest = numpy_b([(u, a) for u, a in PAIRS if u != user], reg=1.0)
        rated = torch.tensor([[a for u, a in PAIRS if u == user] + [0]])      # padded
        first, second = torch.tensor([[1, 3, 5]]), torch.tensor([[2, 4, 1, 0]])
        forward, backward = without_user(lists, torch.tensor([user]), rated, first, second)
        for t, f in enumerate(first[0].tolist()):
            for h, s in enumerate(second[0].tolist()):
                known = 1 <= f <= 4 and 1 <= s <= 4 and f != s
                want_fs = rest[f - 1, s - 1] * lists.scale if known else 0.0
                want_sf = rest[s - 1, f - 1] * lists.scale if known else 0.0
                assert float(forward[0, t, h]) == pytest.approx(want_fs, abs=1e-5), (user, f, s)
                assert float(backward[0, t, h]) == pytest.approx(want_sf, abs=1e-5), (user, f, s)


def test_leverage_is_each_users_row_through_p_and_zero_for_users_without_ratings():
    user, anime = edges(PAIRS)
    p = precision(gram(user, anime - 1, n_users=5, n_items=4), reg=1.0).float()
    x = torch.zeros(6, 4)
    x[user, anime - 1] = 1.0
    got = leverage(p, user, anime - 1, n_users=6)          # user 5 has no ratings
    assert got.tolist() == pytest.approx(torch.einsum("ui,ij,uj->u", x, p, x).tolist(), abs=1e-6)
    assert got[5] == 0 and (got[:5] > 0).all() and (got[:5] < 1).all()   # 1 - x^T P x > 0: the refit stays PD
    assert torch.equal(ease_lists(user, anime, n_anime=6, reg=1.0).leverage, got[:5])   # users 0..4 in the fit


def test_without_user_reads_the_rated_row_once_whatever_its_padding_or_repeats():
    lists = ease_lists(*edges(PAIRS), n_anime=6, width=3, reg=1.0)
    first, second = torch.tensor([[1, 3]]), torch.tensor([[2, 4, 3]])
    plain = without_user(lists, torch.tensor([1]), torch.tensor([[1, 2, 3]]), first, second)
    messy = without_user(lists, torch.tensor([1]), torch.tensor([[3, 0, 1, 2, 1, 0]]), first, second)
    assert all(torch.equal(a, b) for a, b in zip(plain, messy))
    other = without_user(lists, torch.tensor([1]), torch.tensor([[1, 2]]), first, second)
    assert not torch.allclose(plain[0], other[0])          # the row is read, not only the user's leverage
