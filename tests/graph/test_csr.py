"""CSR index helpers (gnn.graph.csr)."""

from __future__ import annotations

import torch

from gnn.graph.csr import csr_order, csr_structure, index_dtype


def test_csr_order_sorts_by_row_then_column_and_skips_sorted_input() -> None:
    torch.manual_seed(0)
    rows, cols = torch.randint(5, (50,)), torch.randint(7, (50,))
    order = csr_order(rows, cols, 7)
    assert torch.equal(order.long(), torch.argsort(rows * 7 + cols, stable=True))
    assert csr_order(rows[order], cols[order], 7) is None       # already in order: no permutation kept
    assert csr_order(rows[:0], cols[:0], 7) is None


def test_csr_order_does_not_overflow_int32_keys() -> None:
    """Row x column keys pass 2**31 for 50k users x 50k anime: computed in int64 even from int32 input."""
    rows = torch.tensor([49_999, 0], dtype=torch.int32)
    cols = torch.tensor([1, 49_999], dtype=torch.int32)
    assert csr_order(rows, cols, 50_000).tolist() == [1, 0]


def test_index_dtype_is_int32_until_it_overflows() -> None:
    assert index_dtype(10, 2**31 - 1) == torch.int32
    assert index_dtype(10, 2**31) == torch.long


def test_csr_structure_points_at_each_rows_columns() -> None:
    rows, cols = torch.tensor([2, 0, 2, 0]), torch.tensor([1, 3, 0, 2])
    crow, col, order = csr_structure(rows, cols, 3, 4)
    assert torch.equal(order, csr_order(rows, cols, 4))
    assert crow.tolist() == [0, 2, 2, 4] and col.tolist() == [2, 3, 0, 1] and col.dtype == torch.int32
