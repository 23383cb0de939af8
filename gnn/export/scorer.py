"""The modules that are exported to ONNX: the precomputed scorer (the older request-time one, kept for the
latency comparison, is :mod:`benchmarks.request_time`).

It takes exactly the ONNX inputs::

    user        int64   [1]      known user index >= 1, or 0 = new user scored from the history
    hist_anime  int64   [1, H]   anime indices, padded with 0 (masked)
    hist_rating float32 [1, H]   ratings on the original scale, 0 at padding
    anime       int64   [batch]  candidate anime indices

and returns ``rating`` float32 ``[batch]`` on the original scale, clamped to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gnn.export import ExportError
from gnn.export.tables import ExportTables
from gnn.models.history import HistoryEncoder
from gnn.models.layers import MASK_VALUE
from gnn.models.series import SeriesTerm, related_from_catalog


class LeaveOneOutHistory(nn.Module):
    r"""A :class:`HistoryEncoder` applied to one history under ``V`` masks, sharing the per-entry work.

    Same maths as ``HistoryEncoder.forward`` (and its :class:`AttentionPool`) on
    ``V`` masked copies of one history, but the entries
    :math:`e_j = \sigma(A\,\text{item}_j + r_j (C\,\text{item}_j + c))` and their
    attention logits are computed once; only masking, softmax and pooling run
    per mask. That is exact: a masked entry gets the logit ``MASK_VALUE``, whose
    softmax weight underflows to exactly 0, so its value never matters. It reads
    the encoder's parameters from the outside (no hook in the model); the parity
    check at export catches any drift from the model's own code.

    Shapes:
        - **input:** ``rows`` :math:`[H, 2h]` (history table rows), ``z`` :math:`[H]`
          (normalized ratings, 0 at padding), ``masks`` :math:`[V, H]` bool
        - **output:** :math:`[V, \text{user\_dim}]`
    """

    def __init__(self, encoder: HistoryEncoder) -> None:
        super().__init__()
        pool = encoder.pool
        if pool.query_proj is not None or pool.weight_scale is not None:
            raise ExportError("the history pool takes a query or weights; the exporter does not support that")
        self.encoder = encoder

    def forward(self, rows: torch.Tensor, z: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        enc, pool = self.encoder, self.encoder.pool
        a, c = rows.split(enc.hidden, dim=-1)                                    # [H, h] each
        e = enc.act(a + z.unsqueeze(-1) * (c + enc.rating_dir))                  # [H, h]
        x = torch.cat([pool.null.unsqueeze(0), e], dim=0)                        # [H + 1, h]: null entry first
        q_blocks = pool.query.reshape(1, pool.dim) * pool.head_mask              # [heads, h]
        logits = (x @ (q_blocks @ pool.key.weight).T + q_blocks @ pool.key.bias) / math.sqrt(pool.head_dim)
        logits = logits + torch.cat([pool.null_bias.unsqueeze(0), torch.zeros_like(logits[1:])], dim=0)
        keep = torch.cat([torch.ones_like(masks[:, :1]), masks], dim=1).unsqueeze(-1)  # [V, H + 1, 1]
        attn = torch.softmax(logits.unsqueeze(0).masked_fill(~keep, MASK_VALUE), dim=1)  # [V, H + 1, heads]
        pooled = (pool.value(attn.transpose(1, 2) @ x) * pool.head_mask).sum(1)  # [V, h]
        m = masks.to(z.dtype)
        n = m.sum(1, keepdim=True)                                               # [V, 1]
        mean_r = (m * z).sum(1, keepdim=True) / n.clamp_min(1.0)
        return enc.out(torch.cat([pool.out(pooled), mean_r, torch.log1p(n)], dim=-1))


@dataclass(frozen=True)
class SeriesExport:
    """The fitted franchise terms and the catalog's relation table ``[n_anime, R]`` they read."""

    known: SeriesTerm
    history: SeriesTerm
    rel_idx: torch.Tensor
    rel_w: torch.Tensor


class PrecomputedScorer(nn.Module):
    r"""Gathers from constant tables + the history encoder's pool/MLP + the folded head.

    Per request: the history's user vector is computed once for the whole
    history and once more per history position with that anime left out
    (``H + 1`` masks over one set of entries, :class:`LeaveOneOutHistory`), because the PyTorch model ignores a history entry
    equal to the candidate (no rating feeds its own prediction); a candidate in
    the history reads its leave-one-out vector, every other candidate the full
    one. Cost: :math:`O(H^2 \cdot h)` for the history plus
    :math:`O(\text{batch} \cdot h_1^2)` for the head, nothing per catalog item.

    Shapes:
        - **input:** see the module docstring (``H`` fixed at export, ``batch`` dynamic)
        - **output:** :math:`[\text{batch}]` float32
    """

    def __init__(self, tables: ExportTables, rating_mean: float, rating_std: float,
                 rating_low: float, rating_high: float, table_dtype: torch.dtype = torch.float32,
                 series: SeriesExport | None = None) -> None:
        super().__init__()
        self.series = series if series is not None and (series.known.alpha or series.history.alpha) else None
        if self.series is not None:
            # Compact, exact storage (model.onnx has a 10 MB budget): the smallest index type, and the few
            # distinct relation weights as uint8 codes into a float32 table.
            rel_idx = self.series.rel_idx
            self.register_buffer("rel_idx", rel_idx.to(torch.int16 if rel_idx.shape[0] <= 32767 else torch.int32))
            values, codes = torch.unique(self.series.rel_w.float(), return_inverse=True)
            if len(values) > 256:
                raise ExportError(f"{len(values)} distinct relation weights; at most 256 export")
            self.register_buffer("rel_code", codes.to(torch.uint8))
            self.register_buffer("rel_values", values)
        self.register_buffer("item_head", tables.item_head.to(table_dtype))
        self.register_buffer("history_table", tables.history_table.to(table_dtype))
        self.register_buffer("user_table", tables.user_table.to(table_dtype))
        self.register_buffer("user_proj", tables.user_proj.float())
        self.history = LeaveOneOutHistory(tables.history)
        self.rest = tables.rest
        self.first_act = tables.first_act
        self.slope = tables.negative_slope
        self.mean, self.std = float(rating_mean), float(rating_std)
        self.low, self.high = float(rating_low), float(rating_high)

    def user_vectors(self, user: torch.Tensor, hist_anime: torch.Tensor,
                     hist_rating: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(U [H + 1, h1], U_id [1, h1], known [1])``: history rows (leave-one-out, then full), ID row."""
        hist = hist_anime[0]                                              # [H]
        H = hist.shape[0]
        mask = hist > 0                                                   # [H]
        z = torch.where(mask, (hist_rating[0] - self.mean) / self.std, torch.zeros_like(hist_rating[0]))
        rows = self.history_table[hist].float()                          # [H, 2h]
        same = hist.unsqueeze(0) == hist.unsqueeze(1)                     # [H, H]: entry j repeats entry k
        masks = torch.cat([mask.unsqueeze(0) & ~same, mask.unsqueeze(0)], dim=0)  # [H + 1, H]
        vecs = self.history(rows, z, masks)                                # [H + 1, user_dim]
        n_users = self.user_table.shape[0]
        # Indices outside the table (or 0) fall back to the history instead of failing the gather.
        known = (user > 0) & (user < n_users)                             # [1]
        uid = self.user_table[user.clamp(0, n_users - 1)].float()        # [1, user_dim]
        return vecs @ self.user_proj.T, uid @ self.user_proj.T, known

    def forward(self, user: torch.Tensor, hist_anime: torch.Tensor, hist_rating: torch.Tensor,
                anime: torch.Tensor) -> torch.Tensor:
        U, U_id, known = self.user_vectors(user, hist_anime, hist_rating)
        H = hist_anime.shape[1]
        match = (anime.unsqueeze(1) == hist_anime) & (hist_anime > 0)     # [batch, H]
        # Duplicates of one anime share a leave-one-out row, so the first match is as good as any.
        pos = torch.where(match.any(1), match.to(torch.float32).argmax(1), torch.full_like(anime, H))
        u = torch.where(known.unsqueeze(1), U_id, U[pos])                  # [batch, h1]
        rating = self._head(self.item_head[anime].float() + u)
        if self.series is None:
            return rating
        return (rating + self._series_offset(U, U_id, known, hist_anime[0], hist_rating[0], anime)
                ).clamp(self.low, self.high)

    def _head(self, h: torch.Tensor) -> torch.Tensor:
        """First-layer sums ``[N, h1]`` -> ratings ``[N]`` (original scale, clamped)."""
        if self.first_act:
            h = F.leaky_relu(h, self.slope)
        z = self.rest(h).squeeze(-1)
        return (z * self.std + self.mean).clamp(self.low, self.high)

    def _series_offset(self, U: torch.Tensor, U_id: torch.Tensor, known: torch.Tensor, hist: torch.Tensor,
                       hist_rating: torch.Tensor, anime: torch.Tensor) -> torch.Tensor:
        """The franchise term (:mod:`gnn.models.series`) of every candidate ``[batch]``.

        Each history entry's residual is its rating minus its prediction: from the
        ID row for a known user, from its leave-one-out row ``U[j]`` otherwise (as
        in PyTorch). The residuals are spread over the catalog, then every
        candidate gathers those of its related anime.
        """
        assert self.series is not None
        H = hist.shape[0]
        mask = (hist > 0).to(torch.float32)                                # [H]
        u = torch.where(known.unsqueeze(1), U_id, U[:H])                   # [H, h1]
        resid = (hist_rating - self._head(self.item_head[hist].float() + u)) * mask
        n_anime = self.rel_idx.shape[0]
        # A one-hot product rather than index_add: exact sums for repeated anime with either exporter
        # (the TorchScript one turned index_add into a scatter that overwrites).
        onehot = (hist.unsqueeze(1) == torch.arange(n_anime).unsqueeze(0)).to(torch.float32)  # [H, n_anime]
        resid_sum, resid_count = resid @ onehot, mask @ onehot
        rel = self.rel_idx[anime].long()                                   # [batch, R]
        rel_w = self.rel_values[self.rel_code[anime].long()]
        total, weight = related_from_catalog(rel, rel_w, resid_sum, resid_count)
        k, h = self.series.known, self.series.history
        return torch.where(known, k.offset(total, weight), h.offset(total, weight))

