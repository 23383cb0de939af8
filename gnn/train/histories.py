"""Per-user rating histories from the training split, for the ID-free user path."""

from __future__ import annotations

import torch

from gnn.data.history_key import keep_key
from gnn.processed import RatingSplit


class UserHistories:
    """Training ratings grouped by user (CSR layout), sampled into padded ``[B, L]`` batches.

    Ratings are stored normalized with the model's mean/std, the form the models
    consume. Sampling is with replacement within a user's list: cheap, vectorized,
    and a fine source of noise for training the aggregator.
    """

    def __init__(self, train: RatingSplit, n_users: int, mean: float, std: float) -> None:
        order = torch.argsort(train.user * (train.anime.max() + 1) + train.anime)
        users = train.user[order]
        self.anime = train.anime[order]
        self.rating = (train.rating[order] - mean) / std
        self.count = torch.bincount(users, minlength=n_users)
        self.ptr = torch.zeros(n_users + 1, dtype=torch.long)
        self.ptr[1:] = torch.cumsum(self.count, 0)

    def sample(self, user: torch.Tensor, length: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``(hist_anime, hist_rating)``, each ``[B, length]``; users without ratings get all padding."""
        count = self.count[user]
        offset = (torch.rand(len(user), length, generator=generator) * count[:, None]).long()
        pos = (self.ptr[user][:, None] + offset).clamp(max=max(len(self.anime) - 1, 0))
        valid = count[:, None] > 0
        anime = torch.where(valid, self.anime[pos], torch.zeros_like(pos))
        rating = torch.where(valid, self.rating[pos], torch.zeros(pos.shape))
        return anime, rating

    def width(self, user: torch.Tensor, max_len: int) -> int:
        """``L`` of :meth:`full` for these users: their longest history, at most ``max_len`` (at least 1)."""
        count = self.count[user].clamp(max=max_len)
        return max(1, int(count.max()) if len(count) else 1)

    def full(self, user: torch.Tensor, max_len: int, width: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Each user's training ratings as one padded history ``[U, L]`` (``L``: ``width``, by default
        :meth:`width`, so a chunk of users can be padded as all of them would be).

        A user with more than ``max_len`` ratings keeps the ``max_len`` with the highest
        :func:`keep_key`; entries are in ascending anime index. Users without ratings get all padding.
        """
        width = self.width(user, max_len) if width is None else width
        anime = torch.zeros(len(user), width, dtype=torch.long)
        rating = torch.zeros(len(user), width)
        for row, u in enumerate(user.tolist()):
            lo, hi = int(self.ptr[u]), int(self.ptr[u + 1])
            a, r = self.anime[lo:hi], self.rating[lo:hi]
            if hi - lo > max_len:
                keep = torch.sort(torch.topk(keep_key(a.long()), max_len).indices).values
                a, r = a[keep], r[keep]
            anime[row, :len(a)], rating[row, :len(a)] = a, r
        return anime, rating
