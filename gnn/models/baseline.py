"""The older pipeline's architecture: the reference the GNN has to beat.

user ``Embedding(n_users, 64)``, anime ``Embedding(n_anime, 128)``, genres and
tags each embedded to 32-d and pooled by 4-head attention (tags weighted by
their tag weights), concatenated to 256-d and fed to an MLP
``256 -> 256 -> 128 -> 64 -> 32 -> 1``. No graph: relations and studios are unused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from gnn.models.base import ModelContext
from gnn.models.concat_head import ConcatHeadModel
from gnn.models.layers import EmbeddingPool, init_embedding
from gnn.models.registry import register


@dataclass(frozen=True)
class BaselineConfig:
    user_dim: int = 64
    anime_dim: int = 128
    genre_dim: int = 32
    tag_dim: int = 32
    genre_heads: int = 4
    tag_heads: int = 4
    hidden: tuple[int, ...] = (256, 128, 64, 32)
    dropout: float = 0.2
    negative_slope: float = 0.01
    history_hidden: int = 64   # entry/pool size of the history encoder (new users)
    history_heads: int = 4
    # The user ID table's gradient holds only the batch's rows, and the optimizer moves only those
    # (gnn.train.optim.LazyAdamW): a step's cost does not grow with the number of users.
    sparse_user_grad: bool = True
    # A checkpoint written before an option existed was made with this value.
    BEFORE_ADDED: ClassVar[dict] = {"sparse_user_grad": False}

    def __post_init__(self) -> None:
        # A checkpoint's config dict may hold the tuple as a list.
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))


@register("baseline", BaselineConfig)
class BaselineModel(ConcatHeadModel):
    r"""Embedding + attention-pooled genres/tags + MLP: a :class:`ConcatHeadModel`.

    Item vector: ``[anime_emb (128) || genre_pool (32) || tag_pool (32)]`` (192-d);
    user vector: ID embedding or history vector (64-d); head input 256-d.

    Shapes:
        - :meth:`item_vectors`: ``anime [B]`` -> :math:`[B, 192]`; ``None`` -> :math:`[n_{anime}, 192]`
        - :meth:`user_vectors`: :class:`Batch` -> :math:`[B, 64]`
        - :meth:`forward`: :class:`Batch` -> :math:`[B]` normalized ratings
    """

    def __init__(self, ctx: ModelContext, config: BaselineConfig = BaselineConfig()) -> None:
        c = config
        super().__init__(ctx, c.user_dim, c.anime_dim + c.genre_dim + c.tag_dim, c.hidden, c.dropout,
                         c.negative_slope, c.history_hidden, c.history_heads, sparse_user_grad=c.sparse_user_grad)
        self.config = config
        self.anime_emb = init_embedding(nn.Embedding(ctx.n_anime, c.anime_dim, padding_idx=0))
        self.genre_pool = EmbeddingPool(ctx.n_genres, c.genre_dim, c.genre_heads)
        self.tag_pool = EmbeddingPool(ctx.n_tags, c.tag_dim, c.tag_heads, use_weights=True)
        t = ctx.tables
        self.register_buffer("genre_idx", t.genre_idx.long(), persistent=False)
        self.register_buffer("tag_idx", t.tag_idx.long(), persistent=False)
        self.register_buffer("tag_w", t.tag_w.float(), persistent=False)

    def item_vectors(self, anime: torch.Tensor | None = None,
                     state: torch.Tensor | None = None) -> torch.Tensor:
        idx = torch.arange(self.genre_idx.shape[0], device=self.genre_idx.device) if anime is None else anime
        return torch.cat([self.anime_emb(idx),
                          self.genre_pool(self.genre_idx[idx]),
                          self.tag_pool(self.tag_idx[idx], self.tag_w[idx])], dim=-1)
