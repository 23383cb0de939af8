"""The user-anime rating graph: four edge types over one pair of CSR structures.

Both directions, each twice: "who rated it" (weight 1/degree) and "how" (weight z/degree, z the
normalized rating), so a message says both (GC-MC's rating-typed edges, with the rating as a scale
instead of one weight matrix per rating level). All four are the same edges, so they share one
user-major and one anime-major CSR structure (int32 indices) and keep only their weights, per edge:
about 28 bytes per rating at rest instead of ~200 for four separate matrices with transposes.
"""

from __future__ import annotations

import torch
from torch import nn

from gnn.models.base import RatingEdges
from gnn.graph.csr import csr_matrix, csr_structure, in_order
from gnn.models.sparse import SparseAdjacency

RATES = ("user", "rates", "anime")
RATES_Z = ("user", "rates_z", "anime")
RATED_BY = ("anime", "rated_by", "user")
RATED_BY_Z = ("anime", "rated_by_z", "user")
RATING_EDGE_TYPES = (RATED_BY, RATED_BY_Z, RATES, RATES_Z)


class RatingGraph(nn.Module):
    """The rating edges ``r`` as :data:`RATING_EDGE_TYPES`; each node's messages are a mean over its neighbours.

    Shapes:
        - **input:** ``keep`` :math:`[E]` bool or None (edges hidden this step weigh 0; degrees stay
          the full graph's)
        - **output:** ``{edge type: SparseAdjacency}``: ``[n_users, n_anime]`` for ``RATED_BY*``,
          ``[n_anime, n_users]`` for ``RATES*``
    """

    def __init__(self, r: RatingEdges, n_anime: int) -> None:
        super().__init__()
        self.n_users, self.n_anime = r.n_users, n_anime
        deg_u = torch.bincount(r.user, minlength=r.n_users).clamp_min(1).float()
        deg_a = torch.bincount(r.anime, minlength=n_anime).clamp_min(1).float()
        z = r.z.float()
        for name, w in (("rated_by", 1.0 / deg_u[r.user]), ("rated_by_z", z / deg_u[r.user]),
                        ("rates", 1.0 / deg_a[r.anime]), ("rates_z", z / deg_a[r.anime])):
            self.register_buffer("w_" + name, w, persistent=False)           # per edge, in edge order
        for prefix, rows, cols, n_rows, n_cols in (("user_", r.user, r.anime, r.n_users, n_anime),
                                                    ("anime_", r.anime, r.user, n_anime, r.n_users)):
            crow, col, order = csr_structure(rows, cols, n_rows, n_cols)
            for name, t in (("crow", crow), ("col", col), ("order", order)):
                self.register_buffer(prefix + name, t, persistent=False)

    def _matrix(self, rows: str, w: torch.Tensor) -> torch.Tensor:
        shape = (self.n_users, self.n_anime) if rows == "user" else (self.n_anime, self.n_users)
        return csr_matrix(getattr(self, rows + "_crow"), getattr(self, rows + "_col"),
                          in_order(w, getattr(self, rows + "_order")), shape)

    def forward(self, keep: torch.Tensor | None = None) -> dict[tuple[str, str, str], SparseAdjacency]:
        """The four adjacencies; their transposes only where autograd is on."""
        out = {}
        for edge in RATING_EDGE_TYPES:
            w = getattr(self, "w_" + edge[1])
            if keep is not None:
                w = w * keep.to(w.dtype)
            rows, cols = edge[2], edge[0]
            out[edge] = SparseAdjacency(self._matrix(rows, w),
                                        self._matrix(cols, w) if torch.is_grad_enabled() else None)
        return out
