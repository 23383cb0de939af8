"""The top-10 popularity diagnostic on a hand-made score matrix."""

from __future__ import annotations

import torch

from benchmarks.top_popularity import top_k_popularity


def test_top_k_popularity_counts_the_recommended_anime_only():
    # 2 users x 6 anime (column 0 = padding); anime 1..5 have 1, 2, 3, 4, 50 training ratings.
    popularity = torch.tensor([0, 1, 2, 3, 4, 50])
    scores = torch.tensor([[9.0, 5.0, 4.0, 3.0, 2.0, 1.0],
                           [9.0, 1.0, 2.0, 3.0, 4.0, 5.0]])
    in_train = torch.zeros(2, 6, dtype=torch.bool)
    in_train[0, 1] = True  # user 0 rated anime 1 in train: it must not be recommended
    r = top_k_popularity(scores, in_train, popularity, k=2)
    # user 0 -> anime 2, 3 (pop 2, 3); user 1 -> anime 5, 4 (pop 50, 4); padding never chosen.
    assert r["mean_train_ratings"] == (2 + 3 + 50 + 4) / 4
    assert r["catalog_median"] == 3.0
    assert r["share_below_catalog_median"] == 0.25   # only pop 2 is below 3
    assert r["distinct_anime"] == 4
