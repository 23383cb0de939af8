"""User vectors from a rating history, and the two-tower base both models share.

A new user is scored without retraining: their (anime, normalized rating)
history is turned into a vector of the same size as a user ID embedding and
fed to the same head. The per-anime representations the history reads come
from :meth:`TwoTowerModel.history_item_table`, which is user-independent, so
an exporter can precompute it (through :meth:`HistoryEncoder.project`).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Sequence

import torch
from torch import nn

from gnn.models.base import Batch, ModelContext, RatingModel, UserQuery
from gnn.models.layers import AttentionPool, init_embedding, make_mlp


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


class TwoTowerModel(RatingModel):
    r"""Base of the decomposable models: ``forward = head(user_vectors, item_vectors)``.

    Subclasses build the user-independent item side (:meth:`item_vectors`,
    optionally sharing one expensive :meth:`item_state` such as a graph
    encoder's output between calls); this class owns the user side (ID
    embedding or :class:`HistoryEncoder`) and the MLP head over
    ``[user_vec || item_vec]``, whose first ``Linear`` an exporter can split as
    :math:`W_u u + W_i i + b` (columns ``[:user_dim]`` and ``[user_dim:]``).
    """

    def __init__(self, ctx: ModelContext, user_dim: int, item_dim: int, hidden: Sequence[int],
                 dropout: float, negative_slope: float, history_hidden: int, history_heads: int) -> None:
        super().__init__(ctx)
        self.user_dim, self.item_dim = user_dim, item_dim
        self.user_emb = init_embedding(nn.Embedding(ctx.n_users, user_dim, padding_idx=0))
        self.history = HistoryEncoder(item_dim, user_dim, history_hidden, history_heads, negative_slope)
        self.mlp = make_mlp(user_dim + item_dim, hidden, dropout, negative_slope)

    def item_state(self) -> torch.Tensor | None:
        """Shared item-side work done once per forward (e.g. the graph encoder); None if none."""
        return None

    @abstractmethod
    def item_vectors(self, anime: torch.Tensor | None = None,
                     state: torch.Tensor | None = None) -> torch.Tensor:
        """User-independent item vectors ``[B, item_dim]``, or ``[n_anime, item_dim]`` for ``anime=None``."""

    def history_item_table(self, state: torch.Tensor | None = None) -> torch.Tensor:
        """The per-anime table a history reads, ``[n_anime, 2 * history_hidden]`` (row 0 = padding anime).

        User-independent (item vectors through :meth:`HistoryEncoder.project`), so
        an exporter precomputes it as a constant.
        """
        return self.history.project(self.item_vectors(None, state))

    def history_user_vectors(self, hist_anime: torch.Tensor, hist_rating: torch.Tensor,
                             target: torch.Tensor | None = None,
                             state: torch.Tensor | None = None) -> torch.Tensor:
        """User vectors ``[B, user_dim]`` from histories ``[B, L]``.

        Padding (index 0) and entries equal to the row's ``target`` anime ``[B]``
        are ignored, so a rating never feeds its own prediction.
        """
        mask = hist_anime > 0
        if target is not None:
            mask = mask & (hist_anime != target.unsqueeze(1))
        # Same rows as history_item_table(state)[hist_anime], but only the anime
        # these histories hold go through the item side (a training batch holds
        # far fewer than the whole catalog).
        uniq, inverse = torch.unique(hist_anime, return_inverse=True)
        items = self.history.project(self.item_vectors(uniq, state))[inverse]  # [B, L, 2 * history_hidden]
        return self.history(items, hist_rating, mask)

    def user_vectors(self, batch: Batch, state: torch.Tensor | None = None) -> torch.Tensor:
        """``[B, user_dim]``: history-built where ``batch.use_history``, else the user ID embedding."""
        ids = self.user_emb(batch.user)
        if batch.use_history is None or not bool(batch.use_history.any()):
            return ids
        assert batch.hist_anime is not None and batch.hist_rating is not None, \
            "use_history needs hist_anime and hist_rating"
        # Only the history rows pay for the history encoder.
        rows = batch.use_history.nonzero().squeeze(1)
        hist = self.history_user_vectors(batch.hist_anime[rows], batch.hist_rating[rows],
                                         batch.anime[rows], state)
        return ids.index_copy(0, rows, hist)

    def head(self, user_vec: torch.Tensor, item_vec: torch.Tensor) -> torch.Tensor:
        """Normalized rating ``[B]`` from ``user_vec [B, user_dim]`` and ``item_vec [B, item_dim]``."""
        return self.mlp(torch.cat([user_vec, item_vec], dim=-1)).squeeze(-1)

    def forward(self, batch: Batch) -> torch.Tensor:
        state = self.item_state()
        return self.head(self.user_vectors(batch, state), self.item_vectors(batch.anime, state))

    @torch.no_grad()
    def score_catalog(self, query: UserQuery, chunk: int = 65536) -> torch.Tensor:
        """Predicted ratings ``[U, n_anime]`` of every anime (column 0 = -inf), the item side computed once.

        The item vectors and their part of the head's first layer (:math:`W_i i + b`) are built once
        for the catalog; each user adds :math:`W_u u` and runs the rest of the head. The same numbers
        as :meth:`predict` row by row (to float rounding), except that an anime in a user's own
        history is scored with the whole history (rated anime are what the caller leaves out).
        """
        self.eval()
        state = self.item_state()
        first = self.mlp[0]
        item_part = self.item_vectors(None, state) @ first.weight[:, self.user_dim:].t() + first.bias  # [N, D1]
        w_user = first.weight[:, :self.user_dim]
        n_anime = item_part.shape[0]
        out = torch.full((len(query), n_anime), -math.inf, device=item_part.device)
        per = max(1, chunk // n_anime)
        for i in range(0, len(query), per):
            q = query.rows(i, i + per)
            users = self.user_emb(q.user)
            rows = (self.inductive | (q.user == 0)).nonzero().squeeze(1)
            if len(rows):
                users = users.index_copy(0, rows, self.history_user_vectors(q.hist_anime[rows], q.hist_rating[rows],
                                                                            None, state))
            x = (users @ w_user.t()).unsqueeze(1) + item_part.unsqueeze(0)             # [n, N, D1]
            z = self.mlp[1:](x.view(-1, x.shape[-1])).view(len(q), n_anime)
            out[i:i + len(q), 1:] = self.denormalize(z[:, 1:])
        return out
