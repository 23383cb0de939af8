"""The rating head's item side: an anime's graph vector joined to pools over its catalog lists.

``[h_a || genres || tags || studios || relatives]``: the encoder output :math:`h_a` (128-d) plus an
attention pool over each padded per-anime list (genres 32, tags 32 with their rank weights, studios
16 with their influence weights) and a relation pool (32) over the relatives' own graph vectors, so
an anime is also described by the anime its franchise holds. Every part is user-independent.
"""

from __future__ import annotations

import torch
from torch import nn

from gnn.models.layers import AttentionPool, EmbeddingPool, init_embedding, rows_of
from gnn.models.pairs import AnimeTables


class RelationPool(nn.Module):
    """An anime's own vector plus an attention pool over its relatives' vectors (+ a relation-type embedding)."""

    def __init__(self, dim: int, heads: int, n_relation_types: int) -> None:
        super().__init__()
        self.type_emb = init_embedding(nn.Embedding(max(1, n_relation_types), dim))
        self.pool = AttentionPool(dim, heads, use_weights=True, query_dim=dim)

    def forward(self, own: torch.Tensor, relatives: torch.Tensor, rel_idx: torch.Tensor, rel_type: torch.Tensor,
                rel_w: torch.Tensor) -> torch.Tensor:
        """``own [..., d]``, ``relatives [..., R, d]`` (vectors of the relatives, rows at padding ignored)."""
        entries = relatives + self.type_emb(rel_type)
        flat = entries.reshape(-1, *entries.shape[-2:])
        pooled = self.pool(flat, (rel_idx > 0).reshape(-1, rel_idx.shape[-1]), rel_w.reshape(-1, rel_w.shape[-1]),
                           query=own.reshape(-1, own.shape[-1]))
        return own + pooled.view(own.shape)


class ItemVectors(nn.Module):
    """``(anime [...], h [n_anime, anime_dim], tables) -> [..., dim]`` with
    ``dim = anime_dim + genre_dim + tag_dim + studio_dim + rel_dim``."""

    def __init__(self, anime_dim: int, sizes: dict[str, int], dims: dict[str, int], heads: dict[str, int]) -> None:
        """``sizes``: vocabulary sizes (``genres``, ``tags``, ``studios``, ``relation_types``); ``dims`` and
        ``heads``: size and attention heads of each pool (``genre``, ``tag``, ``studio``, ``rel``)."""
        super().__init__()
        self.genre_pool = EmbeddingPool(sizes["genres"], dims["genre"], heads["genre"])
        self.tag_pool = EmbeddingPool(sizes["tags"], dims["tag"], heads["tag"], use_weights=True)
        self.studio_pool = EmbeddingPool(sizes["studios"], dims["studio"], heads["studio"], use_weights=True)
        self.rel_in = nn.Linear(anime_dim, dims["rel"])
        self.rel_pool = RelationPool(dims["rel"], heads["rel"], sizes["relation_types"])
        self.dim = anime_dim + sum(dims[k] for k in ("genre", "tag", "studio", "rel"))

    def forward(self, anime: torch.Tensor, h: torch.Tensor, t: AnimeTables) -> torch.Tensor:
        def rows(table: torch.Tensor) -> torch.Tensor:
            return rows_of(table, anime.reshape(-1))

        flat = (*anime.shape, -1)
        rel = self.rel_in(h)                                        # [N, rel_dim]: cheaper than per relative
        rel_idx = rows_of(t.rel_idx, anime)
        return torch.cat([
            rows_of(h, anime),
            self.genre_pool(rows(t.genre_idx)).view(flat),
            self.tag_pool(rows(t.tag_idx), rows(t.tag_w)).view(flat),
            self.studio_pool(rows(t.studio_idx), rows(t.studio_w)).view(flat),
            self.rel_pool(rows_of(rel, anime), rows_of(rel, rel_idx), rel_idx,
                          rows_of(t.rel_type, anime), rows_of(t.rel_w, anime)),
        ], dim=-1)
