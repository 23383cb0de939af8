"""CSR adjacencies with hand-written backward passes (gnn.models.sparse)."""

from __future__ import annotations

import pytest
import torch

from gnn.models.sparse import Adjacency


def test_sparse_products_have_exact_gradients() -> None:
    """The hand-written backward passes (transpose given; per-type scale) match dense autograd."""
    g = torch.Generator().manual_seed(0)
    dst, src = torch.tensor([0, 0, 1, 2, 2, 3]), torch.tensor([1, 2, 0, 0, 3, 2])
    values, types = torch.rand(6, generator=g), torch.tensor([0, 1, 0, 2, 1, 0])
    adj = Adjacency(dst, src, values, (4, 4), types)
    assert adj.col.dtype == torch.int32
    x = torch.randn(4, 3, generator=g, requires_grad=True)
    scale = torch.rand(3, generator=g).requires_grad_(True)
    weight = torch.randn(4, 3, generator=g)
    ((adj.scaled(scale) @ x) * weight).sum().backward()
    dense_x = x.detach().clone().requires_grad_(True)
    dense_scale = scale.detach().clone().requires_grad_(True)
    dense = torch.zeros(4, 4).index_put((dst, src), values * dense_scale[types], accumulate=True)
    ((dense @ dense_x) * weight).sum().backward()
    assert torch.allclose(x.grad, dense_x.grad, atol=1e-6) and torch.allclose(scale.grad, dense_scale.grad, atol=1e-6)
    # A plain (unscaled) product with a keep-mask: the masked edge contributes nothing either way.
    keep = torch.tensor([True, False, True, True, True, True])
    x.grad = None
    ((adj(keep) @ x) * weight).sum().backward()
    masked = torch.zeros(4, 4).index_put((dst[keep], src[keep]), values[keep], accumulate=True)
    assert torch.allclose(x.grad, masked.t() @ weight, atol=1e-6)


def test_an_untyped_adjacency_keeps_no_row_index() -> None:
    """Only the typed backward reads each edge's row; plain adjacencies do not store it."""
    dst, src = torch.tensor([1, 0, 2]), torch.tensor([0, 2, 1])
    plain, typed = Adjacency(dst, src, torch.ones(3), (3, 3)), Adjacency(dst, src, torch.ones(3), (3, 3), torch.zeros(3))
    assert not hasattr(plain, "row") and typed.row.tolist() == [0, 1, 2]
    with pytest.raises(AttributeError):
        plain.t_row
    with pytest.raises(AttributeError):
        typed.t_row                                               # the backward never reads the transpose's
