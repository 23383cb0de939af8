""""Will watch": a score for every catalog anime from the user's history, trained as a softmax over the catalog.

.. math::
    \\text{watch}(a) = \\langle u, h_a \\rangle + b(h_a)
        + \\sum_{j \\in \\text{hist}} \\big[\\omega_{t(a,j)} + \\omega'_{t(a,j)} z_j\\big]
        + \\sum_{j \\in \\text{hist}} w^{(2)}_{aj} \\big[\\omega_2 + \\omega'_2 z_j\\big]
        + \\sum_{j \\in \\text{hist}} c_{ja} \\big[\\omega_c + \\omega'_c z_j\\big]

with :math:`u` the user's taste vector (:class:`gnn.models.user.TasteVector`), :math:`h_a` the
anime's graph vector, :math:`b` a learned linear bias of it (so an anime nobody rated still gets a
prior from the graph: catalog popularity, franchise, studio), :math:`t(a, j)` the relation type of a
rated anime ``j`` to ``a`` and :math:`w^{(2)}` the two-hop weights: having rated the prequel (and
liked it) makes the sequel likely next; :math:`c_{ja}` is the co-rated weight of ``a`` in ``j``'s list of
its most co-rated anime (:func:`gnn.graph.corated.corated_table`): what the users who rated ``j`` also
rated, pushed through the rating graph's anime-user-anime paths. The relation terms are computed two ways with the same
numbers: :meth:`WatchScore.relation_term` pushes a batch of histories through mirrored relation
tables cached for the whole catalog (training, ``B`` users at once), :meth:`relation_term_one` reads
only the history's own relatives at request time (one user; what the exported model does).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from gnn.models.layers import rows_of
from gnn.models.pairs import AnimeTables


class WatchScore(nn.Module):
    """Whole-catalog "will watch" logits.

    Shapes:
        - :meth:`forward`: ``taste [B, D]``, ``h [N, D]``, ``hist [B, H]``, ``z [B, H]`` -> ``[B, N]``
    """

    def __init__(self, item_dim: int, n_relation_types: int) -> None:
        super().__init__()
        self.bias = nn.Linear(item_dim, 1)
        self.rel_weight = nn.Parameter(torch.zeros(max(1, n_relation_types), 2))   # (seen, rating) per type
        self.hop2_weight = nn.Parameter(torch.zeros(2))
        self.co_weight = nn.Parameter(torch.zeros(2))                                  # (seen, rating), co-rated

    @staticmethod
    def _mirror(idx: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For each entry ``(j, r)`` (``a = idx[j, r]``): where ``j`` sits in ``a``'s own list, and the value
        stored there, ``(position [N, R] long, -1 if j is not in a's list; value [N, R])``."""
        other = idx[idx]                                                      # [N, R, R]: a's list
        hit = (other == torch.arange(idx.shape[0], device=idx.device).view(-1, 1, 1)) & (idx > 0).unsqueeze(-1)
        found = hit.any(-1)
        pos = torch.where(found, hit.to(torch.int8).argmax(-1), torch.full_like(idx, -1))
        value = torch.where(found, values[idx].gather(2, pos.clamp(min=0).unsqueeze(-1)).squeeze(-1),
                            torch.zeros_like(values))
        return pos, value

    def _push_tables(self, t: AnimeTables) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(type of j for a [N, R] (-1 = none), two-hop weight w(a, j) [N, R2])`` seen from each anime
        ``j``'s own lists, so a history can push its terms to the anime that list it (cached)."""
        key = (t.rel_idx.data_ptr(), t.hop2_idx.data_ptr(), tuple(t.rel_idx.shape), tuple(t.hop2_idx.shape))
        if getattr(self, "_push_key", None) != key:
            pos, rel_type = self._mirror(t.rel_idx, t.rel_type.float())
            _, hop_w = self._mirror(t.hop2_idx, t.hop2_w)
            self._push_key, self._push = key, (torch.where(pos >= 0, rel_type.long(), torch.full_like(pos, -1)),
                                                hop_w, pos)
        return self._push

    def relation_term(self, t: AnimeTables, hist: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``[B, N]``: the relation part of the logits for a batch of histories (padding = anime 0).

        Pushed from the history: each rated anime ``j`` adds its terms to the anime that list it,
        with the type and weight those anime's own lists give (exactly what
        :meth:`relation_term_one` gathers).
        """
        B, n = hist.shape[0], t.rel_idx.shape[0]
        rel_type, hop_w, _ = self._push_tables(t)
        real = (hist > 0).to(z.dtype).unsqueeze(-1)                               # [B, H, 1]
        types = rel_type[hist]                                                    # [B, H, R]
        w = self.rel_weight[types.clamp(min=0)]                                   # [B, H, R, 2]
        rel_val = (w[..., 0] + w[..., 1] * z.unsqueeze(-1)) * (types >= 0) * real
        hop_val = hop_w[hist] * (self.hop2_weight[0] + self.hop2_weight[1] * z.unsqueeze(-1)) * real
        out = torch.zeros(B, n, dtype=z.dtype, device=z.device)
        out = out.scatter_add(1, t.rel_idx[hist].reshape(B, -1), rel_val.reshape(B, -1))
        out = out.scatter_add(1, t.hop2_idx[hist].reshape(B, -1), hop_val.reshape(B, -1))
        return torch.cat([out.new_zeros(B, 1), out[:, 1:]], dim=1)               # nothing lands on the padding

    def corated_term(self, t: AnimeTables, hist: torch.Tensor, z: torch.Tensor,
                     keep: torch.Tensor | None = None) -> torch.Tensor:
        """``[B, N]``: the co-rated part, pushed from each history entry to the anime on its list.

        ``keep [N]`` bool (training): anime trained as if nobody had rated them neither push nor receive.
        """
        B = hist.shape[0]
        co_idx, co_w = rows_of(t.co_idx, hist), rows_of(t.co_w, hist)              # [B, H, K]
        if keep is not None:
            co_w = co_w * (keep[co_idx] & keep[hist].unsqueeze(-1)).to(co_w.dtype)
        co_val = self.corated_values(co_w, z, hist)
        out = torch.zeros(B, t.co_idx.shape[0], dtype=z.dtype, device=z.device)
        out = out.scatter_add(1, co_idx.reshape(B, -1), co_val.reshape(B, -1))
        return torch.cat([out.new_zeros(B, 1), out[:, 1:]], dim=1)

    def corated_values(self, w: torch.Tensor, z: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        """``w [..., H, K]`` co-rated weights of the entries ``hist``/``z`` ``[..., H]`` -> their logit terms."""
        return w * (self.co_weight[0] + self.co_weight[1] * z.unsqueeze(-1)) * (hist > 0).to(z.dtype).unsqueeze(-1)

    @staticmethod
    def _mirror_rows(idx: torch.Tensor, values: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`_mirror` for the lists of ``rows [H]`` only (request time: ``H x R x R`` work, not ``N x R``):
        ``(relatives [H, R], value [H, R] that each relative's own list gives row j, found [H, R] bool)``."""
        rel = rows_of(idx, rows)                                              # [H, R]
        hit = (rows_of(idx, rel) == rows.view(-1, 1, 1)) & (rel > 0).unsqueeze(-1)   # [H, R, R]
        found = hit.any(-1)
        pos = hit.to(torch.float32).argmax(-1, keepdim=True)                  # first hit
        value = rows_of(values, rel).gather(2, pos).squeeze(-1)
        return rel, value, found

    def relation_term_one(self, t: AnimeTables, hist: torch.Tensor, z: torch.Tensor,
                          anime: torch.Tensor) -> torch.Tensor:
        """The same for one history ``hist``/``z`` ``[H]``, for the anime ``anime [M]``: pushed from the
        history rows, whose relatives' own lists are read at request time (no whole-catalog gathers)."""
        real = (hist > 0).to(z.dtype).unsqueeze(-1)                               # [H, 1]
        rel, rel_type, found = self._mirror_rows(t.rel_idx, t.rel_type, hist)
        w = rows_of(self.rel_weight, rel_type.clamp(min=0))                       # [H, R, 2]
        rel_val = (w[..., 0] + w[..., 1] * z.unsqueeze(-1)) * found * real
        hop, hop_w, hop_found = self._mirror_rows(t.hop2_idx, t.hop2_w, hist)
        hop_val = hop_w * hop_found * (self.hop2_weight[0] + self.hop2_weight[1] * z.unsqueeze(-1)) * real
        co_val = self.corated_values(rows_of(t.co_w, hist), z, hist)               # [H, K]
        out = z.new_zeros(t.rel_idx.shape[0])
        out = out.scatter_add(0, rel.reshape(-1), rel_val.reshape(-1)).scatter_add(0, hop.reshape(-1), hop_val.reshape(-1))
        out = out.scatter_add(0, rows_of(t.co_idx, hist).reshape(-1), co_val.reshape(-1))
        return rows_of(out, anime) * (anime > 0)                                  # nothing lands on the padding

    def forward(self, t: AnimeTables, taste: torch.Tensor, h: torch.Tensor, hist: torch.Tensor,
                z: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """``keep [N]`` bool (training): anime trained as if nobody had rated them get no co-rated part."""
        return (taste @ h.t() + self.bias(h).squeeze(-1) + self.relation_term(t, hist, z)
                + self.corated_term(t, hist, z, keep))
