"""EASE's item-item weights (Steck, WWW 2019) and the lists of each anime's strongest ones.

On the binary user x anime training matrix ``X`` (the anime with training ratings only),
``P = (X^T X + reg I)^-1`` and ``B[j, a] = -P[j, a] / P[a, a]`` (``diag(B) = 0``): a user with row
``x`` scores ``x B``. Unlike the co-rated cosine (:mod:`gnn.graph.corated`), a weight is a partial
one: what rating ``j`` says about ``a`` beyond the user's other anime, so the anime everybody rated
get no weight for being rated by everybody.

:func:`ease_lists` keeps, per anime, the ``width`` anime it weighs highest, as a padded table like the
co-rated one, and :func:`without_user` gives the weights a pair would have if one user had not been
in ``X`` at all (Sherman-Morrison on ``P``), what a training user's own pairs look like for a
held-out user. It reads ``P`` at the rows the pairs need and each user's leverage ``x^T P x``, kept from
the fit: never all of ``x P`` (``m^2`` work per user, most of a training step at 17k anime).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gnn.graph.cooccurrence import gram
from gnn.graph.csr import csr_structure


def precision(gram_matrix: torch.Tensor, reg: float) -> torch.Tensor:
    """``P = (G + reg I)^-1`` (float64), by Cholesky: ``G + reg I`` is symmetric positive definite. Computed in
    one float64 copy of ``G``, 8 m^2 bytes (2.5 GB at 17.5k anime): the factor and the inverse overwrite it."""
    a = gram_matrix.to(torch.float64, copy=True)
    a.diagonal().add_(reg)
    if len(a):
        col = a.mT    # the same symmetric matrix, column-major: LAPACK works on it in place, no copy
        torch.linalg.cholesky(col, out=col)
        torch.cholesky_inverse(col, out=col)
    return a


def _rows_of_b(p_rows: torch.Tensor, diag: torch.Tensor, lo: int) -> torch.Tensor:
    """Rows ``lo, lo + 1, ...`` of ``B = I - P diagMat(1 / diag(P))`` from the same rows of ``P`` and ``diag(P)``:
    ``B[j, a] = -P[j, a] / P[a, a]``, ``diag(B) = 0``."""
    b = -p_rows / diag[None, :]
    n = len(b)
    b[torch.arange(n), torch.arange(lo, lo + n)] = 0.0
    return b


def weights_of(p: torch.Tensor, block: int = 1024) -> torch.Tensor:
    """``B`` (:func:`_rows_of_b`) written over ``p`` a block of rows at a time (one block's copy at most)."""
    diag = torch.diagonal(p).clone()
    for lo in range(0, len(p), block):
        p[lo:lo + block] = _rows_of_b(p[lo:lo + block], diag, lo)
    return p


def ease_weights(gram_matrix: torch.Tensor, reg: float) -> torch.Tensor:
    """EASE's ``B`` (float64) from the Gram matrix ``G = X^T X``."""
    return weights_of(precision(gram_matrix, reg))


def strongest(p: torch.Tensor, k: int, block: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """``(top, top_w)`` ``[m, k]``: each row ``j``'s ``k`` highest ``B[j, a]`` (ties: the lower index first)
    and their weights, from ``P``, a block of rows of ``B`` at a time (never all of ``B``)."""
    m = len(p)
    diag = torch.diagonal(p)
    top, top_w = torch.empty(m, k, dtype=torch.long), torch.empty(m, k, dtype=p.dtype)
    for lo in range(0, m, block):
        b = _rows_of_b(p[lo:lo + block], diag, lo)
        order = torch.argsort(-b, dim=1, stable=True)[:, :k]
        top[lo:lo + block], top_w[lo:lo + block] = order, b.gather(1, order)
    return top, top_w


def binary_rows(user: torch.Tensor, anime: torch.Tensor, n_anime: int
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(user, anime, item_idx, item_pos)`` of the binary matrix ``X``: each (user, anime) pair once, sorted
    by user then anime; the anime with training ratings (ascending) and each anime's column (-1: none)."""
    keys = torch.unique(user.long() * n_anime + anime.long())
    user, anime = keys // n_anime, keys % n_anime
    item_idx = torch.unique(anime[anime > 0])
    item_pos = torch.full((n_anime,), -1, dtype=torch.long)
    item_pos[item_idx] = torch.arange(len(item_idx))
    return user, anime, item_idx, item_pos


def leverage(p: torch.Tensor, user: torch.Tensor, pos: torch.Tensor, n_users: int) -> torch.Tensor:
    """``x_u^T P x_u`` ``[n_users]`` for each user's binary row of ``X``, from ``(user, pos)`` (each pair once,
    ``pos`` a row of ``P``): the sum of ``P`` over the user's rows and columns, ``R^2`` entries."""
    m = len(p)
    crow, col, _ = csr_structure(user, pos, n_users, m)       # each user's rows, ascending: P read in order
    out = torch.zeros(n_users, dtype=p.dtype)
    flat = p.reshape(-1)    # index_select on the flat view: 3x faster than p[r[:, None], r] here
    for u in torch.nonzero(crow[1:] > crow[:-1]).squeeze(1).tolist():
        r = col[crow[u]:crow[u + 1]].long()
        out[u] = flat.index_select(0, (r[:, None] * m + r[None, :]).flatten()).sum()
    return out


@dataclass(frozen=True)
class EaseLists:
    """``idx``/``w`` ``[n_anime, width]`` (0 = padding; the weights times ``scale``), and what
    :func:`without_user` needs: ``P`` ``[m, m]`` float32, ``item_pos`` ``[n_anime]`` (an anime's row
    of ``P``, -1 for anime without training ratings) and each user's :func:`leverage` ``[n_users]``."""

    idx: torch.Tensor
    w: torch.Tensor
    P: torch.Tensor
    item_pos: torch.Tensor
    scale: float
    leverage: torch.Tensor


def ease_lists(user: torch.Tensor, anime: torch.Tensor, n_anime: int, width: int = 10, reg: float = 100.0,
               mean_weight: float = 0.25) -> EaseLists:
    """Each anime's ``width`` highest positive EASE weights ``B[j, a]`` (strongest first, ties by the lower
    index) from rating edges ``user, anime [E]``. ``scale`` makes the kept weights' mean ``mean_weight``,
    the size of a co-rated cosine, whatever ``reg`` and the data (EASE's weights shrink as ``reg`` grows)."""
    user, anime, item_idx, item_pos = binary_rows(user, anime, n_anime)
    n_users = int(user.max()) + 1 if len(user) else 0
    pos = item_pos[anime]
    p = precision(gram(user, pos, n_users, len(item_idx)), reg)
    k = min(width, len(item_idx))
    top, top_w = strongest(p, k)
    kept = top_w > 0
    scale = mean_weight / float(top_w[kept].mean()) if kept.any() else 1.0
    idx = torch.zeros(n_anime, width, dtype=torch.long)
    w = torch.zeros(n_anime, width)
    idx[item_idx, :k] = torch.where(kept, item_idx[top], torch.zeros_like(top))
    w[item_idx, :k] = torch.where(kept, top_w * scale, torch.zeros_like(top_w)).float()
    p = p.float()
    return EaseLists(idx, w, p, item_pos, scale, leverage(p, user, pos, n_users))


def _columns_of_v(p: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """``v = x P`` at ``cols [B, C]`` (rows of ``P``), ``[B, C]``, for each user's binary row ``x`` with ones
    at ``rows [B, R]`` (-1: none): ``P`` is symmetric, so ``v[c] = P[c] x``, ``C x m`` reads per user."""
    v = torch.zeros(cols.shape, dtype=p.dtype, device=p.device)
    x = torch.zeros(len(p) + 1, dtype=p.dtype, device=p.device)
    for b in range(len(rows)):
        x.zero_().index_fill_(0, torch.where(rows[b] >= 0, rows[b], len(p)), 1.0)
        need, back = torch.unique(cols[b], return_inverse=True)
        v[b] = (p.index_select(0, need) @ x[:-1])[back]
    return v


def without_user(lists: EaseLists, user: torch.Tensor, rated: torch.Tensor, first: torch.Tensor,
                 second: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(w[first -> second], w[second -> first])``, ``[B, T, H]`` each, scaled as the lists are: the weights
    the pairs of ``first [B, T]`` and ``second [B, H]`` anime would have without ``user [B]``, whose training
    anime are ``rated [B, R]`` (0 = padding). Removing row ``x`` from ``X``:
    ``P' = P + v v^T / (1 - x^T P x)`` with ``v = P x``; 0 where either anime has no training rating, and
    for an anime with itself."""
    pos_f, pos_s = lists.item_pos[first], lists.item_pos[second]
    known = (pos_f >= 0)[:, :, None] & (pos_s >= 0)[:, None, :] & (first[:, :, None] != second[:, None, :])  # diag(B) = 0
    pf, ps = pos_f.clamp_min(0), pos_s.clamp_min(0)
    v = _columns_of_v(lists.P, lists.item_pos[rated], torch.cat([pf, ps], 1))
    vf, vs = v[:, :pf.shape[1], None], v[:, None, pf.shape[1]:]                  # [B, T, 1], [B, 1, H]
    s = (1.0 - lists.leverage[user]).clamp_min(1e-6)[:, None, None]             # > 0: X^T X - x x^T + reg I is PD
    diag = torch.diagonal(lists.P)
    p_fs = lists.P[pf[:, :, None], ps[:, None, :]] + vf * vs / s                 # P'[first, second]
    d_f = diag[pf][:, :, None] + vf * vf / s                                     # P'[first, first]
    d_s = diag[ps][:, None, :] + vs * vs / s
    zero = torch.zeros_like(p_fs)
    return (torch.where(known, -p_fs / d_s * lists.scale, zero),                # B'[first, second]
            torch.where(known, -p_fs / d_f * lists.scale, zero))                # B'[second, first]
