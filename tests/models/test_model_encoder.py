"""The catalog encoder: shapes, eager parameters, and that relations really change its output."""

from __future__ import annotations

import torch

from gnn.data.schema import Relation
from gnn.models.encoder import CatalogEncoder


def _encoder(ctx, seed: int = 0, **kw) -> CatalogEncoder:
    torch.manual_seed(seed)
    return CatalogEncoder(ctx.graph, ctx.n_relation_types, **kw).eval()


def test_output_shape_finite_and_parameters_exist(ctx) -> None:
    enc = _encoder(ctx)
    out = enc()
    assert out.shape == (ctx.n_anime, 32) and torch.isfinite(out).all()
    # No lazy (-1) sizes: every parameter is materialized at construction.
    assert all(not isinstance(p, torch.nn.parameter.UninitializedParameter) for p in enc.parameters())
    assert not any(k.startswith(("ei_", "ew_")) for k in enc.state_dict())  # graph is not in the weights


def test_gradients_reach_every_input(ctx) -> None:
    enc = _encoder(ctx, anime_id_dim=8)
    enc.train()
    enc().square().sum().backward()
    assert enc.anime_in.weight.grad.abs().sum() > 0
    assert enc.anime_id.weight.grad.abs().sum() > 0
    for t in ("studio", "tag", "genre"):
        assert enc.node_emb[t].weight.grad[1:].abs().sum() > 0, t
    assert enc.rel_log_scale.grad.abs().sum() > 0


def test_adding_a_relation_changes_the_related_anime(make_ctx) -> None:
    before_ctx = make_ctx()
    after_ctx = make_ctx({6: (Relation(7, "SEQUEL"),)})
    before = _encoder(before_ctx)
    after = _encoder(after_ctx)
    after.load_state_dict(before.state_dict())
    b, a = before(), after()
    assert not torch.allclose(b[6], a[6]) and not torch.allclose(b[7], a[7])
    assert torch.allclose(b[8], a[8])  # isolated anime 8 is not reached


def test_relation_type_matters(make_ctx) -> None:
    seq = _encoder(make_ctx({6: (Relation(7, "SEQUEL"),)}))
    other = _encoder(make_ctx({6: (Relation(7, "OTHER"),)}))
    other.load_state_dict(seq.state_dict())
    assert not torch.allclose(seq()[6], other()[6])
