"""CSR index helpers: the order of a CSR matrix's entries, its row pointers, compact index types."""

from __future__ import annotations

import warnings

import torch

_INT32_MAX = 2**31 - 1


def index_dtype(*sizes: int) -> torch.dtype:
    """int32 when every index (and the edge count) fits in it, else int64."""
    return torch.int32 if max(sizes, default=0) <= _INT32_MAX else torch.long


def csr_order(rows: torch.Tensor, cols: torch.Tensor, n_cols: int) -> torch.Tensor | None:
    """``[E]``: the edges sorted by (row, column), the order of a CSR matrix's entries; None when the
    edges are already in that order (ratings stored by user), so no sort and no identity permutation."""
    key = rows.long() * n_cols + cols.long()
    if len(key) == 0 or bool((key[1:] >= key[:-1]).all()):
        return None
    return torch.argsort(key, stable=True).to(index_dtype(len(key)))


def csr_structure(rows: torch.Tensor, cols: torch.Tensor, n_rows: int,
                  n_cols: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``(crow [n_rows + 1], col [E], order)`` of the CSR matrix with these edges; ``order``
    (:func:`csr_order`) puts per-edge values in its entries' order (:func:`in_order`)."""
    order = csr_order(rows, cols, n_cols)
    dtype = index_dtype(n_rows, n_cols, len(rows))
    crow = torch.zeros(n_rows + 1, dtype=dtype)
    crow[1:] = torch.bincount(rows, minlength=n_rows).cumsum(0)
    return crow, in_order(cols, order).to(dtype), order


def in_order(values: torch.Tensor, order: torch.Tensor | None) -> torch.Tensor:
    """Per-edge ``values`` ``[E]`` permuted into a CSR order."""
    return values if order is None else values[order]


def csr_matrix(crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    with warnings.catch_warnings():  # "sparse CSR tensor support is in beta"
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, col, values, shape)
