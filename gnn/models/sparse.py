"""Fixed sparse adjacencies as ``torch.sparse`` CSR matrices, with hand-written backward passes.

No torch-scatter/torch-sparse/pyg-lib: an edge type is a CSR matrix ``[n_dst, n_src]`` plus its
transpose, so a backward pass is one more sparse product rather than torch's generic transpose (a
sort of every edge, every step). Indices are int32 where they fit (half the memory of int64, and
the faster sparse kernel on CPU); the transpose is only built when autograd may need it.
"""

from __future__ import annotations

import torch
from torch import nn

from gnn.graph.csr import csr_matrix, csr_structure, in_order


class _CSRMatmul(torch.autograd.Function):
    """``A @ X`` for a fixed sparse ``A`` with its transpose given, so the backward is one more sparse product."""

    @staticmethod
    def forward(ctx, a: torch.Tensor, a_t: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.a_t = a_t
        return torch.sparse.mm(a, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        if ctx.a_t is None:
            raise RuntimeError("this adjacency was built without its transpose (under torch.no_grad)")
        return None, None, torch.sparse.mm(ctx.a_t, grad)


class _TypedCSRMatmul(torch.autograd.Function):
    """``A(s) @ X`` where edge ``e`` weighs ``base_e * s[type_e]`` (a learned scale per relation type):
    the gradient reaches ``X`` and ``s`` (per edge ``base_e * <G[dst_e], X[src_e]>``, summed by type)."""

    @staticmethod
    def forward(ctx, adj: "Adjacency", scale: torch.Tensor, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        a = adj.matrix("", adj.values * scale[adj.edge_type])
        ctx.adj, ctx.scale = adj, scale
        ctx.save_for_backward(x)
        return torch.sparse.mm(a, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        adj = ctx.adj
        a_t = adj.matrix("t_", adj.t_values * ctx.scale[adj.t_edge_type])
        per_edge = adj.values * (grad[adj.row] * x[adj.col]).sum(-1)             # CSR order
        grad_scale = torch.zeros_like(ctx.scale).index_add_(0, adj.edge_type, per_edge)
        return None, grad_scale, torch.sparse.mm(a_t, grad)


class SparseAdjacency:
    """A CSR matrix and its transpose (None: no backward), used as ``adj @ x`` (autograd flows to ``x`` only)."""

    def __init__(self, a: torch.Tensor, a_t: torch.Tensor | None) -> None:
        self.a, self.a_t = a, a_t

    def __matmul__(self, x: torch.Tensor) -> torch.Tensor:
        return _CSRMatmul.apply(self.a, self.a_t, x)


class Adjacency(nn.Module):
    """One edge type as a CSR matrix ``[n_dst, n_src]`` (and its transpose, for the backward);
    ``keep`` masks input edges by zeroing their values, so masking never rebuilds the structure.
    With ``edge_type`` (relations), :meth:`scaled` weighs each edge by a learned scale of its type."""

    def __init__(self, dst: torch.Tensor, src: torch.Tensor, values: torch.Tensor, shape: tuple[int, int],
                 edge_type: torch.Tensor | None = None) -> None:
        super().__init__()
        self.shape = shape
        for prefix, rows, cols, n_rows, n_cols in (("", dst, src, shape[0], shape[1]),
                                                    ("t_", src, dst, shape[1], shape[0])):
            crow, col, order = csr_structure(rows, cols, n_rows, n_cols)
            for name, t in (("crow", crow), ("col", col), ("values", in_order(values.float(), order)),
                            ("order", order)):
                self.register_buffer(prefix + name, t, persistent=False)
            if edge_type is not None:   # the typed backward reads each entry's type, and the matrix's rows
                self.register_buffer(prefix + "edge_type", in_order(edge_type, order), persistent=False)
                if prefix == "":
                    self.register_buffer("row", in_order(rows, order).long(), persistent=False)

    def matrix(self, prefix: str, values: torch.Tensor) -> torch.Tensor:
        """The CSR matrix (``prefix`` "" or the transpose "t_") with these values in CSR order."""
        shape = self.shape if prefix == "" else self.shape[::-1]
        return csr_matrix(getattr(self, prefix + "crow"), getattr(self, prefix + "col"), values, shape)

    def forward(self, keep: torch.Tensor | None = None) -> SparseAdjacency:
        mats = []
        for prefix in ("", "t_"):
            values = getattr(self, prefix + "values")
            if keep is not None:
                values = values * in_order(keep, getattr(self, prefix + "order")).to(values.dtype)
            mats.append(self.matrix(prefix, values))
        return SparseAdjacency(*mats)

    def scaled(self, scale: torch.Tensor) -> "TypedAdjacency":
        """This adjacency with each edge's value multiplied by ``scale[edge type]`` (learned)."""
        return TypedAdjacency(self, scale)


class TypedAdjacency:
    def __init__(self, adj: Adjacency, scale: torch.Tensor) -> None:
        self.adj, self.scale = adj, scale

    def __matmul__(self, x: torch.Tensor) -> torch.Tensor:
        return _TypedCSRMatmul.apply(self.adj, self.scale, x)
