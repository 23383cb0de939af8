"""Building blocks shared by the rating models: attention pooling and the MLP head.

Both are written with plain tensor ops (linear, softmax, masked_fill, sum) so they
export to ONNX and behave the same there: exported ``nn.MultiheadAttention`` was
about 4x slower in onnxruntime and returned NaN for a fully masked list.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

# Logit given to masked entries. A finite constant rather than -inf: softmax over
# a row of -inf is NaN, and -inf handling differs between PyTorch and ONNX
# runtimes. -1e4 still fits float16 and makes exp() underflow to exactly 0.
MASK_VALUE = -1e4

# Floor under per-entry weights before log(), so a zero weight on a real entry
# gives a very low but finite bias.
_MIN_WEIGHT = 1e-6


class AttentionPool(nn.Module):
    r"""Multi-head single-query attention pooling over a padded list.

    Every pool has its own learned query (optionally shifted by a per-row
    ``query`` input), so the result depends on the list alone and never on the
    user: item-side pools can be precomputed into constant tables for export.
    A learned **null entry** is prepended to every list and never masked, so an
    empty list yields a finite, learned vector instead of NaN.

    Per head :math:`h` with head size :math:`d_h = \text{dim} / H`:

    .. math::
        s_{j,h} = \frac{q_h^\top W_K x_j}{\sqrt{d_h}} + \alpha_h \log w_j,
        \qquad \text{out} = W_O\,\big\Vert_h \textstyle\sum_j
        \mathrm{softmax}_j(s_{\cdot,h})_j\, (W_V x_j)_h

    where the null entry's bias is a learned per-head scalar instead of
    :math:`\alpha_h \log w_j`, and masked entries get the logit :data:`MASK_VALUE`.

    Args:
        dim (int): Entry (and output) size; divisible by ``heads``.
        heads (int): Number of attention heads.
        use_weights (bool): Add :math:`\alpha_h \log w_j` (learned
            :math:`\alpha_h`, initialised to 1, so the configured weights act as
            a prior over the list) to the logits.
        query_dim (int): If positive, ``forward`` takes a ``[B, query_dim]``
            tensor whose projection is added to the learned query.

    Shapes:
        - **input:** entries ``x`` :math:`[B, L, \text{dim}]`, ``mask``
          :math:`[B, L]` bool (True = real entry), optional ``weight``
          :math:`[B, L]` float, optional ``query`` :math:`[B, \text{query\_dim}]`
        - **output:** :math:`[B, \text{dim}]`
    """

    def __init__(self, dim: int, heads: int, use_weights: bool = False, query_dim: int = 0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.dim, self.heads, self.head_dim = dim, heads, dim // heads
        self.use_weights = use_weights
        self.query = nn.Parameter(torch.randn(heads, self.head_dim) / math.sqrt(self.head_dim))
        self.query_proj = nn.Linear(query_dim, dim, bias=False) if query_dim > 0 else None
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.null = nn.Parameter(torch.randn(dim) * 0.1)
        self.null_bias = nn.Parameter(torch.zeros(heads))
        self.weight_scale = nn.Parameter(torch.ones(heads)) if use_weights else None
        # head_mask[h, i] = 1 where feature i belongs to head h.
        head_mask = (torch.arange(dim) // self.head_dim == torch.arange(heads).unsqueeze(1)).float()
        self.register_buffer("head_mask", head_mask, persistent=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor | None = None,
                query: torch.Tensor | None = None) -> torch.Tensor:
        B, L, _ = x.shape
        H, D, dim = self.heads, self.head_dim, self.dim
        x = torch.cat([self.null.expand(B, 1, dim), x], dim=1)                 # [B, L+1, dim]
        q = self.query.unsqueeze(0)                                             # [1, H, D]
        if self.query_proj is not None:
            assert query is not None, "this pool needs a query"
            q = q + self.query_proj(query).view(B, H, D)                        # [B, H, D]

        # With a single query, q.(W_K x + b_K) = x.(W_K^T q) + q.b_K: fold the
        # query into the key weights instead of projecting every entry, which
        # costs O(L * dim * H) instead of O(L * dim^2). Same maths, same result.
        # q_blocks[h] is q with every head but h zeroed, so one GEMM does all heads.
        q_blocks = q.reshape(q.shape[0], 1, dim) * self.head_mask               # [1|B, H, dim]
        q_k = torch.matmul(q_blocks, self.key.weight)                           # [1|B, H, dim]
        q_b = torch.matmul(q_blocks, self.key.bias)                             # [1|B, H]
        logits = (torch.matmul(x, q_k.transpose(1, 2)) + q_b.unsqueeze(1)) / math.sqrt(D)  # [B, L+1, H]

        bias = self.null_bias.expand(B, 1, H)
        if self.weight_scale is not None:
            assert weight is not None, "this pool needs per-entry weights"
            entry_bias = torch.log(weight.clamp_min(_MIN_WEIGHT)).unsqueeze(-1) * self.weight_scale
        else:
            entry_bias = x.new_zeros(B, L, H)
        logits = logits + torch.cat([bias, entry_bias], dim=1)
        keep = torch.cat([mask.new_ones(B, 1), mask], dim=1).unsqueeze(-1)    # null is never masked
        logits = logits.masked_fill(~keep, MASK_VALUE)
        attn = torch.softmax(logits, dim=1)                                     # over entries

        # Likewise sum_j a_j (W_V x_j + b_V) = W_V (sum_j a_j x_j) + b_V since the
        # weights sum to 1: pool the raw entries per head, then project once.
        # Head h keeps only its own block of the projection of its pooled entries.
        pooled_x = torch.matmul(attn.transpose(1, 2), x)                        # [B, H, dim]
        pooled = (self.value(pooled_x) * self.head_mask).sum(1)                 # [B, dim]
        return self.out(pooled)


class EmbeddingPool(nn.Module):
    r"""Embedding table (row 0 = padding) followed by an :class:`AttentionPool`.

    Shapes:
        - **input:** ``idx`` :math:`[B, L]` long (0 = padding), optional ``weight`` :math:`[B, L]`
        - **output:** :math:`[B, \text{dim}]`
    """

    def __init__(self, num: int, dim: int, heads: int, use_weights: bool = False) -> None:
        super().__init__()
        self.emb = init_embedding(nn.Embedding(num, dim, padding_idx=0))
        self.pool = AttentionPool(dim, heads, use_weights=use_weights)

    def forward(self, idx: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        return self.pool(self.emb(idx), idx > 0, weight)


def make_mlp(in_dim: int, hidden: Sequence[int], dropout: float = 0.0,
             negative_slope: float = 0.01, norm: str = "batch") -> nn.Sequential:
    r"""``Linear -> BatchNorm1d -> LeakyReLU -> Dropout`` per hidden size, then ``Linear`` to 1.

    ``norm="layer"`` puts a ``LayerNorm`` where the ``BatchNorm1d`` is: the same computation in training
    and evaluation (batch statistics and their running averages disagree when dropout or per-step
    masking changes what a training batch looks like).

    The first layer is a plain ``Linear`` over the concatenated input, so an
    exporter can split it as :math:`W_u u + W_i i + b` by slicing its weight.

    Shapes:
        - **input:** :math:`[B, \text{in\_dim}]`
        - **output:** :math:`[B, 1]`
    """
    layers: list[nn.Module] = []
    prev = in_dim
    for size in hidden:
        layers += [nn.Linear(prev, size), nn.BatchNorm1d(size) if norm == "batch" else nn.LayerNorm(size),
                   nn.LeakyReLU(negative_slope), nn.Dropout(dropout)]
        prev = size
    layers.append(nn.Linear(prev, 1))
    return nn.Sequential(*layers)


def init_embedding(emb: nn.Embedding, std: float = 0.1) -> nn.Embedding:
    """Small normal init (the default N(0, 1) swamps the other concatenated parts); padding row 0 zeroed."""
    nn.init.normal_(emb.weight, std=std)
    if emb.padding_idx is not None:
        with torch.no_grad():
            emb.weight[emb.padding_idx].zero_()
    return emb


def rows_of(table: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``table[idx]`` (rows of ``table [N, ...]`` for indices ``idx`` of any shape) as one ``index_select``.

    Its backward adds rows, cheaper than indexing's ``index_put``; in ONNX it is one ``Gather``, where
    the exporter writes tensor indexing as a much slower ``GatherND``.
    """
    return table.index_select(0, idx.reshape(-1)).view(*idx.shape, *table.shape[1:])
