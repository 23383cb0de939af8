"""The ID-based concat-head model ('baseline') and MF through the registry: shapes, padding, fit, history,
checkpoints. The GNN, which has no user IDs, is tested in test_gnn.py."""

from __future__ import annotations

import io

import pytest
import torch

from gnn.models import registry
from gnn.models.base import ModelContext
from gnn.train.optim import LazyAdamW   # Adam (weight decay 0) that also takes the baseline's sparse user rows

MODELS = ["baseline"]
ITEM_DIM = {"baseline": 192}


def _model(name: str, ctx: ModelContext, seed: int = 0, **config) -> torch.nn.Module:
    torch.manual_seed(seed)
    return registry.build_model(name, ctx, config or None)


def _ratings(ctx: ModelContext, seed: int = 0):
    """Every (user, anime) pair of the tiny catalog: 6 users x 8 anime = 48 ratings."""
    g = torch.Generator().manual_seed(seed)
    users, anime = torch.meshgrid(torch.arange(1, ctx.n_users), torch.arange(1, ctx.n_anime), indexing="ij")
    return users.flatten(), anime.flatten(), torch.randn(users.numel(), generator=g)


@pytest.mark.parametrize("name", MODELS)
def test_shapes_and_decomposition(name, ctx, batch_of) -> None:
    model = _model(name, ctx).eval()
    batch = batch_of([1, 2, 3], [1, 5, 8])
    item = model.item_vectors(batch.anime)
    user = model.user_vectors(batch)
    assert item.shape == (3, ITEM_DIM[name]) and user.shape == (3, 64)
    assert model.item_vectors(None).shape == (ctx.n_anime, ITEM_DIM[name])
    assert model.mlp[0].in_features == 64 + ITEM_DIM[name]
    out = model(batch)
    assert out.shape == (3,)
    assert torch.allclose(out, model.head(user, item))
    # The first Linear splits into user and item parts (what the exporter does).
    lin = model.mlp[0]
    split = user @ lin.weight[:, :64].T + item @ lin.weight[:, 64:].T + lin.bias
    assert torch.allclose(split, lin(torch.cat([user, item], -1)), atol=1e-5)
    assert model.predict(batch).min() >= ctx.rating_low


@pytest.mark.parametrize("name", MODELS)
def test_all_padding_rows_are_finite(name, ctx, batch_of) -> None:
    model = _model(name, ctx)
    # Anime 8 has no genre, tag, studio or relation; user 0 is the padding user; histories are empty.
    batch = batch_of([0, 0, 1], [8, 8, 8], target=[0.0, 0.0, 0.0], hist=[[], [(8, 1.0)], []],
                     use_history=[True, True, False])
    model.train()
    assert torch.isfinite(model(batch)).all()
    model.loss(batch).backward()
    grads = [p.grad.coalesce().values() if p.grad.is_sparse else p.grad
             for p in model.parameters() if p.grad is not None]   # the baseline's user table: row-sparse
    assert all(torch.isfinite(g).all() for g in grads)
    model.eval()
    assert torch.isfinite(model(batch)).all()


@pytest.mark.parametrize("name", MODELS)
def test_overfits_a_tiny_dataset(name, ctx, batch_of) -> None:
    users, anime, z = _ratings(ctx)
    model = _model(name, ctx, dropout=0.0)
    batch = batch_of(users.tolist(), anime.tolist(), target=z.tolist())
    opt = LazyAdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    model.train()
    for _ in range(120):
        opt.zero_grad()
        model.loss(batch).backward()
        opt.step()
    model.eval()
    rmse = (model(batch) - batch.target).square().mean().sqrt().item()
    assert rmse < 0.1, rmse


@pytest.mark.parametrize("name", MODELS)
def test_same_seed_same_result(name, ctx, batch_of) -> None:
    users, anime, z = _ratings(ctx)
    batch = batch_of(users.tolist(), anime.tolist(), target=z.tolist())

    def run() -> torch.Tensor:
        model = _model(name, ctx, seed=3)
        opt = LazyAdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
        for _ in range(5):
            opt.zero_grad()
            model.loss(batch).backward()
            opt.step()
        return model.eval()(batch)

    assert torch.equal(run(), run())


@pytest.mark.parametrize("name", MODELS)
def test_history_vectors(name, ctx, batch_of) -> None:
    model = _model(name, ctx).eval()
    hist = [[(1, 1.5), (2, 1.0)], [(1, -1.5), (2, -1.0)], [(3, 1.0), (4, 0.5), (6, -0.5)],
            [(1, 1.5), (2, 1.0), (5, 2.0)], [(1, 1.5), (2, 1.0), (5, -2.0)]]
    batch = batch_of([0] * 5, [5] * 5, hist=hist, use_history=[True] * 5)
    u = model.user_vectors(batch)
    assert not torch.allclose(u[0], u[1]) and not torch.allclose(u[0], u[2])
    # Row 3/4 hold the target anime 5 with different ratings: ignored, so both equal row 0.
    assert torch.allclose(u[3], u[0], atol=1e-6) and torch.allclose(u[4], u[0], atol=1e-6)
    # ... but the same entry counts when it is not the target.
    other = batch_of([0, 0], [6, 6], hist=hist[3:], use_history=[True, True])
    v = model.user_vectors(other)
    assert not torch.allclose(v[0], v[1])
    # use_history=None (or False) means the ID embedding.
    ids = batch_of([1, 2], [5, 5], hist=hist[:2])
    assert torch.equal(model.user_vectors(ids), model.user_emb.weight[1:3])
    mixed = batch_of([1, 2], [5, 5], hist=hist[:2], use_history=[False, True])
    mu = model.user_vectors(mixed)
    assert torch.equal(mu[0], model.user_emb.weight[1]) and torch.allclose(mu[1], u[1])


@pytest.mark.parametrize("name", MODELS)
def test_history_matches_the_precomputed_table_path(name, ctx, batch_of) -> None:
    """What an exporter does: precompute history_item_table once, then gather rows of it."""
    model = _model(name, ctx).eval()
    batch = batch_of([0, 0, 0], [5, 1, 8], hist=[[(1, 1.5), (2, 1.0), (5, 0.3)], [(3, -1.0)], []],
                     use_history=[True] * 3)
    with torch.no_grad():
        table = model.history_item_table()
        mask = (batch.hist_anime > 0) & (batch.hist_anime != batch.anime.unsqueeze(1))
        exported = model.history(table[batch.hist_anime], batch.hist_rating, mask)
        assert table.shape == (ctx.n_anime, 2 * model.history.hidden)
        assert torch.allclose(model.user_vectors(batch), exported, atol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_history_trains_jointly(name, ctx, batch_of) -> None:
    model = _model(name, ctx).train()
    batch = batch_of([1, 2, 3], [1, 2, 3], target=[1.0, -1.0, 0.5],
                     hist=[[(2, 1.0), (3, -1.0)], [(1, 0.5)], [(4, 1.0)]], use_history=[True, False, True])
    model.loss(batch).backward()
    assert model.history.item_a.weight.grad.abs().sum() > 0
    assert model.anime_emb.weight.grad[4].abs().sum() > 0  # reached only through row 3's history


@pytest.mark.parametrize("name", MODELS)
def test_rebuilt_from_blob_and_state_dict_predicts_identically(name, ctx, batch_of) -> None:
    config = registry.make_config(name, {"dropout": 0.1})
    model = registry.build_model(name, ctx, config)
    users, anime, z = _ratings(ctx)
    hist = [[(1, 1.0), (2, -0.5)]] * len(users)
    batch = batch_of(users.tolist(), anime.tolist(), target=z.tolist(), hist=hist,
                     use_history=[i % 2 == 0 for i in range(len(users))])
    model.loss(batch).backward()  # move BatchNorm statistics away from their init
    model.eval()
    buffer = io.BytesIO()  # through a weights_only checkpoint, as the trainer stores it
    torch.save({"context": ctx.to_blob(), "state": model.state_dict(),
                "config": registry.config_to_dict(model.config)}, buffer)
    buffer.seek(0)
    ckpt = torch.load(buffer, weights_only=True)
    rebuilt = registry.build_model(name, ModelContext.from_blob(ckpt["context"]), ckpt["config"])
    rebuilt.load_state_dict(ckpt["state"])
    rebuilt.eval()
    assert type(rebuilt).name == name
    assert torch.equal(model(batch), rebuilt(batch))


def test_a_context_blob_stores_rating_indices_as_int32_and_restores_them_exactly(ctx) -> None:
    """The training ratings ride in every checkpoint (927 MB at 60M ratings with int64 indices)."""
    blob = ctx.to_blob()["ratings"]
    assert blob["user"].dtype == blob["anime"].dtype == torch.int32
    back = ModelContext.from_blob(ctx.to_blob()).ratings
    assert back.user.dtype == back.anime.dtype == torch.int64
    assert torch.equal(back.user, ctx.ratings.user) and torch.equal(back.anime, ctx.ratings.anime)
    assert torch.equal(back.z, ctx.ratings.z)


def test_mf_mixed_batch_matches_pure_history_and_pure_id_rows(ctx, batch_of) -> None:
    """The fold-in is solved only for history rows; mixing rows must not change any row's value."""
    model = _model("mf", ctx, dim=4).eval()
    with torch.no_grad():
        model.item_bias.weight.normal_()
        model.user_bias.weight.normal_()
    hist = [[(1, 1.5), (2, 1.0)], [(3, -1.0), (4, 0.5), (6, -0.5)], [(1, 0.5)]]
    mixed = model(batch_of([1, 2, 3], [5, 5, 7], hist=hist, use_history=[True, False, True]))
    by_history = model(batch_of([1, 2, 3], [5, 5, 7], hist=hist, use_history=[True] * 3))
    by_id = model(batch_of([1, 2, 3], [5, 5, 7], hist=hist, use_history=[False] * 3))
    assert torch.allclose(mixed[[0, 2]], by_history[[0, 2]], atol=1e-6)
    assert torch.allclose(mixed[1], by_id[1])
    assert not torch.allclose(by_history, by_id)


@pytest.mark.parametrize("dim", [2, 8])  # history longer than dim (d x d solve) and shorter (L x L form)
def test_mf_fold_in_is_the_ridge_solution_of_the_history_residuals(ctx, batch_of, dim) -> None:
    """p = (Q^T Q + shrink I)^-1 Q^T r over the rated anime only, whichever form is solved."""
    model = _model("mf", ctx, dim=dim).eval()
    with torch.no_grad():
        model.item_bias.weight.normal_()
    hist = [[(1, 1.5), (2, 1.0), (3, -0.5)], [(4, 0.5)]]
    batch = batch_of([1, 2], [5, 5], hist=hist, use_history=[True, True])
    b_u = torch.tensor([0.3, -0.2])
    with torch.no_grad():
        got = model.folded_user_factor(batch, b_u)
    q_all = model.item_factor.weight.detach().double()
    for row, pairs in enumerate(hist):
        anime = torch.tensor([a for a, _ in pairs])
        q = q_all[anime]                                               # only the rated entries, no padding
        r = torch.tensor([z for _, z in pairs], dtype=torch.float64) - b_u[row].double() \
            - model.item_bias.weight.detach().double()[anime, 0]
        want = torch.linalg.solve(q.T @ q + model.config.shrink * torch.eye(dim, dtype=torch.float64), q.T @ r)
        assert got.shape == (2, dim)
        assert torch.allclose(got[row].double(), want, atol=1e-5), (row, got[row], want)
