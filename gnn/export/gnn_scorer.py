"""The exported form of :class:`gnn.models.recommender.GNNRecommender`: no message passing, compact tables.

ONNX inputs (opset 18)::

    hist_anime  int64   [1, history]  anime indices (a free length, up to the model's scoring_history), 0 = padding
    hist_rating float32 [1, history]  ratings on the original scale, 0 at padding
    anime       int64   [batch]       candidate anime indices (the caller leaves out what it does not want)

Outputs, ``[batch]`` each: ``score`` (the ranking score, higher first) and ``rating`` (the predicted
rating, original scale). Two stages, as :meth:`GNNRecommender.rank`: the "will watch" logit of every
candidate (one product with the anime vectors, plus the relation terms gathered per anime), then
the rating head for the ``rank_candidates`` best by it; ``score = watch + log P(liked)`` there.
Candidates outside that set get ``score = -inf`` and ``rating = NaN``: pass at most
``rank_candidates`` anime to have every one of them rated.

Tables: the encoder output ``h`` as int8 with one float scale per anime (``h = q * scale``), anime
index lists as int16/uint8, weights as uint8 codes into a 256-entry float32 codebook per table
(:func:`codebook`: exact where a table has at most 256 distinct values, as relation weights do, else
256 even steps from 0 to the table's maximum). The relation, two-hop and co-rated tables keep only the
rows of anime that have entries (:data:`SPARSE_GROUPS`). The PyTorch model used for the parity check reads the
same dequantized tables, so parity measures the export, and the effect of the rounding on the float
model is measured and reported separately.
"""

from __future__ import annotations

import copy
from dataclasses import fields

import torch
from torch import nn

from gnn.export import ExportError
from gnn.models.layers import rows_of
from gnn.models.pairs import AnimeTables
from gnn.models.recommender import GNNRecommender


def quantize_rows(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(q int8 [N, D], scale float32 [N])`` with ``q * scale`` the closest symmetric 8-bit rows."""
    scale = (h.abs().amax(1) / 127.0).clamp_min(1e-12)
    return torch.round(h / scale.unsqueeze(1)).clamp(-127, 127).to(torch.int8), scale.float()


def codebook(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(codes uint8 [same shape], book float32 [256])`` with ``book[codes]`` close to ``w >= 0``.

    The distinct values themselves when there are at most 256 (exact); else 256 even steps from 0 to
    ``w.max()`` (nearest step; 0, the padding weight, stays exactly 0).
    """
    w = w.float()
    if bool((w < 0).any()):
        raise ExportError("weight tables must be non-negative to be coded")
    values = torch.unique(w)
    if len(values) <= 256:
        book = torch.zeros(256)
        book[:len(values)] = values
        return torch.searchsorted(values, w).to(torch.uint8), book
    book = torch.linspace(0.0, float(w.max()), 256)
    return torch.round(w / book[1]).clamp(0, 255).to(torch.uint8), book


def dequantize(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return q.to(torch.float32) * scale.unsqueeze(1)


# Index tables whose rows are mostly padding, with the tables that share their rows.
SPARSE_GROUPS = {"rel_idx": ("rel_type", "rel_w"), "hop2_idx": ("hop2_w",), "co_idx": ("co_w",)}
_GROUP_OF = {name: key for key, members in SPARSE_GROUPS.items() for name in (key, *members)}


def _index_dtype(n: int) -> torch.dtype:
    if n < 2**7:
        return torch.uint8
    if n < 2**15:
        return torch.int16
    return torch.int32


class GNNScorer(nn.Module):
    """A frozen copy of the model's request-time parts plus its compact tables (see the module docstring)."""

    def __init__(self, model: GNNRecommender, h: torch.Tensor) -> None:
        super().__init__()
        m = copy.deepcopy(model).eval().requires_grad_(False)
        m.encoder = None  # type: ignore[assignment]  # no message passing at request time
        self.m = m
        q, scale = quantize_rows(h)
        self.register_buffer("h_q", q)
        self.register_buffer("h_scale", scale)
        t, n = model.tables, h.shape[0]
        sizes = {"genre_idx": m.item.genre_pool.emb.num_embeddings, "tag_idx": m.item.tag_pool.emb.num_embeddings,
                 "studio_idx": m.item.studio_pool.emb.num_embeddings, "rel_idx": n, "hop2_idx": n, "co_idx": n,
                 "rel_type": m.attention.relation_bias.shape[0]}
        self.index_names = tuple(sizes)
        for name, size in sizes.items():
            table = getattr(t, name)
            if int(table.max()) >= size:
                raise ExportError(f"{name} holds an index beyond its vocabulary ({int(table.max())} >= {size})")
            self.register_buffer(f"c_{name}", table.to(_index_dtype(size)))
        self.weight_names = ("tag_w", "studio_w", "rel_w", "hop2_w", "co_w")
        for name in self.weight_names:
            codes, book = codebook(getattr(t, name))
            self.register_buffer(f"c_{name}", codes)
            self.register_buffer(f"book_{name}", book)
        for f in fields(AnimeTables):  # the float model's own tables are not part of the export
            delattr(m, f"table_{f.name}")
        self._store_rows_with_entries()
        self.C = int(model.config.rank_candidates)

    def _store_rows_with_entries(self) -> None:
        """Keep only the rows of the anime with entries in each :data:`SPARSE_GROUPS` table group.

        Most anime have no relatives or co-rated anime: their rows are all padding. Such a group is
        stored as its non-empty rows after one all-padding row 0, plus ``rows_<group> [N]``, the row of
        each anime (0 = none); :meth:`tables` gathers the full tables back (a row gather per table).
        """
        for key, members in SPARSE_GROUPS.items():
            idx = getattr(self, f"c_{key}")
            filled = (idx != 0).any(1).nonzero().squeeze(1)
            rows = torch.zeros(idx.shape[0], dtype=torch.long)
            rows[filled] = torch.arange(1, len(filled) + 1)
            self.register_buffer(f"rows_{key}", rows.to(_index_dtype(len(filled) + 1)))
            for name in (key, *members):
                full = getattr(self, f"c_{name}")
                setattr(self, f"c_{name}", torch.cat([torch.zeros_like(full[:1]), full[filled]]))

    def _code(self, name: str) -> torch.Tensor:
        """Table ``name`` as stored, one row per anime."""
        stored = getattr(self, f"c_{name}")
        key = _GROUP_OF.get(name)
        return stored if key is None else rows_of(stored, getattr(self, f"rows_{key}").to(torch.int64))

    def tables(self) -> AnimeTables:
        """The compact tables cast back to what the model's code reads (Cast nodes in ONNX)."""
        out = {name: self._code(name).to(torch.int64) for name in self.index_names}
        out.update({name: rows_of(getattr(self, f"book_{name}"), self._code(name).to(torch.int64))
                    for name in self.weight_names})
        return AnimeTables(**out)

    def reference_tables(self) -> tuple[torch.Tensor, AnimeTables]:
        """``(h, tables)`` as this scorer sees them, for the PyTorch side of the parity check."""
        return dequantize(self.h_q, self.h_scale), self.tables()

    def forward(self, hist_anime: torch.Tensor, hist_rating: torch.Tensor, anime: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.m
        z = torch.where(hist_anime > 0, (hist_rating - m.rating_mean) / m.rating_std, torch.zeros_like(hist_rating))
        return m.score_candidates(hist_anime, z, anime, dequantize(self.h_q, self.h_scale), self.tables())
