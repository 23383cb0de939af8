"""Two-hop franchise relations: the sequel of the prequel, the side story of the sequel.

The padded relation table (:class:`gnn.graph.builder.ItemTables` ``rel_idx``/``rel_w``) lists each
anime's direct relatives. :func:`two_hop_table` lists, per anime, the anime reached through one
intermediate relative that are not direct relatives themselves, weighted by the product of the two
relation weights (the strongest path wins), strongest first. Built once from the tables; it is
user-independent, so the exported model stores it as a constant.
"""

from __future__ import annotations

import torch


def two_hop_table(rel_idx: torch.Tensor, rel_w: torch.Tensor, width: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """``(idx [n, width] long, w [n, width] float)``: two-hop relatives, 0 = padding, row 0 all padding.

    For anime ``a`` with relative ``b`` (weight ``w_ab``) whose relative is ``c`` (``w_bc``),
    ``c`` gets ``max(w_ab * w_bc)`` over the paths; ``a`` itself and its direct relatives are
    left out. Ties are broken by the lower index, so the table is deterministic.
    """
    n, R = rel_idx.shape
    mid = rel_idx                                                   # [n, R] first hop
    second = rel_idx[mid]                                           # [n, R, R] relatives of relatives
    weight = rel_w.unsqueeze(2) * rel_w[mid]                        # [n, R, R]
    valid = (mid > 0).unsqueeze(2) & (second > 0)
    own = torch.arange(n).view(n, 1, 1)
    direct = (second.unsqueeze(-1) == rel_idx.view(n, 1, 1, R)).any(-1)  # already a direct relative
    valid &= (second != own) & ~direct
    cand = torch.where(valid, second, torch.zeros_like(second)).reshape(n, R * R)
    cw = torch.where(valid, weight, torch.zeros_like(weight)).reshape(n, R * R)
    # Keep the strongest path per (anime, two-hop relative): order by index, then weight descending,
    # and keep the first of each run of equal indices.
    order = _by_index_then_weight(cand, cw)
    cand, cw = cand.gather(1, order), cw.gather(1, order)
    first = torch.ones_like(cand, dtype=torch.bool)
    first[:, 1:] = cand[:, 1:] != cand[:, :-1]
    cw = torch.where(first & (cand > 0), cw, torch.zeros_like(cw))
    # Strongest first, ties by index; then cut to the width.
    rank = _strongest_first(cand, cw)
    cand, cw = cand.gather(1, rank)[:, :width], cw.gather(1, rank)[:, :width]
    cand = torch.where(cw > 0, cand, torch.zeros_like(cand))
    out_w = torch.zeros(n, width)
    out_i = torch.zeros(n, width, dtype=torch.long)
    out_w[:, :cw.shape[1]], out_i[:, :cand.shape[1]] = cw.float(), cand
    return out_i, out_w


def _by_index_then_weight(idx: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Column order per row: index ascending, then weight descending."""
    by_weight = torch.argsort(-w, dim=1, stable=True)
    by_index = torch.argsort(idx.gather(1, by_weight), dim=1, stable=True)
    return by_weight.gather(1, by_index)


def _strongest_first(idx: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Column order per row: weight descending, then index ascending (zeros last)."""
    by_index = torch.argsort(idx, dim=1, stable=True)
    w_sorted = w.gather(1, by_index)
    by_weight = torch.argsort(-w_sorted, dim=1, stable=True)
    return by_index.gather(1, by_weight)
