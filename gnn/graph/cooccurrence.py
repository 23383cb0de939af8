"""Co-occurrence counts of a binary user x item matrix ``X``: rows of ``X^T X`` from sparse products.

``(X^T X)[a, b]`` is the number of users who rated both ``a`` and ``b`` (the diagonal: each item's
raters). The co-rated table (:mod:`gnn.graph.corated`) reads it a chunk of rows at a time, EASE
(:mod:`gnn.graph.ease`) needs all of it. Either way the work is the number of user-item-item paths,
the sum over users of their ratings squared, never users x items x items as a dense product of the
rows of ``X`` would be (at 60M synthetic ratings on 17.5k items about 50 minutes on one thread).
"""

from __future__ import annotations

import warnings

import torch

from gnn.graph.csr import csr_structure, in_order


def user_csr(user: torch.Tensor, item: torch.Tensor, n_users: int,
             n_items: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(crow [n_users + 1], col [E], edge_user [E])``: ``X`` by user as CSR, and each entry's user."""
    crow, col, order = csr_structure(user, item, n_users, n_items)
    return crow, col, in_order(user, order).to(col.dtype)


def co_counts(crow: torch.Tensor, col: torch.Tensor, edge_user: torch.Tensor, first: int, last: int,
              n_items: int, max_products: int = 50_000_000, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``[last - first + 1, n_items]``: rows ``first..last`` of ``X^T X``, the users who rated both item
    ``first + i`` and ``b``, from the user-major CSR ``(crow, col)`` (:func:`user_csr`, one entry per user
    and item), summed over blocks of consecutive users of at most ``max_products`` paths each."""
    in_range = (col >= first) & (col <= last)
    n_rated = (crow[1:] - crow[:-1]).long()
    hits = torch.bincount(edge_user[in_range].long(), minlength=len(n_rated))
    paths = (hits * n_rated).cumsum(0)                                          # paths through users 0..u
    ends = torch.searchsorted(paths, torch.arange(max_products, int(paths[-1]) + max_products, max_products))
    common = torch.zeros(last - first + 1, n_items, dtype=dtype)
    u0 = 0
    for u1 in sorted(set((ends + 1).clamp(max=len(n_rated)).tolist())):
        lo, hi = int(crow[u0]), int(crow[u1])
        cols, pick = col[lo:hi], in_range[lo:hi]
        users = edge_user[lo:hi].long() - u0
        block = torch.sparse_coo_tensor(torch.stack([users, cols.long()]), torch.ones(hi - lo, dtype=dtype),
                                        (u1 - u0, n_items), is_coalesced=True,
                                        check_invariants=False)                 # stored by user, then item
        part = torch.sparse_coo_tensor(torch.stack([cols[pick].long() - first, users[pick]]),
                                       torch.ones(int(pick.sum()), dtype=dtype), (last - first + 1, u1 - u0),
                                       check_invariants=False).coalesce()
        # COO x COO: torch 2.13's CSR x CSR product on CPU keeps ~60 MB per call (measured), COO does not.
        with warnings.catch_warnings():   # sparse x sparse goes through a "beta" path: stable for this use
            warnings.simplefilter("ignore", UserWarning)
            common += torch.sparse.mm(part, block).to_dense()
        u0 = u1
    return common


def gram(user: torch.Tensor, item: torch.Tensor, n_users: int, n_items: int, chunk: int = 1024,
         max_products: int = 50_000_000) -> torch.Tensor:
    """``X^T X`` ``[n_items, n_items]`` of the binary matrix with ones at (user, item) (each pair once),
    ``chunk`` rows at a time: float32, whose counts are exact up to 2**24 users (float64 beyond)."""
    dtype = torch.float32 if n_users < 2**24 else torch.float64
    out = torch.zeros(n_items, n_items, dtype=dtype)
    if len(user) == 0:
        return out
    crow, col, edge_user = user_csr(user, item, n_users, n_items)
    for first in range(0, n_items, chunk):
        last = min(first + chunk, n_items) - 1
        out[first:last + 1] = co_counts(crow, col, edge_user, first, last, n_items, max_products, dtype)
    return out
