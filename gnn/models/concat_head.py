"""The base of the ``baseline`` model: an MLP head over ``[user vector || item vector]``.

The user vector is an ID embedding for a known user, or a :class:`gnn.models.history.HistoryEncoder`
vector built from the user's (anime, rating) history for a new one, so a new user is scored
without retraining. Everything on the item side is user-independent, which is what
:mod:`gnn.export.tables` folds into constant tables for ONNX.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Sequence

import torch
from torch import nn

from gnn.models.base import Batch, ModelContext, RatingModel, UserQuery
from gnn.models.history import HistoryEncoder
from gnn.models.layers import init_embedding, make_mlp


class ConcatHeadModel(RatingModel):
    r"""An MLP head over the concatenation ``[user_vec || item_vec]``: ``forward = head(user_vectors, item_vectors)``.

    Not a two-tower model in the usual sense (no dot product of two towers): the user and item
    vectors meet in an MLP. Subclasses build the user-independent item side (:meth:`item_vectors`,
    optionally sharing one expensive :meth:`item_state` between calls); this class owns the user
    side (ID embedding, or :class:`HistoryEncoder` for a user given by a history) and the head,
    whose first ``Linear`` an exporter can split as :math:`W_u u + W_i i + b` (columns
    ``[:user_dim]`` and ``[user_dim:]``), so the item part is precomputed per anime.
    """

    def __init__(self, ctx: ModelContext, user_dim: int, item_dim: int, hidden: Sequence[int],
                 dropout: float, negative_slope: float, history_hidden: int, history_heads: int,
                 sparse_user_grad: bool = False) -> None:
        super().__init__(ctx)
        self.user_dim, self.item_dim = user_dim, item_dim
        # sparse_user_grad: the ID table's gradient is row-sparse (the batch's users only).
        self.user_emb = init_embedding(nn.Embedding(ctx.n_users, user_dim, padding_idx=0, sparse=sparse_user_grad))
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
        if batch.use_history is None or not bool(batch.use_history.any()):
            return self.user_emb(batch.user)
        # History rows look up the padding user (no gradient), so a row-sparse gradient holds ID rows only.
        ids = self.user_emb(batch.user.masked_fill(batch.use_history, 0))
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
