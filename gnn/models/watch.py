""""Will watch": a score for every catalog anime from the user's history, trained as a softmax over the catalog.

.. math::
    \\text{watch}(a) = \\langle u, h_a \\rangle + b(h_a)
        + \\sum_{j \\in \\text{hist}} \\big[\\omega_{t(a,j)} + \\omega'_{t(a,j)} z_j\\big]
        + \\sum_{j \\in \\text{hist}} w^{(2)}_{aj} \\big[\\omega_2 + \\omega'_2 z_j\\big]

with :math:`u` the user's taste vector (:class:`gnn.models.user.TasteVector`), :math:`h_a` the
anime's graph vector, :math:`b` a learned linear bias of it (so an anime nobody rated still gets a
prior from the graph: catalog popularity, franchise, studio), :math:`t(a, j)` the relation type of a
rated anime ``j`` to ``a`` and :math:`w^{(2)}` the two-hop weights: having rated the prequel (and
liked it) makes the sequel likely next. The relation terms are computed two ways with the same
numbers: :meth:`WatchScore.relation_term` spreads a batch of histories through sparse matrices
(training, ``B`` users at once), :meth:`relation_term_one` gathers over each anime's relation list
(one user; what the exported model does, no sparse ops in ONNX).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

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

    def relation_term_one(self, t: AnimeTables, count: torch.Tensor, zsum: torch.Tensor,
                          anime: torch.Tensor) -> torch.Tensor:
        """The same for one user, for the anime ``anime [M]``: ``count``/``zsum`` ``[N]`` are the
        history spread over the catalog (0 at the padding row)."""
        rel, w = t.rel_idx[anime], self.rel_weight[t.rel_type[anime]]              # [M, R], [M, R, 2]
        rel_part = (count[rel] * w[..., 0] + zsum[rel] * w[..., 1]).sum(-1)
        hop, hw = t.hop2_idx[anime], t.hop2_w[anime]
        hop_part = (hw * (count[hop] * self.hop2_weight[0] + zsum[hop] * self.hop2_weight[1])).sum(-1)
        return rel_part + hop_part

    def forward(self, t: AnimeTables, taste: torch.Tensor, h: torch.Tensor, hist: torch.Tensor,
                z: torch.Tensor) -> torch.Tensor:
        return taste @ h.t() + self.bias(h).squeeze(-1) + self.relation_term(t, hist, z)
