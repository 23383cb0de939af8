"""The baseline's exported module (a :class:`gnn.models.concat_head.ConcatHeadModel` folded into tables by
:mod:`gnn.export.tables`): the precomputed scorer (the older request-time one, kept for the latency
comparison, is :mod:`benchmarks.request_time`; the GNN's is :mod:`gnn.export.gnn_scorer`).

It takes exactly the ONNX inputs::

    user        int64   [1]      known user index >= 1, or 0 = new user scored from the history
    hist_anime  int64   [1, H]   anime indices, padded with 0 (masked)
    hist_rating float32 [1, H]   ratings on the original scale, 0 at padding
    anime       int64   [batch]  candidate anime indices

and returns ``rating`` float32 ``[batch]`` on the original scale, clamped to it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gnn.export import ExportError
from gnn.export.tables import ExportTables
from gnn.models.history import HistoryEncoder
from gnn.models.layers import MASK_VALUE


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
                 rating_low: float, rating_high: float, table_dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
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
        return self._head(self.item_head[anime].float() + u)

    def _head(self, h: torch.Tensor) -> torch.Tensor:
        """First-layer sums ``[N, h1]`` -> ratings ``[N]`` (original scale, clamped)."""
        if self.first_act:
            h = F.leaky_relu(h, self.slope)
        z = self.rest(h).squeeze(-1)
        return (z * self.std + self.mean).clamp(self.low, self.high)
