""""Will watch": a score for every catalog anime from the user's history, trained as a softmax over the catalog.

.. math::
    \\text{watch}(a) = \\langle u, h_a \\rangle + b(h_a) + o\\,[n_a = 0]
        + \\sum_{j \\in \\text{hist}} \\big[\\omega_{t(a,j)} + \\omega'_{t(a,j)} z_j\\big]
        + \\sum_{j \\in \\text{hist}} w^{(2)}_{aj} \\big[\\omega_2 + \\omega'_2 z_j\\big]
        + \\sum_{j \\in \\text{hist}} c_{ja} \\big[\\omega_c + \\omega'_c z_j\\big]

with :math:`u` the user's taste vector (:class:`gnn.models.user.TasteVector`), :math:`h_a` the
anime's graph vector, :math:`b` a learned linear bias of it (so an anime nobody rated still gets a
prior from the graph: catalog popularity, franchise, studio), :math:`o` one learned offset for the anime
with no training rating (``unrated_watch_offset``, :meth:`WatchScore.prior`), :math:`t(a, j)` the relation type of a
rated anime ``j`` to ``a`` and :math:`w^{(2)}` the two-hop weights: having rated the prequel (and
liked it) makes the sequel likely next; :math:`c_{ja}` is the co-rated weight of ``a`` in ``j``'s list of
its most co-rated anime (:func:`gnn.graph.corated.corated_table`): what the users who rated ``j`` also
rated, pushed through the rating graph's anime-user-anime paths. Every term is pushed from the
history: only the rated anime's own lists (and their relatives' lists) are read, for a training
batch and for the exported model's single user alike.
"""

from __future__ import annotations

import torch
from torch import nn

from gnn.models.layers import rows_of
from gnn.models.pairs import AnimeTables


class WatchScore(nn.Module):
    """Whole-catalog "will watch" logits.

    Shapes:
        - :meth:`forward`: ``taste [B, D]``, ``h [N, D]``, ``hist [B, H]``, ``z [B, H]`` -> ``[B, N]``
    """

    def __init__(self, item_dim: int, n_relation_types: int, corated_scale: bool = False,
                 unrated: torch.Tensor | None = None) -> None:
        super().__init__()
        self.bias = nn.Linear(item_dim, 1)
        # Optional (``unrated [N]`` bool given): one learned offset on the anime with no training rating. They are
        # negatives of every training step and never a positive; without it the softmax ranks them down by
        # moving their graph vectors, which the rating head reads too. Starts at -10, near where training
        # takes it: a scalar moves about lr per Adam step, and a model without it ends with those anime's
        # logits ~18 below the rated ones'.
        self.unrated_offset = nn.Parameter(torch.tensor(-10.0)) if unrated is not None else None
        if unrated is not None:
            self.register_buffer("unrated", unrated, persistent=False)
        self.rel_weight = nn.Parameter(torch.zeros(max(1, n_relation_types), 2))   # (seen, rating) per type
        self.hop2_weight = nn.Parameter(torch.zeros(2))
        self.co_weight = nn.Parameter(torch.zeros(2))                                  # (seen, rating), co-rated
        # Optional: how much the co-rated term counts at each receiving anime, exp(v . h_a) (1 at the start).
        self.co_scale = nn.Linear(item_dim, 1) if corated_scale else None
        if self.co_scale is not None:
            nn.init.zeros_(self.co_scale.weight)
            nn.init.zeros_(self.co_scale.bias)

    def scale_corated(self, values: torch.Tensor, h: torch.Tensor, anime: torch.Tensor | None = None) -> torch.Tensor:
        """``values`` of the co-rated term times exp(v . h_a) when ``corated_scale`` is on, as they are when it
        is off. ``h``: the graph vectors of the values' anime (``[..., D]`` beside ``values [...]``), or with
        ``anime`` (indices shaped as ``values``) the whole table ``[N, D]``."""
        if self.co_scale is None:
            return values
        rows = h if anime is None else rows_of(h, anime)
        return values * self.co_scale(rows).squeeze(-1).clamp(-5.0, 5.0).exp()

    def prior(self, h: torch.Tensor, anime: torch.Tensor | None = None) -> torch.Tensor:
        """The anime's own part of the logit, ``b(h_a)`` (+ the unrated offset where the anime has no training
        rating): ``h [..., D]`` the graph vectors of ``anime [...]``, or without ``anime`` of every anime ``[N, D]``."""
        out = self.bias(h).squeeze(-1)
        if self.unrated_offset is None:
            return out
        unrated = self.unrated if anime is None else self.unrated[anime]
        return out + unrated.to(out.dtype) * self.unrated_offset

    @staticmethod
    def _mirror_rows(idx: torch.Tensor, values: torch.Tensor,
                     rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The lists of the anime ``rows [..., H]`` seen from the other side: ``(relatives [..., H, R], the
        value each relative's own list gives row j [..., H, R], found [..., H, R] bool)``; ``H x R x R``
        work per history, so a request never touches the whole catalog."""
        rel = rows_of(idx, rows)                                              # [..., H, R]
        hit = (rows_of(idx, rel) == rows[..., None, None]) & (rel > 0).unsqueeze(-1)   # [..., H, R, R]
        found = hit.any(-1)
        pos = hit.to(torch.float32).argmax(-1, keepdim=True)                  # the first hit
        value = rows_of(values, rel).gather(-1, pos).squeeze(-1)
        return rel, value, found

    @staticmethod
    def _spread(n: int, *parts: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """``[B, n]``: each ``(anime [B, ...], value [B, ...])`` added at its anime; the padding column stays 0."""
        B = parts[0][0].shape[0]
        out = parts[0][1].new_zeros(B, n)
        for idx, val in parts:
            out = out.scatter_add(1, idx.reshape(B, -1), val.reshape(B, -1))
        return torch.cat([out.new_zeros(B, 1), out[:, 1:]], dim=1)

    def relation_term(self, t: AnimeTables, hist: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``[B, N]``: the relation part of the logits for histories ``hist``/``z`` ``[B, H]`` (padding = 0).

        Pushed from the history: each rated anime ``j`` adds its terms to the anime that list it, with
        the type and weight those anime's own lists give.
        """
        real = (hist > 0).to(z.dtype).unsqueeze(-1)                               # [B, H, 1]
        rel, rel_type, found = self._mirror_rows(t.rel_idx, t.rel_type, hist)
        w = rows_of(self.rel_weight, rel_type.clamp(min=0))                       # [B, H, R, 2]
        rel_val = (w[..., 0] + w[..., 1] * z.unsqueeze(-1)) * found * real
        hop, hop_w, hop_found = self._mirror_rows(t.hop2_idx, t.hop2_w, hist)
        hop_val = hop_w * hop_found * (self.hop2_weight[0] + self.hop2_weight[1] * z.unsqueeze(-1)) * real
        return self._spread(t.rel_idx.shape[0], (rel, rel_val), (hop, hop_val))

    def corated_term(self, t: AnimeTables, hist: torch.Tensor, z: torch.Tensor,
                     keep: torch.Tensor | None = None) -> torch.Tensor:
        """``[B, N]``: the co-rated part, pushed from each history entry to the anime on its list.

        ``keep [N]`` bool (training): anime trained as if nobody had rated them neither push nor receive.
        """
        co_idx, co_w = rows_of(t.co_idx, hist), rows_of(t.co_w, hist)              # [B, H, K]
        if keep is not None:
            co_w = co_w * (keep[co_idx] & keep[hist].unsqueeze(-1)).to(co_w.dtype)
        return self._spread(t.co_idx.shape[0], (co_idx, self.corated_values(co_w, z, hist)))

    def corated_values(self, w: torch.Tensor, z: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        """``w [..., H, K]`` co-rated weights of the entries ``hist``/``z`` ``[..., H]`` -> their logit terms."""
        return w * (self.co_weight[0] + self.co_weight[1] * z.unsqueeze(-1)) * (hist > 0).to(z.dtype).unsqueeze(-1)

    def relation_term_one(self, t: AnimeTables, hist: torch.Tensor, z: torch.Tensor,
                          anime: torch.Tensor, h_anime: torch.Tensor | None = None) -> torch.Tensor:
        """The relation and co-rated parts for one history ``hist``/``z`` ``[H]`` at the anime ``anime [M]``
        (what the exported model computes; the padding anime gets 0). ``h_anime [M, D]``: their graph
        vectors, needed with the co-rated scale."""
        if self.co_scale is not None and h_anime is None:
            raise ValueError("the co-rated scale needs the anime's graph vectors (h_anime)")
        co = rows_of(self.corated_term(t, hist[None], z[None])[0], anime)
        if h_anime is not None:
            co = self.scale_corated(co, h_anime)
        return rows_of(self.relation_term(t, hist[None], z[None])[0], anime) + co

    def forward(self, t: AnimeTables, taste: torch.Tensor, h: torch.Tensor, hist: torch.Tensor,
                z: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """``keep [N]`` bool (training): anime trained as if nobody had rated them get no co-rated part."""
        return (taste @ h.t() + self.prior(h) + self.relation_term(t, hist, z)
                + self.scale_corated(self.corated_term(t, hist, z, keep), h))

    def one(self, t: AnimeTables, taste: torch.Tensor, h_anime: torch.Tensor, hist: torch.Tensor,
            z: torch.Tensor, anime: torch.Tensor) -> torch.Tensor:
        """The logits ``[M]`` of the anime ``anime [M]`` (graph vectors ``h_anime [M, D]``) for one user: taste
        ``[D]``, history ``hist``/``z`` ``[H]``; what :meth:`forward` gives at those columns, without the catalog."""
        return (h_anime @ taste.unsqueeze(1)).squeeze(1) + self.prior(h_anime, anime) \
            + self.relation_term_one(t, hist, z, anime, h_anime)


def catalog_softmax_loss(logits: torch.Tensor, target: torch.Tensor, rated: torch.Tensor) -> torch.Tensor:
    """Mean over the real targets (``target [B, T]`` > 0) of ``-log p(target)`` under a softmax of
    ``logits [B, N]`` over the catalog. Candidates: each target and every anime outside ``rated [B, R]``
    (the user's other rated anime are no negatives); the padding anime 0 never is one."""
    exclude = torch.zeros_like(logits, dtype=torch.bool).scatter_(1, rated, True)
    exclude = exclude & ~torch.zeros_like(exclude).scatter_(1, target, True)
    exclude[:, 0] = True
    logp = torch.log_softmax(logits.masked_fill(exclude, -1e9), dim=1)
    return -logp.gather(1, target)[target > 0].mean()
