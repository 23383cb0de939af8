"""The bounded per-step rating graph (gnn.models.edge_sample) and the GNN's use of it on the tiny catalog."""

from __future__ import annotations

import pytest
import torch

from gnn.models import registry
from gnn.models.base import ModelContext, TaskBatch
from gnn.models.edge_sample import sample_user_edge_ids, step_edge_ids
from gnn.models.encoder import GraphEncoder
from gnn.models.rating_graph import RATED_BY, RATED_BY_Z, RATES, RATES_Z
from gnn.models.gnn_config import GNNConfig


def _model(ctx: ModelContext, **config):
    torch.manual_seed(0)
    return registry.build_model("gnn", ctx, {"rank_candidates": 4, **config})


def _batch(ctx: ModelContext, pairs: list[tuple[int, int]]) -> TaskBatch:
    """One task per (user, anime) target, each with the user's first two other anime as history."""
    r = ctx.ratings
    edges = [int(((r.user == u) & (r.anime == a)).nonzero()[0]) for u, a in pairs]
    hist = [[int(x) for x in r.anime[(r.user == u) & (r.anime != a)][:2]] for u, a in pairs]
    rated = [[int(x) for x in r.anime[r.user == u]] for u, _ in pairs]
    return TaskBatch(hist=torch.tensor(hist), hist_z=torch.full((len(pairs), 2), 0.5),
                     target=torch.tensor([[a] for _, a in pairs]), target_z=r.z[edges].unsqueeze(1),
                     target_edge=torch.tensor([[e] for e in edges]), rated=torch.tensor(rated),
                     user=torch.tensor([u for u, _ in pairs]))


# 5 users holding 3, 0, 4, 1, 2 ratings, stored by user (edges 0-2, 3-6, 7, 8-9).
CROW = torch.tensor([0, 3, 3, 7, 8, 10], dtype=torch.int32)


def test_sample_user_edge_ids_takes_whole_users_under_the_cap() -> None:
    torch.manual_seed(0)
    owner = torch.tensor([0, 0, 0, 2, 2, 2, 2, 3, 4, 4])
    chosen = torch.zeros(5)
    trials = 3000
    for _ in range(trials):
        ids = sample_user_edge_ids(CROW, None, 5)
        assert torch.equal(ids, ids.sort().values) and len(ids) <= 5 and len(ids.unique()) == len(ids)
        users = owner[ids].unique()
        assert len(ids) == int((CROW[users + 1] - CROW[users]).sum())      # every rating of a chosen user
        chosen[users] += 1
    # Users with ratings in a uniform random order, taken while they fit: the share of the 24 orders
    # that take each user (user 1 has no ratings), within ~4 standard deviations.
    import itertools
    degree = {0: 3, 2: 4, 3: 1, 4: 2}
    expected = torch.zeros(5)
    orders = list(itertools.permutations(degree))
    for o in orders:
        total, taken = 0, []
        for u in o:
            if total + degree[u] > 5 and taken:
                break
            total, taken = total + degree[u], taken + [u]
        expected[taken] += 1 / len(orders)
    assert expected[1] == 0 and expected[0] > 0
    assert (chosen / trials - expected).abs().max() < 0.04


def test_sample_user_edge_ids_follows_the_csr_order_and_keeps_one_user_over_the_cap() -> None:
    torch.manual_seed(1)
    order = torch.tensor([9, 8, 7, 6, 5, 4, 3, 2, 1, 0], dtype=torch.int32)   # edges stored in reverse
    for _ in range(50):
        ids = sample_user_edge_ids(CROW, order, 1)
        assert len(ids) >= 1 and ids.dtype == torch.long
        sets = [{9, 8, 7}, {6, 5, 4, 3}, {2}, {1, 0}]
        assert set(ids.tolist()) in sets                        # one user's edges, even over the cap
    with pytest.raises(ValueError, match="cap must be at least 1"):
        sample_user_edge_ids(CROW, None, 0)
    with pytest.raises(ValueError, match="encoder_rating_edges must be at least 1"):
        GNNConfig(encoder_rating_edges=0)


def test_step_edge_ids_drops_the_hidden_edges_and_those_of_dropped_anime() -> None:
    edge_anime = torch.arange(40) % 4
    anime_keep = torch.tensor([True, True, False, True])
    ids = torch.tensor([0, 1, 2, 3, 5, 6, 9, 30])
    assert step_edge_ids(ids, torch.tensor([0, 1, 5, 7]), edge_anime, anime_keep).tolist() == [3, 9]
    assert step_edge_ids(ids[:0], torch.tensor([0]), edge_anime, anime_keep).tolist() == []


def test_below_the_cap_a_step_masks_the_full_graph_as_before(ctx) -> None:
    """At or below the cap the step is today's: a bool mask over all edges, the same loss bit for bit."""
    batch = _batch(ctx, [(2, 5), (3, 1)])
    n_edges = len(ctx.ratings.anime)
    losses, grads = [], []
    for cap in (n_edges, 1_000_000):
        model = _model(ctx, encoder_rating_edges=cap).train()
        torch.manual_seed(1)
        keep, id_keep = model._step_masks(batch)
        expected = torch.ones(n_edges, dtype=torch.bool)
        expected[batch.target_edge.flatten()] = False
        assert keep.dtype == torch.bool and torch.equal(keep, expected & id_keep[ctx.ratings.anime])
        torch.manual_seed(1)
        loss = model.loss(batch)
        loss.backward()
        losses.append(loss.detach())
        grads.append(torch.cat([p.grad.flatten() for p in model.encoder.parameters() if p.grad is not None]))
    assert torch.equal(losses[0], losses[1]) and torch.equal(grads[0], grads[1])


def test_above_the_cap_a_step_sees_sampled_users_but_never_a_target(ctx) -> None:
    batch = _batch(ctx, [(2, 5), (3, 1), (4, 7)])
    targets = batch.target_edge.flatten()
    model = _model(ctx, encoder_rating_edges=12, cold_drop=0.0).train()
    graph = model.encoder.rating_graph
    seen = torch.zeros(len(ctx.ratings.anime), dtype=torch.bool)
    for seed in range(30):
        torch.manual_seed(seed)
        ids, id_keep = model._step_masks(batch)
        torch.manual_seed(seed)
        torch.rand(ctx.n_anime)                                  # id_keep's draw
        sample = sample_user_edge_ids(graph.user_crow, graph.user_order, 12)
        assert torch.equal(ids, sample[~torch.isin(sample, targets)])   # the sampled users' edges less the targets
        assert ids.dtype == torch.long and not torch.isin(ids, targets).any()
        seen[ids] = True
    assert int(seen.sum()) == len(seen) - len(targets)            # every other edge gets sampled


def test_the_sampled_graph_averages_over_the_sampled_neighbours(ctx) -> None:
    """Only the users with a sampled edge are in the step's graph (users 1, 2, 4, 6 -> 0..3)."""
    model = _model(ctx)
    r, n_anime = ctx.ratings, ctx.n_anime
    ids = torch.tensor([0, 1, 2, 7, 8, 20, 33])
    adj, n_users = model.encoder._step_adjacencies(ids)
    present, u = torch.unique(r.user[ids], return_inverse=True)
    assert present.tolist() == [1, 2, 4, 6] and n_users == 4
    a, z = r.anime[ids], r.z[ids]
    deg_u = torch.bincount(u, minlength=n_users).float()
    deg_a = torch.bincount(a, minlength=n_anime).clamp_min(1).float()
    expected = {RATED_BY: (u, a, 1 / deg_u[u], (n_users, n_anime)), RATED_BY_Z: (u, a, z / deg_u[u], (n_users, n_anime)),
                RATES: (a, u, 1 / deg_a[a], (n_anime, n_users)), RATES_Z: (a, u, z / deg_a[a], (n_anime, n_users))}
    for edge, (dst, src, w, shape) in expected.items():
        dense = torch.zeros(shape).index_put_((dst, src), w)
        assert torch.allclose(adj[edge].a.to_dense(), dense), edge
        assert torch.allclose(adj[edge].a_t.to_dense(), dense.T), edge
    assert torch.allclose(adj[RATED_BY].a.to_dense().sum(1), torch.ones(n_users))   # a mean per user


def test_a_sampled_step_equals_the_full_graph_of_the_sampled_edges(ctx) -> None:
    """The sampled forward pass is the encoder over a rating graph holding only those edges (every user)."""
    ids = torch.tensor([0, 1, 2, 7, 8, 20, 33])
    r = ctx.ratings
    model = _model(ctx)
    sub = type(r)(r.user[ids], r.anime[ids], r.z[ids], r.n_users)
    only = GraphEncoder(ctx.graph, sub, ctx.train_count > 0, ctx.n_relation_types)
    only.load_state_dict(model.encoder.state_dict())
    with torch.no_grad():
        assert torch.allclose(model.encoder(ids), only(), atol=1e-6)
        empty = model.encoder(torch.zeros(0, dtype=torch.long))     # every sampled edge hidden: no rating graph
        assert empty.shape == (ctx.n_anime, model.config.anime_dim) and torch.isfinite(empty).all()


def test_training_above_the_cap_runs_and_evaluation_keeps_the_full_graph(ctx) -> None:
    batch = _batch(ctx, [(2, 5), (3, 1), (4, 7), (6, 2)])
    model = _model(ctx, encoder_rating_edges=10).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(3):
        loss = model.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        assert torch.isfinite(loss)
        lins = [v for k, v in model.encoder.layers[1].lin.items() if k.startswith("user__rates")]
        assert all(lin.weight.grad.abs().sum() > 0 for lin in lins)   # messages flow over the sampled edges
        optimizer.step()
    full = _model(ctx)
    full.load_state_dict(model.state_dict())
    model.eval(), full.eval()
    with torch.no_grad():
        assert torch.equal(model.item_state(), full.item_state())
