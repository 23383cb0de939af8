"""How each anime a user rated relates to the anime being scored: features of (target, history entry) pairs.

For a target ``a`` and a history entry ``j`` the catalog says:

* the relation type of ``j`` to ``a`` (sequel, prequel, side story, ..., 0 = none), one hop;
* the two-hop relation weight (the sequel of the prequel; :func:`gnn.graph.hops.two_hop_table`);
* whether they share their main studio (the highest-weighted studio: the animation studio);
* the cosine of their tag vectors (tag weights) and of their genre sets;
* how often the same users rated both (:func:`gnn.graph.corated.corated_table`: the anime-user-anime
  paths of the training ratings), from either anime's list of its most co-rated anime.

All of it is user-independent catalog data looked up in padded per-anime tables, written with
comparisons, gathers and matrix products only, so it exports to ONNX unchanged and computes the
same numbers there (the target-aware attention in :mod:`gnn.models.user` reads them).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gnn.graph.builder import ItemTables
from gnn.models.layers import rows_of

N_PAIR_FEATURES = 5  # two-hop weight, same main studio, tag cosine, genre cosine, co-rated weight


@dataclass(frozen=True)
class AnimeTables:
    """The per-anime lists the request-time code reads (row = anime index, 0 = padding), int64/float32.

    Passed explicitly so that an exporter can hand the same code tables it stores compactly.
    """

    genre_idx: torch.Tensor   # [N, G]
    tag_idx: torch.Tensor     # [N, T]
    tag_w: torch.Tensor
    studio_idx: torch.Tensor  # [N, S], strongest (the animation studio) first
    studio_w: torch.Tensor
    rel_idx: torch.Tensor     # [N, R]
    rel_type: torch.Tensor
    rel_w: torch.Tensor
    hop2_idx: torch.Tensor    # [N, R2] (gnn.graph.hops.two_hop_table)
    hop2_w: torch.Tensor
    co_idx: torch.Tensor      # [N, K] most co-rated anime (gnn.graph.corated.corated_table)
    co_w: torch.Tensor

    @classmethod
    def build(cls, tables: ItemTables, two_hop: tuple[torch.Tensor, torch.Tensor],
              corated: tuple[torch.Tensor, torch.Tensor]) -> "AnimeTables":
        return cls(tables.genre_idx.long(), tables.tag_idx.long(), tables.tag_w.float(), tables.studio_idx.long(),
                   tables.studio_w.float(), tables.rel_idx.long(), tables.rel_type.long(), tables.rel_w.float(),
                   two_hop[0].long(), two_hop[1].float(), corated[0].long(), corated[1].float())


def _unit_rows(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)


class PairFeatures(nn.Module):
    """Catalog facts about (target, history entry) pairs, from :class:`AnimeTables` (no parameters).

    Shapes:
        - **input:** ``target`` :math:`[B, T]`, ``hist`` :math:`[B, H]` anime indices (0 = padding)
        - **output:** ``(relation [B, T, H] long, features [B, T, H, 4] float)``; ``relation`` is
          1 + the relation type of ``hist`` to ``target`` (0 = not related, or padding)
    """

    def __init__(self, n_tags: int, n_genres: int) -> None:
        super().__init__()
        self.register_buffer("tag_ids", torch.arange(n_tags), persistent=False)
        self.register_buffer("genre_ids", torch.arange(n_genres), persistent=False)

    @staticmethod
    def relation(t: AnimeTables, target: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        """``[B, T, H]``: 1 + type of the relation ``hist -> target`` (one hop), 0 if none."""
        rel = rows_of(t.rel_idx, target)                                             # [B, T, R]
        match = (rel.unsqueeze(-1) == hist[:, None, None, :]) & (rel > 0).unsqueeze(-1)
        return (match.long() * (rows_of(t.rel_type, target) + 1).unsqueeze(-1)).amax(2)

    @staticmethod
    def two_hop(t: AnimeTables, target: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        """``[B, T, H]``: two-hop relation weight of ``hist`` to ``target`` (0 if none)."""
        rel = rows_of(t.hop2_idx, target)                                            # [B, T, R2]
        match = (rel.unsqueeze(-1) == hist[:, None, None, :]) & (rel > 0).unsqueeze(-1)
        return (match.to(t.hop2_w.dtype) * rows_of(t.hop2_w, target).unsqueeze(-1)).amax(2)

    @staticmethod
    def same_studio(t: AnimeTables, target: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        """``[B, T, H]``: 1 where both have the same main studio (the first, highest-weighted entry)."""
        s_t, s_h = rows_of(t.studio_idx[:, 0], target), rows_of(t.studio_idx[:, 0], hist)
        return ((s_t.unsqueeze(-1) == s_h.unsqueeze(1)) & (s_t > 0).unsqueeze(-1)).to(torch.float32)

    @staticmethod
    def _dense(idx: torch.Tensor, w: torch.Tensor | None, ids: torch.Tensor) -> torch.Tensor:
        """Unit-norm weighted multi-hot ``[..., n]`` of padded lists ``[..., L]`` (index 0 ignored)."""
        hot = (idx.unsqueeze(-1) == ids).to(torch.float32) * (idx > 0).unsqueeze(-1)
        if w is not None:
            hot = hot * w.unsqueeze(-1)
        return _unit_rows(hot.sum(-2))

    def content_vectors(self, t: AnimeTables, anime: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Unit tag and genre vectors ``([..., n_tags], [..., n_genres])`` of ``anime`` (None: every anime)."""
        tag_idx, tag_w, genre_idx = ((t.tag_idx, t.tag_w, t.genre_idx) if anime is None
                                     else (rows_of(t.tag_idx, anime), rows_of(t.tag_w, anime), rows_of(t.genre_idx, anime)))
        return self._dense(tag_idx, tag_w, self.tag_ids), self._dense(genre_idx, None, self.genre_ids)

    def content_cosine(self, t: AnimeTables, target: torch.Tensor, hist: torch.Tensor,
                       vectors: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tag cosine, genre cosine)``, each ``[B, T, H]``; ``vectors``: :meth:`content_vectors` of every
        anime, when a caller keeps them (the same numbers, read instead of rebuilt)."""
        if vectors is None:
            tags_t, genres_t = self.content_vectors(t, target)
            tags_h, genres_h = self.content_vectors(t, hist)
        else:
            tags_t, genres_t = rows_of(vectors[0], target), rows_of(vectors[1], target)
            tags_h, genres_h = rows_of(vectors[0], hist), rows_of(vectors[1], hist)
        return tags_t @ tags_h.transpose(1, 2), genres_t @ genres_h.transpose(1, 2)

    @staticmethod
    def corated_pairs(t: AnimeTables, target: torch.Tensor, hist: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(from the target's list, from the entry's list)``, ``[B, T, H]`` each: co-rated weight of the pair
        where the one anime lists the other among its most co-rated (0 if not, and at padding)."""
        real = ((hist > 0)[:, None, :] & (target > 0)[:, :, None]).to(t.co_w.dtype)   # [B, T, H]
        own = rows_of(t.co_idx, target)                                             # [B, T, K]
        from_target = ((own.unsqueeze(-1) == hist[:, None, None, :]).to(t.co_w.dtype)
                       * rows_of(t.co_w, target).unsqueeze(-1)).amax(2)             # [B, T, H]
        theirs = rows_of(t.co_idx, hist)                                            # [B, H, K]
        from_entry = ((theirs.unsqueeze(1) == target[:, :, None, None]).to(t.co_w.dtype)
                      * rows_of(t.co_w, hist).unsqueeze(1)).amax(-1)                # [B, T, H]
        return from_target * real, from_entry * real

    def forward(self, t: AnimeTables, target: torch.Tensor, hist: torch.Tensor,
                vectors: tuple[torch.Tensor, torch.Tensor] | None = None,
                corated: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``corated``: the co-rated weights ``[B, T, H]`` when the caller adjusted them (training)."""
        tag, genre = self.content_cosine(t, target, hist, vectors)
        co = torch.maximum(*self.corated_pairs(t, target, hist)) if corated is None else corated
        feats = torch.stack([self.two_hop(t, target, hist), self.same_studio(t, target, hist), tag, genre, co], dim=-1)
        return self.relation(t, target, hist), feats
