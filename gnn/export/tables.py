"""Fold a trained :class:`ConcatHeadModel` (the baseline) into constant tables for a message-passing-free ONNX graph.

The rating head is ``MLP([user_vec || item_vec])`` whose first layer is
``BN(W_u u + W_i i + b)`` (eval mode: a per-feature affine ``s * x + t``). Since
``i`` is user-independent, ``s * (W_i i_a + b) + t`` is one row per anime,
computed here once: the exported graph adds ``(s * W_u) u`` to a gathered row.
Every later ``Linear -> BatchNorm1d`` pair is folded into one ``Linear``.
The encoder output and all item-side pools (genres, tags, studios, relations)
only feed ``i``, so none of them is left in the graph.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from gnn.export import ExportError
from gnn.models.concat_head import ConcatHeadModel
from gnn.models.history import HistoryEncoder


@dataclass(frozen=True)
class ExportTables:
    """Everything the exported scorer needs, in float32 (row ``a`` = anime index ``a``, row 0 = padding).

    * ``item_head`` ``[n_anime, h1]``: the item part of the first head layer, BN folded in.
    * ``user_proj`` ``[h1, user_dim]``: ``s * W_u``, applied to a user vector per request.
    * ``history_table`` ``[n_anime, 2 * history_hidden]``: :meth:`ConcatHeadModel.history_item_table`.
    * ``user_table`` ``[n_users, user_dim]``: user ID embeddings (row 0 = padding), or ``[1, user_dim]`` zeros
      when the export leaves them out.
    * ``rest``: the head after the first layer, BN folded, dropout removed (may be empty).
    * ``history``: a frozen copy of the model's :class:`HistoryEncoder` (pool + small MLP).
    * ``first_act``: whether a LeakyReLU follows the first layer (False only for a head without hidden layers).
    """

    item_head: torch.Tensor
    user_proj: torch.Tensor
    history_table: torch.Tensor
    user_table: torch.Tensor
    rest: nn.Sequential
    history: HistoryEncoder
    first_act: bool
    negative_slope: float


def _bn_affine(bn: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode BatchNorm as ``s * x + t`` (float64)."""
    if bn.running_mean is None or bn.running_var is None:
        raise ExportError("cannot fold a BatchNorm1d without running statistics")
    s = torch.rsqrt(bn.running_var.double() + bn.eps)
    if bn.weight is not None:
        s = s * bn.weight.double()
    t = -bn.running_mean.double() * s
    if bn.bias is not None:
        t = t + bn.bias.double()
    return s, t


def _fold_rest(layers: list[nn.Module]) -> nn.Sequential:
    """``[LeakyReLU, Dropout, Linear, BN, ...]`` -> ``Sequential`` of folded Linears and LeakyReLUs."""
    out: list[nn.Module] = []
    i = 0
    while i < len(layers):
        layer = layers[i]
        if isinstance(layer, nn.Dropout):
            pass  # identity in eval mode
        elif isinstance(layer, nn.LeakyReLU):
            out.append(nn.LeakyReLU(float(layer.negative_slope)))
        elif isinstance(layer, nn.Linear):
            w = layer.weight.double()
            b = layer.bias.double() if layer.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
            if i + 1 < len(layers) and isinstance(layers[i + 1], nn.BatchNorm1d):
                s, t = _bn_affine(layers[i + 1])
                w, b = w * s.unsqueeze(1), b * s + t
                i += 1
            lin = nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                lin.weight.copy_(w.float())
                lin.bias.copy_(b.float())
            out.append(lin)
        else:
            raise ExportError(f"unsupported layer in the rating head: {type(layer).__name__}")
        i += 1
    return nn.Sequential(*out).eval().requires_grad_(False)


@torch.no_grad()
def fold_model(model: ConcatHeadModel, keep_users: bool = True) -> ExportTables:
    """Precompute the item side of ``model`` (eval mode, no autograd) into :class:`ExportTables`."""
    if not isinstance(model, ConcatHeadModel):
        raise ExportError(f"model {getattr(model, 'name', type(model).__name__)!r} is not a concat-head "
                          "model (baseline); only those fold into these tables")
    model.eval()
    state = model.item_state()
    items = model.item_vectors(None, state).double()                  # [n_anime, item_dim]
    layers = list(model.mlp)
    first = layers[0]
    if not isinstance(first, nn.Linear) or first.in_features != model.user_dim + model.item_dim:
        raise ExportError("the rating head does not start with Linear(user_dim + item_dim, ...)")
    w = first.weight.double()
    b = first.bias.double() if first.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
    w_u, w_i = w[:, :model.user_dim], w[:, model.user_dim:]
    rest_layers = layers[1:]
    s = torch.ones(w.shape[0], dtype=torch.float64)
    t = torch.zeros(w.shape[0], dtype=torch.float64)
    if rest_layers and isinstance(rest_layers[0], nn.BatchNorm1d):
        s, t = _bn_affine(rest_layers[0])
        rest_layers = rest_layers[1:]
    item_head = (items @ w_i.T + b) * s + t                          # [n_anime, h1]
    user_proj = w_u * s.unsqueeze(1)                                 # [h1, user_dim]
    # A LeakyReLU right after the first layer is applied in the scorer (after adding the user part).
    first_act = bool(rest_layers) and isinstance(rest_layers[0], nn.LeakyReLU)
    slope = float(rest_layers[0].negative_slope) if first_act else 0.01
    rest = _fold_rest(rest_layers[1:] if first_act else rest_layers)
    history = copy.deepcopy(model.history).eval().requires_grad_(False)
    user_table = (model.user_emb.weight.detach().float().clone() if keep_users
                  else torch.zeros(1, model.user_dim))
    return ExportTables(item_head=item_head.float(), user_proj=user_proj.float(),
                        history_table=model.history_item_table(state).float(), user_table=user_table,
                        rest=rest, history=history, first_act=first_act, negative_slope=slope)


def item_embeddings(item_head: torch.Tensor, dim: int = 32) -> tuple[torch.Tensor, float]:
    """L2-normalized "more like this" vectors ``[n_anime, D]`` (row 0 zeros) and the variance they keep.

    A PCA (centered SVD) of ``item_head``: two anime with close rows there move
    every user's first head layer alike, i.e. the model rates them alike. ``D`` is
    ``min(dim, h1, n_real_anime)``.
    """
    real = item_head[1:].double()
    d = max(1, min(dim, real.shape[1], real.shape[0]))
    centered = real - real.mean(0, keepdim=True)
    _, sv, vh = torch.linalg.svd(centered, full_matrices=False)
    proj = centered @ vh[:d].T                                       # [n_real, D]
    proj = proj / proj.norm(dim=1, keepdim=True).clamp_min(1e-12)
    total = float((sv ** 2).sum())
    kept = float((sv[:d] ** 2).sum()) / total if total > 0 else 1.0
    out = torch.zeros(item_head.shape[0], d, dtype=torch.float32)
    out[1:] = proj.float()
    return out, kept
