"""The GNN's co-rated lists (gnn/models/corated_lists.py) on a rating graph small enough to count by hand.

Users 1, 2, 3 rated anime {1, 2, 3}, {1, 2} and {2, 4}: anime 1 has 2 raters, anime 2 has 3, anime 3
and 4 one each (tests/graph/test_corated.py's graph).
"""

from __future__ import annotations

import math

import pytest
import torch

from gnn.models.corated_lists import CoratedLists

USER = torch.tensor([1, 1, 1, 2, 2, 3, 3])
ANIME = torch.tensor([1, 2, 3, 1, 2, 2, 4])
COUNT = torch.bincount(ANIME, minlength=5).float()


def test_no_ratings_or_width_0_list_nothing() -> None:
    for lists, (idx, w) in (CoratedLists.fit(None, None, 5), CoratedLists.fit(USER, ANIME, 5, width=0),
                            CoratedLists.fit(USER, ANIME, 5, kind="ease", width=0)):
        assert idx.shape == (5, 1) and not idx.any() and not w.any() and lists.P is None


def test_cosine_lists_and_a_training_users_own_pairs() -> None:
    """Anime 1 lists 2 (2 shared raters of 2 and 3: 2 / sqrt(6)) and 3 (1 of 2 and 1: 1 / sqrt(2)). For a
    user who rated both, their own path goes: (2 - 1) / sqrt(1 * 2) and 0 (nobody else rated 1 and 3)."""
    lists, (idx, w) = CoratedLists.fit(USER, ANIME, 5, "cosine", width=2, min_common=1)
    assert lists.P is None
    assert idx[1].tolist() == [2, 3] and w[1].tolist() == pytest.approx([2 / math.sqrt(6), 1 / math.sqrt(2)])
    target, hist = torch.tensor([[1]]), torch.tensor([[2, 3, 4]])
    listed = torch.tensor([[[2 / math.sqrt(6), 1 / math.sqrt(2), 0.0]]])
    rated = torch.tensor([[1, 2, 3]])                                # user 1's row
    forward, backward = lists.without_user(listed, listed, torch.tensor([1]), rated, target, hist, COUNT, (idx, w))
    assert forward[0, 0].tolist() == pytest.approx([1 / math.sqrt(2), 0.0, 0.0])
    assert torch.equal(forward, backward)


def test_ease_lists_keep_their_fit_and_leave_unlisted_pairs_at_0() -> None:
    """The fit is over the 4 rated anime; a pair neither anime lists weighs 0 without the user too."""
    lists, (idx, w) = CoratedLists.fit(USER, ANIME, 5, "ease", width=1, reg=1.0)
    assert lists.P.shape == (4, 4) and lists.pos.tolist() == [-1, 0, 1, 2, 3] and lists.scale > 0
    assert idx[0].tolist() == [0] and (idx[1:] > 0).all()        # the padding anime lists nothing
    target, hist, rated = torch.tensor([[1]]), torch.tensor([[2, 4]]), torch.tensor([[1, 2, 4]])
    zero = torch.zeros(1, 1, 2)
    forward, backward = lists.without_user(zero, zero, torch.tensor([3]), rated, target, hist, COUNT, (idx, w))
    assert not forward.any() and not backward.any()
    ones = torch.ones(1, 1, 2)
    forward, _ = lists.without_user(ones, ones, torch.tensor([3]), rated, target, hist, COUNT, (idx, w))
    assert forward.abs().sum() > 0                                  # listed pairs get EASE's user-less weight
