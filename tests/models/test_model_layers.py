"""Attention pooling, the MLP builder and the history encoder, including their ONNX behaviour."""

from __future__ import annotations

import io
import warnings

import pytest
import torch

from gnn.models.history import HistoryEncoder
from gnn.models.layers import AttentionPool, EmbeddingPool, make_mlp


def _inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 6, 32, generator=g)
    mask = torch.rand(4, 6, generator=g) > 0.4
    mask[0] = False  # one fully masked (empty) list
    mask[1] = True
    return x, mask, torch.rand(4, 6, generator=g) * mask


def _textbook_pool(pool: AttentionPool, x, mask, weight=None, query=None) -> torch.Tensor:
    """Attention pooling as usually written: project every entry to a key and a value."""
    B, L, _ = x.shape
    H, D = pool.heads, pool.head_dim
    x = torch.cat([pool.null.expand(B, 1, pool.dim), x], dim=1)
    k, v = pool.key(x).view(B, L + 1, H, D), pool.value(x).view(B, L + 1, H, D)
    q = pool.query.unsqueeze(0)
    if pool.query_proj is not None:
        q = q + pool.query_proj(query).view(B, H, D)
    logits = (k * q.unsqueeze(1)).sum(-1) / D ** 0.5
    entry_bias = (torch.log(weight.clamp_min(1e-6)).unsqueeze(-1) * pool.weight_scale
                  if pool.weight_scale is not None else x.new_zeros(B, L, H))
    logits = logits + torch.cat([pool.null_bias.expand(B, 1, H), entry_bias], dim=1)
    keep = torch.cat([mask.new_ones(B, 1), mask], dim=1).unsqueeze(-1)
    attn = torch.softmax(logits.masked_fill(~keep, -1e4), dim=1)
    return pool.out((attn.unsqueeze(-1) * v).sum(1).reshape(B, pool.dim))


@pytest.mark.parametrize("use_weights,query_dim", [(False, 0), (True, 0), (True, 8)])
def test_factorized_pool_equals_textbook_attention(use_weights, query_dim) -> None:
    torch.manual_seed(0)
    pool = AttentionPool(32, 4, use_weights=use_weights, query_dim=query_dim)
    with torch.no_grad():  # non-trivial biases and scales
        for p in (pool.key.bias, pool.value.bias, pool.null_bias):
            p.normal_()
    x, mask, w = _inputs()
    q = torch.randn(4, 8) if query_dim else None
    assert torch.allclose(pool(x, mask, w, q), _textbook_pool(pool, x, mask, w, q), atol=1e-5)


def test_pool_shapes_and_empty_list_is_finite_and_learned() -> None:
    torch.manual_seed(0)
    pool = AttentionPool(32, 4, use_weights=True)
    x, mask, w = _inputs()
    out = pool(x, mask, w)
    assert out.shape == (4, 32) and torch.isfinite(out).all()
    # An empty list yields the same learned vector whatever sits in its padded slots.
    assert torch.allclose(out[0], pool(torch.randn_like(x), mask, w)[0])
    empty = pool(x[:1], mask[:1], w[:1])
    empty.sum().backward()
    assert pool.null.grad is not None and pool.null.grad.abs().sum() > 0


def test_masked_entries_do_not_matter_and_weights_do() -> None:
    torch.manual_seed(0)
    pool = AttentionPool(32, 4, use_weights=True)
    x, mask, w = _inputs()
    noisy = torch.where(mask.unsqueeze(-1), x, torch.randn_like(x) * 100)
    assert torch.allclose(pool(x, mask, w), pool(noisy, mask, w), atol=1e-6)
    assert not torch.allclose(pool(x, mask, w)[1], pool(x, mask, w.flip(-1) * mask)[1])


def test_pool_with_query_depends_on_query() -> None:
    torch.manual_seed(0)
    pool = AttentionPool(32, 4, query_dim=8)
    x, mask, _ = _inputs()
    q = torch.randn(4, 8)
    assert not torch.allclose(pool(x, mask, query=q)[1], pool(x, mask, query=-q)[1])


def test_embedding_pool_masks_index_zero() -> None:
    torch.manual_seed(0)
    pool = EmbeddingPool(10, 16, 2)
    idx = torch.tensor([[3, 4, 0, 0], [3, 4, 0, 0], [0, 0, 0, 0]])
    out = pool(idx)
    assert out.shape == (3, 16) and torch.isfinite(out).all()
    assert torch.allclose(out[0], pool(idx[:1, :2])[0], atol=1e-6)  # padding width is irrelevant


def test_mlp_layout() -> None:
    mlp = make_mlp(256, (256, 128, 64, 32), dropout=0.1)
    kinds = [type(m).__name__ for m in mlp]
    assert kinds[:4] == ["Linear", "BatchNorm1d", "LeakyReLU", "Dropout"]
    assert [m.out_features for m in mlp if isinstance(m, torch.nn.Linear)] == [256, 128, 64, 32, 1]
    assert mlp(torch.randn(5, 256)).shape == (5, 1)


def test_history_encoder_empty_history_is_finite() -> None:
    torch.manual_seed(0)
    enc = HistoryEncoder(item_dim=20, out_dim=64, hidden=16)
    items = enc.project(torch.randn(9, 20))[torch.randint(0, 9, (3, 5))]  # projected table rows
    out = enc(items, torch.randn(3, 5), torch.zeros(3, 5, dtype=torch.bool))
    assert out.shape == (3, 64) and torch.isfinite(out).all()
    assert torch.allclose(out[0], out[1]) and torch.allclose(out[1], out[2])


def _onnx_roundtrip(module: torch.nn.Module, args: tuple, names: list[str], new_args: tuple) -> None:
    ort = pytest.importorskip("onnxruntime")
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:  # the TorchScript exporter takes well under a second here; dynamo takes ~5 s
            torch.onnx.export(module.eval(), args, f, input_names=names, output_names=["out"],
                              dynamic_axes={n: {0: "B", 1: "L"} for n in names}, dynamo=False)
        except Exception as err:  # pragma: no cover - exporter unavailable in this torch
            pytest.skip(f"legacy ONNX exporter unavailable: {err}")
    session = ort.InferenceSession(f.getvalue())
    got = session.run(None, {n: a.numpy() for n, a in zip(names, new_args)})[0]
    want = module(*new_args).detach().numpy()
    assert (abs(got - want)).max() < 1e-5


def test_pool_onnx_matches_pytorch_including_empty_lists() -> None:
    torch.manual_seed(0)
    x, mask, w = _inputs()
    x2, mask2, w2 = _inputs(seed=1)
    _onnx_roundtrip(AttentionPool(32, 4, use_weights=True), (x, mask, w), ["x", "mask", "w"],
                    (x2[:, :5], mask2[:, :5], w2[:, :5]))


def test_history_encoder_onnx_matches_pytorch() -> None:
    torch.manual_seed(0)
    items, rating = torch.randn(3, 5, 32), torch.randn(3, 5)
    mask = torch.tensor([[1, 1, 1, 0, 0], [0, 0, 0, 0, 0], [1, 0, 1, 0, 1]], dtype=torch.bool)
    _onnx_roundtrip(HistoryEncoder(20, 64, hidden=16), (items, rating, mask), ["items", "rating", "mask"],
                    (torch.randn(2, 7, 32), torch.randn(2, 7), torch.rand(2, 7) > 0.5))
