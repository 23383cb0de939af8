"""The user side: a user is their ratings, read once for taste and once per anime being scored.

* :class:`HistoryEntries`: each rated anime becomes an entry :math:`e_j = \\sigma(A h_j + z_j (C h_j + c))`
  from its graph vector :math:`h_j` and the normalized rating :math:`z_j` (the rating scales an
  item-specific direction, so a low rating can flip what an anime says about taste).
* :class:`TasteVector`: attention pooling of the entries (no target), the vector a whole-catalog
  "will watch" score reads; computed once per request.
* :class:`TargetAttention`: DIN-style attention over the entries *in the light of the target*: its
  logits add the query-key product of the two anime's graph vectors to learned per-head biases
  for how the catalog relates them (relation type, two-hop weight, shared studio, tags, genres;
  :mod:`gnn.models.pairs`), so the prequel a user rated weighs most when scoring the sequel.
* :class:`ShrunkOffset`: the user's offset over the anime's biases, shrunk toward 0 by a learned
  prior count (:math:`\\sum_j d_j / (n + \\lambda)`), added to the rating as a classic model adds a
  user bias: 5 ratings say less about how high a user rates than 200 do.

Every pool has a learned null entry that is never masked, so an empty history gives a finite vector
(a fully masked softmax is NaN in ONNX Runtime).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gnn.models.layers import MASK_VALUE, AttentionPool


class HistoryEntries(nn.Module):
    """``(h [..., H, item_dim], z [..., H]) -> e [..., H, hidden]``; padding entries must be masked by the reader."""

    def __init__(self, item_dim: int, hidden: int, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.a = nn.Linear(item_dim, hidden)
        self.c = nn.Linear(item_dim, hidden, bias=False)
        self.rating_dir = nn.Parameter(torch.zeros(hidden))
        self.act = nn.LeakyReLU(negative_slope)

    def forward(self, h: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.act(self.a(h) + z.unsqueeze(-1) * (self.c(h) + self.rating_dir))


def history_stats(z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``[..., 2]``: mean normalized rating (the user's bias) and ``log(1 + n)`` of the unmasked entries."""
    m = mask.to(z.dtype)
    n = m.sum(-1, keepdim=True)
    return torch.cat([(z * m).sum(-1, keepdim=True) / n.clamp_min(1.0), torch.log1p(n)], dim=-1)


class ShrunkOffset(nn.Module):
    r"""``w * sum_j dev_j / (n + lambda)`` over the unmasked entries of each target: the user's bias.

    ``lambda = softplus(c)`` is learned (starting at 4, the prior count of a user whose offsets spread
    half as far as their ratings around it), and so is ``w`` (starting at 1). The mean deviation that
    :class:`TargetAttention` hands the MLP says how far a user is off, not how sure 5 ratings make it.
    With ``fade``, the offset is also scaled by ``kappa / (n + kappa)`` (``kappa`` learned, starting at
    16): it speaks for short histories and leaves long ones to the rest of the model.

    Shapes:
        - **input:** ``dev`` :math:`[B, H]` (rating minus the anime's bias, 0 at padding), ``mask``
          :math:`[B, T, H]` bool
        - **output:** :math:`[B, T]`
    """

    def __init__(self, prior: float = 4.0, fade: bool = False, horizon: float = 16.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(()))
        self.log_prior = _positive_parameter(prior)
        self.log_horizon = _positive_parameter(horizon) if fade else None

    @property
    def prior(self) -> torch.Tensor:
        return nn.functional.softplus(self.log_prior)

    @property
    def horizon(self) -> torch.Tensor:
        """``kappa`` (only with ``fade``)."""
        return nn.functional.softplus(self.log_horizon)

    def forward(self, dev: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.to(dev.dtype)
        n = m.sum(-1)
        out = self.weight * (m * dev.unsqueeze(1)).sum(-1) / (n + self.prior)
        if self.log_horizon is not None:
            out = out * self.horizon / (n + self.horizon)
        return out


def _positive_parameter(start: float) -> nn.Parameter:
    """A scalar read through softplus, starting at ``start`` (> 0): softplus^-1(start)."""
    return nn.Parameter(torch.tensor(math.log(math.expm1(start))))


class TasteVector(nn.Module):
    """Target-free user vector ``[B, out_dim]`` from entries ``[B, H, hidden]`` (what the user watches)."""

    def __init__(self, hidden: int, out_dim: int, heads: int, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.pool = AttentionPool(hidden, heads)
        self.out = nn.Sequential(nn.Linear(hidden + 2, hidden), nn.LeakyReLU(negative_slope),
                                 nn.Linear(hidden, out_dim))

    def forward(self, entries: torch.Tensor, z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.out(torch.cat([self.pool(entries, mask), history_stats(z, mask)], dim=-1))


class TargetAttention(nn.Module):
    r"""Multi-head attention of each target over the history entries, biased by catalog pair features.

    For head :math:`k`, target :math:`a` and entry :math:`j`:

    .. math::
        s_{ajk} = \frac{(W_q h_a)_k \cdot (W_k e_j)_k}{\sqrt{d_k}} + \beta_{k, t(a,j)}
                  + \textstyle\sum_f \theta_{kf}\, x_f(a, j)

    with :math:`t(a, j)` the relation type of ``j`` to ``a`` (0 = none) and :math:`x_f` the pair
    features. The output concatenates the attended values, the attended normalized rating and the
    attended deviation per head (what the user thought of the anime that matter for this target, raw
    and beyond the anime's own bias: liking a prequel more than most people do says more than liking
    it), and the history's mean rating, mean deviation and size, through a linear map to ``out_dim``.

    Shapes:
        - **input:** ``target_h`` :math:`[B, T, D]`, ``entries`` :math:`[B, H, h]`, ``z`` and ``dev``
          (rating minus the anime's bias) :math:`[B, H]`, ``mask`` :math:`[B, T, H]` bool (False =
          padding or the target itself),
          ``relation`` :math:`[B, T, H]` long, ``features`` :math:`[B, T, H, F]`
        - **output:** :math:`[B, T, \text{out\_dim}]`
    """

    def __init__(self, item_dim: int, hidden: int, heads: int, n_relations: int, n_features: int,
                 out_dim: int) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden {hidden} is not divisible by heads {heads}")
        self.heads, self.head_dim = heads, hidden // heads
        self.query = nn.Linear(item_dim, hidden)
        self.key = nn.Linear(hidden, hidden, bias=False)
        self.value = nn.Linear(hidden, hidden)
        self.relation_bias = nn.Parameter(torch.zeros(n_relations + 1, heads))  # row 0: not related
        self.feature_bias = nn.Linear(n_features, heads, bias=False)
        nn.init.zeros_(self.feature_bias.weight)
        self.null_key = nn.Parameter(torch.zeros(heads))            # the null entry's logit per head
        self.null_value = nn.Parameter(torch.zeros(hidden))
        self.out = nn.Linear(hidden + 2 * heads + 4, out_dim)

    def logits(self, target_h: torch.Tensor, entries: torch.Tensor, relation: torch.Tensor,
               features: torch.Tensor) -> torch.Tensor:
        """``[B, T, H, heads]`` attention logits before masking."""
        B, T, _ = target_h.shape
        H = entries.shape[1]
        q = self.query(target_h).view(B, T, self.heads, self.head_dim)
        k = self.key(entries).view(B, H, self.heads, self.head_dim)
        dot = torch.einsum("btkd,bhkd->bthk", q, k) / math.sqrt(self.head_dim)
        # A one-hot product rather than an embedding lookup: its backward is a plain matrix product.
        types = torch.arange(self.relation_bias.shape[0], device=relation.device)
        onehot = (relation.unsqueeze(-1) == types).to(dot.dtype)                # [B, T, H, n_types + 1]
        return dot + onehot @ self.relation_bias + self.feature_bias(features)

    def forward(self, target_h: torch.Tensor, entries: torch.Tensor, z: torch.Tensor, dev: torch.Tensor,
                mask: torch.Tensor, relation: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        B, T, _ = target_h.shape
        logits = self.logits(target_h, entries, relation, features).masked_fill(~mask.unsqueeze(-1), MASK_VALUE)
        null = self.null_key.view(1, 1, 1, self.heads).expand(B, T, 1, self.heads)
        attn = torch.softmax(torch.cat([null, logits], dim=2), dim=2)          # [B, T, 1 + H, heads]
        values = self.value(entries).view(B, -1, self.heads, self.head_dim)    # [B, H, heads, d]
        pooled = torch.einsum("bthk,bhkd->btkd", attn[:, :, 1:], values)
        pooled = pooled + attn[:, :, :1].transpose(2, 3) * self.null_value.view(self.heads, self.head_dim)
        attended_z = torch.einsum("bthk,bh->btk", attn[:, :, 1:], z)           # the null entry says 0
        attended_dev = torch.einsum("bthk,bh->btk", attn[:, :, 1:], dev)
        stats = torch.cat([history_stats(z.unsqueeze(1).expand(B, T, -1), mask),
                           history_stats(dev.unsqueeze(1).expand(B, T, -1), mask)], dim=-1)
        return self.out(torch.cat([pooled.reshape(B, T, -1), attended_z, attended_dev, stats], dim=-1))
