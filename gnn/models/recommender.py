"""The GNN recommender: the baseline's embeddings plus studios and a graph-learned relationship vector.

Item vector (240-d, user-independent, so it can be precomputed for export):
``[anime_emb (128) || genre_pool (32) || tag_pool (32) || studio_pool (16) || relationship (32)]``;
user vector (64-d): ID embedding or history vector; head: MLP ``304 -> 256 -> 128 -> 64 -> 32 -> 1``.
The relationship vector comes from :class:`gnn.models.encoder.CatalogEncoder`,
trained end to end and run once per forward on the full graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gnn.models.base import ModelContext
from gnn.models.encoder import CatalogEncoder
from gnn.models.history import TwoTowerModel
from gnn.models.layers import AttentionPool, EmbeddingPool, init_embedding
from gnn.models.registry import register


@dataclass(frozen=True)
class GNNConfig:
    user_dim: int = 64
    anime_dim: int = 128
    genre_dim: int = 32
    tag_dim: int = 32
    studio_dim: int = 16
    rel_dim: int = 32             # encoder output = relationship vector size
    genre_heads: int = 4
    tag_heads: int = 4
    studio_heads: int = 2
    rel_heads: int = 4
    encoder_hidden: int = 64
    encoder_layers: int = 2
    encoder_dropout: float = 0.0
    encoder_anime_id_dim: int = 0  # > 0: per-anime ID embedding inside the encoder
    hidden: tuple[int, ...] = (256, 128, 64, 32)
    dropout: float = 0.2
    negative_slope: float = 0.01
    history_hidden: int = 64
    history_heads: int = 4

    def __post_init__(self) -> None:
        # A checkpoint's config dict may hold the tuple as a list.
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))


class RelationPool(nn.Module):
    r"""Pool an anime's related anime over the encoder's embeddings, plus the anime's own embedding.

    Entries are the related anime's encoder rows plus a learned relation-type
    embedding; logits are biased by :math:`\alpha \log w` (the configured type
    weights), and the query is the learned query shifted by the anime's own
    encoder row (still user-independent). The result is added to the own row,
    so an anime without relations keeps its graph embedding (+ the null entry's value).

    Shapes:
        - **input:** ``enc`` :math:`[n_{anime}, d]`, ``anime`` :math:`[B]`,
          ``rel_idx``/``rel_type`` :math:`[B, L]` long, ``rel_w`` :math:`[B, L]`
        - **output:** :math:`[B, d]`
    """

    def __init__(self, dim: int, heads: int, n_relation_types: int) -> None:
        super().__init__()
        self.type_emb = init_embedding(nn.Embedding(max(1, n_relation_types), dim))
        self.pool = AttentionPool(dim, heads, use_weights=True, query_dim=dim)

    def forward(self, enc: torch.Tensor, anime: torch.Tensor, rel_idx: torch.Tensor,
                rel_type: torch.Tensor, rel_w: torch.Tensor) -> torch.Tensor:
        own = enc[anime]
        entries = enc[rel_idx] + self.type_emb(rel_type)
        return own + self.pool(entries, rel_idx > 0, rel_w, query=own)


@register("gnn", GNNConfig)
class GNNRecommender(TwoTowerModel):
    r"""Heterogeneous-graph recommender in the two-tower split.

    Shapes:
        - :meth:`item_state`: :math:`[n_{anime}, 32]` encoder output (row 0 = padding)
        - :meth:`item_vectors`: ``anime [B]`` -> :math:`[B, 240]`; ``None`` -> :math:`[n_{anime}, 240]`
        - :meth:`user_vectors`: :class:`Batch` -> :math:`[B, 64]`
        - :meth:`forward`: :class:`Batch` -> :math:`[B]` normalized ratings
    """

    uses_relations = True

    def __init__(self, ctx: ModelContext, config: GNNConfig = GNNConfig()) -> None:
        c = config
        item_dim = c.anime_dim + c.genre_dim + c.tag_dim + c.studio_dim + c.rel_dim
        super().__init__(ctx, c.user_dim, item_dim, c.hidden, c.dropout, c.negative_slope,
                         c.history_hidden, c.history_heads)
        self.config = config
        self.anime_emb = init_embedding(nn.Embedding(ctx.n_anime, c.anime_dim, padding_idx=0))
        self.genre_pool = EmbeddingPool(ctx.n_genres, c.genre_dim, c.genre_heads)
        self.tag_pool = EmbeddingPool(ctx.n_tags, c.tag_dim, c.tag_heads, use_weights=True)
        self.studio_pool = EmbeddingPool(ctx.n_studios, c.studio_dim, c.studio_heads, use_weights=True)
        self.encoder = CatalogEncoder(ctx.graph, ctx.n_relation_types, c.encoder_hidden, c.rel_dim,
                                      c.encoder_layers, c.encoder_dropout, c.encoder_anime_id_dim,
                                      c.negative_slope)
        self.rel_pool = RelationPool(c.rel_dim, c.rel_heads, ctx.n_relation_types)
        self._state_cache: tuple[tuple, torch.Tensor] | None = None
        t = ctx.tables
        for name in ("genre_idx", "tag_idx", "studio_idx", "rel_idx", "rel_type"):
            self.register_buffer(name, getattr(t, name).long(), persistent=False)
        for name in ("tag_w", "studio_w", "rel_w"):
            self.register_buffer(name, getattr(t, name).float(), persistent=False)

    def item_state(self) -> torch.Tensor:
        """Encoder output ``[n_anime, rel_dim]``, computed once per forward and shared by all item lookups.

        In eval mode without autograd the output is cached until any encoder
        parameter or buffer changes (an optimizer step, ``load_state_dict``,
        ``.to()``), so evaluating many small batches does not rerun the encoder.
        """
        if self.training or torch.is_grad_enabled():
            self._state_cache = None
            return self.encoder()
        # _version counts in-place writes to a tensor; data_ptr changes when it is replaced or moved.
        key = tuple((t.data_ptr(), t._version, t.dtype) for t in
                    (*self.encoder.parameters(), *self.encoder.buffers()))
        if self._state_cache is None or self._state_cache[0] != key:
            self._state_cache = (key, self.encoder())
        return self._state_cache[1]

    def item_vectors(self, anime: torch.Tensor | None = None,
                     state: torch.Tensor | None = None) -> torch.Tensor:
        enc = self.item_state() if state is None else state
        idx = torch.arange(enc.shape[0], device=enc.device) if anime is None else anime
        return torch.cat([
            self.anime_emb(idx),
            self.genre_pool(self.genre_idx[idx]),
            self.tag_pool(self.tag_idx[idx], self.tag_w[idx]),
            self.studio_pool(self.studio_idx[idx], self.studio_w[idx]),
            self.rel_pool(enc, idx, self.rel_idx[idx], self.rel_type[idx], self.rel_w[idx]),
        ], dim=-1)
