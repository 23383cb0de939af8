"""A user vector from a rating history (the user's (anime, rating) list): :class:`HistoryEncoder`.

What lets :class:`gnn.models.concat_head.ConcatHeadModel` (the baseline) score a new user without
retraining: their (anime, normalized rating) history becomes a vector of the same size as a user ID
embedding, fed to the same head. The per-anime rows it reads are user-independent
(:meth:`HistoryEncoder.project`), so an exporter precomputes them.
"""

from __future__ import annotations

import torch
from torch import nn

from gnn.models.layers import AttentionPool


class HistoryEncoder(nn.Module):
    r"""Attention pooling over (item representation, rating) pairs, then a small MLP.

    Each entry is :math:`e_j = \sigma(A\,\text{item}_j + r_j (C\,\text{item}_j + c))`:
    the rating scales an item-specific direction, so a low rating can flip what
    an item says about taste (a plain ``[item || r]`` through a linear map could
    only add the same direction for every item). The entries are pooled by an
    :class:`AttentionPool` (learned null entry: an empty history gives a finite
    vector); the pooled vector, the mean rating (the user's bias) and
    :math:`\log(1 + n)` go through an MLP to the user vector.

    :meth:`project` computes the user-independent ``[A item || C item]`` for the
    whole per-anime table once (``[n_anime, 2 * hidden]``, what an exporter
    stores); :meth:`forward` reads rows of it, so no matrix product runs per
    history entry.

    Args:
        item_dim (int): Size of the per-anime representation.
        out_dim (int): Size of the user vector (the ID embedding size).
        hidden (int): Entry and pool size.
        heads (int): Attention heads of the pool.

    Shapes:
        - **input:** ``items`` :math:`[B, L, 2 \cdot \text{hidden}]` (rows of the
          projected table), ``rating`` :math:`[B, L]`, ``mask`` :math:`[B, L]` bool (True = use)
        - **output:** :math:`[B, \text{out\_dim}]`
    """

    def __init__(self, item_dim: int, out_dim: int = 64, hidden: int = 64, heads: int = 4,
                 negative_slope: float = 0.01) -> None:
        super().__init__()
        self.hidden = hidden
        self.item_a = nn.Linear(item_dim, hidden)
        self.item_c = nn.Linear(item_dim, hidden, bias=False)
        self.rating_dir = nn.Parameter(torch.zeros(hidden))  # c: the item-independent rating direction
        self.act = nn.LeakyReLU(negative_slope)
        self.pool = AttentionPool(hidden, heads)
        self.out = nn.Sequential(nn.Linear(hidden + 2, hidden), nn.LeakyReLU(negative_slope),
                                 nn.Linear(hidden, out_dim))

    def project(self, table: torch.Tensor) -> torch.Tensor:
        """``[n_anime, item_dim]`` -> ``[n_anime, 2 * hidden]``: the user-independent part."""
        return torch.cat([self.item_a(table), self.item_c(table)], dim=-1)

    def forward(self, items: torch.Tensor, rating: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        a, c = items.split(self.hidden, dim=-1)                          # [B, L, h] each
        r = (rating * mask).unsqueeze(-1)                                # masked entries say nothing
        e = self.act(a + r * (c + self.rating_dir))                      # [B, L, h]
        pooled = self.pool(e, mask)                                      # [B, h]
        n = mask.sum(1, keepdim=True).to(rating.dtype)                   # [B, 1]
        mean_r = r.squeeze(-1).sum(1, keepdim=True) / n.clamp_min(1.0)
        return self.out(torch.cat([pooled, mean_r, torch.log1p(n)], dim=-1))
