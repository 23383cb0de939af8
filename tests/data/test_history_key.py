"""gnn.data.history_key: which ratings a capped history keeps, and that padding-only columns are dropped."""

from __future__ import annotations

import torch

from gnn.data.history_key import cap_history, keep_key


def test_a_long_row_keeps_its_entries_with_the_highest_keys_in_their_order():
    hist = torch.tensor([[11, 12, 13, 14, 15], [21, 0, 0, 0, 0]])
    rating = hist.float() / 10
    got, got_r = cap_history(hist, rating, 2)
    best = sorted(sorted(range(5), key=lambda j: -int(keep_key(torch.tensor(11 + j))))[:2])
    assert got[0].tolist() == [11 + j for j in best] and got[1].tolist() == [21, 0]
    assert torch.equal(got_r, got.float() / 10)


def test_trailing_padding_columns_are_dropped_and_inner_ones_kept():
    hist = torch.tensor([[3, 0, 0, 0], [0, 7, 0, 0]])
    got, got_r = cap_history(hist, hist.float(), 8)
    assert got.tolist() == [[3, 0], [0, 7]] and got_r.tolist() == [[3.0, 0.0], [0.0, 7.0]]
    empty, _ = cap_history(torch.zeros(2, 5, dtype=torch.long), torch.zeros(2, 5), 8)
    assert empty.shape == (2, 1)                                    # one column stays
