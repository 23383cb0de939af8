"""The GNN recommender on the tiny catalog of conftest.py: encoder, pair features, watch score, heads, ranking."""

from __future__ import annotations

import math

import pytest
import torch

from gnn.errors import ModelConfigError
from gnn.graph.features import supported_features
from gnn.data.schema import RELATION_TYPES, Relation, Studio, Tag
from gnn.graph.hops import two_hop_table
from gnn.models import registry
from gnn.models.base import ModelContext, TaskBatch, UserQuery
from gnn.models.encoder import GraphEncoder
from gnn.models.pairs import AnimeTables, PairFeatures
from gnn.models.watch import catalog_softmax_loss
from tests.builders import pad_histories

SEQUEL, PREQUEL = RELATION_TYPES.index("SEQUEL"), RELATION_TYPES.index("PREQUEL")


def _model(ctx: ModelContext, seed: int = 0, **config):
    torch.manual_seed(seed)
    return registry.build_model("gnn", ctx, {"rank_candidates": 4, **config})


def _hist(rows: list[list[tuple[int, float]]]) -> tuple[torch.Tensor, torch.Tensor]:
    return pad_histories(rows)


# -- encoder --------------------------------------------------------------------------------------

def test_encoder_shape_and_every_input_gets_gradients(ctx) -> None:
    torch.manual_seed(0)
    enc = GraphEncoder(ctx.graph, ctx.ratings, ctx.train_count > 0, ctx.n_relation_types, hidden=8, out_dim=6,
                       id_dim=4)
    out = enc()
    assert out.shape == (ctx.n_anime, 6) and torch.isfinite(out).all()
    out.square().sum().backward()
    assert enc.anime_in.weight.grad.abs().sum() > 0 and enc.anime_id.weight.grad[1:8].abs().sum() > 0
    assert enc.anime_id.weight.grad[8].abs().sum() == 0          # nobody rated anime 8: no ID embedding
    for t in ("studio", "tag", "genre"):
        assert enc.node_emb[t].weight.grad[1:].abs().sum() > 0, t
    assert enc.rel_log_scale.grad.abs().sum() > 0
    lins = {k: v for k, v in enc.layers[1].lin.items() if k.startswith("user__rates")}
    assert lins and all(lin.weight.grad.abs().sum() > 0 for lin in lins.values())  # who rated it, and how


def test_encoder_rating_edges_carry_the_ratings(ctx) -> None:
    """Flipping the ratings (same edges) changes the anime vectors; hiding an edge changes its anime."""
    torch.manual_seed(0)
    enc = GraphEncoder(ctx.graph, ctx.ratings, ctx.train_count > 0, ctx.n_relation_types, hidden=8, out_dim=6)
    flipped_ratings = type(ctx.ratings)(ctx.ratings.user, ctx.ratings.anime, -ctx.ratings.z, ctx.ratings.n_users)
    flipped = GraphEncoder(ctx.graph, flipped_ratings, ctx.train_count > 0, ctx.n_relation_types, hidden=8, out_dim=6)
    flipped.load_state_dict(enc.state_dict())
    with torch.no_grad():
        base = enc()
        assert not torch.allclose(base[1:8], flipped()[1:8])
        keep = torch.ones(len(ctx.ratings.anime), dtype=torch.bool)
        keep[(ctx.ratings.anime == 3).nonzero()[0]] = False        # one rating of anime 3 hidden
        assert not torch.allclose(base[3], enc(edge_keep=keep)[3])
        # No ID embedding for anime 5 this step: its vector changes, anime 8 (never rated) does not.
        id_keep = torch.ones(ctx.n_anime, dtype=torch.bool)
        id_keep[5] = False
        out = enc(id_keep=id_keep)
        assert not torch.allclose(base[5], out[5])


def test_adding_a_relation_changes_the_related_anime(make_ctx) -> None:
    before, after = make_ctx(), make_ctx({6: (Relation(7, "SEQUEL"),)})
    torch.manual_seed(0)
    a = GraphEncoder(before.graph, None, before.train_count > 0, before.n_relation_types, hidden=8, out_dim=6)
    b = GraphEncoder(after.graph, None, after.train_count > 0, after.n_relation_types, hidden=8, out_dim=6)
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        x, y = a(), b()
    assert not torch.allclose(x[6], y[6]) and not torch.allclose(x[7], y[7])
    assert torch.allclose(x[8], y[8])


# -- two-hop table and pair features ---------------------------------------------------------------

def test_two_hop_table_lists_relatives_of_relatives_once_strongest_first() -> None:
    # 1-2-3-4 a sequel chain (weight 1); 5 a side story of 2 (0.6)
    rel_idx = torch.tensor([[0, 0, 0], [2, 0, 0], [1, 3, 5], [2, 4, 0], [3, 0, 0], [2, 0, 0]])
    rel_w = torch.tensor([[0, 0, 0], [1.0, 0, 0], [1.0, 1.0, 0.6], [1.0, 1.0, 0], [1.0, 0, 0], [0.6, 0, 0]])
    idx, w = two_hop_table(rel_idx, rel_w, 4)
    assert idx[1].tolist() == [3, 5, 0, 0] and w[1].tolist() == pytest.approx([1.0, 0.6, 0, 0])
    assert idx[2].tolist() == [4, 0, 0, 0]                     # 1 and 3 are direct relatives of 2
    assert idx[5].tolist() == [1, 3, 0, 0] and w[5].tolist() == pytest.approx([0.6, 0.6, 0, 0])


def test_pair_features_on_the_tiny_catalog(ctx) -> None:
    co_idx, co_w = torch.zeros(ctx.n_anime, 2, dtype=torch.long), torch.zeros(ctx.n_anime, 2)
    co_idx[3], co_w[3] = torch.tensor([2, 5]), torch.tensor([0.5, 0.25])    # 3's most co-rated: 2, then 5
    co_idx[1], co_w[1] = torch.tensor([8, 0]), torch.tensor([0.125, 0.0])
    tables = AnimeTables.build(ctx.tables, two_hop_table(ctx.tables.rel_idx, ctx.tables.rel_w), (co_idx, co_w))
    pairs = PairFeatures(ctx.n_tags, ctx.n_genres)
    target = torch.tensor([[2, 1, 8]])
    hist = torch.tensor([[1, 3, 2, 0]])
    relation, feats = pairs(tables, target, hist)
    assert relation.shape == (1, 3, 4) and feats.shape == (1, 3, 4, 5)
    # Co-rated weight from either anime's list: 3 lists 2 (the entry's list), 1 lists 8 (the entry's list
    # for target 8); 2 lists nobody, so (target 2, entry 3) reads 3's list.
    assert feats[0, 0, 1, 4] == 0.5 and feats[0, 2, 0, 4] == 0.125
    assert feats[0, 1, :, 4].tolist() == [0, 0, 0, 0] and feats[0, 0, 0, 4] == 0
    assert relation[0, 0, 0] == PREQUEL + 1        # anime 1 is anime 2's prequel
    assert relation[0, 1, 2] == SEQUEL + 1         # anime 2 is anime 1's sequel
    assert relation[0, 0, 1] == 0                  # 3 is not directly related to 2 ...
    assert feats[0, 0, 1, 0] > 0                   # ... but two hops away (3 -> 1 -> 2)
    assert (relation[0, 2] == 0).all() and (feats[0, 2, :, :4] == 0).all()   # the bare anime 8: no catalog link
    assert (relation[0, :, 3] == 0).all() and (feats[0, :, 3] == 0).all()  # padding
    assert torch.allclose(feats[0, 1, 0, 2:4], torch.ones(2))          # anime 1 vs itself: cosines 1


# -- the model -------------------------------------------------------------------------------------

def test_rating_and_shapes(ctx) -> None:
    model = _model(ctx).eval()
    hist, z = _hist([[(1, 1.0), (3, -0.5)], []])
    with torch.no_grad():
        h = model.item_state()
        out = model.rate(torch.tensor([[2, 8, 5], [2, 8, 5]]), hist, z, h)
        assert out.shape == (2, 3) and torch.isfinite(out).all()
        assert model.item_vectors(torch.tensor([[1, 8]]), h).shape == (1, 2, 240)
        assert model.mlp[0].in_features == 304
        assert model.watch_logits(hist, z, h).shape == (2, ctx.n_anime)


def test_user_skip_is_a_linear_path_from_the_user_vector_to_the_rating(ctx) -> None:
    """Zero at the start (the same predictions as without it); once trained it adds exactly w . user."""
    plain, skip = _model(ctx, user_skip=False).eval(), _model(ctx, user_skip=True).eval()
    assert plain.user_skip is None and skip.user_skip.weight.shape == (1, 64)
    skip.load_state_dict(plain.state_dict(), strict=False)
    hist, z = _hist([[(1, 1.0), (3, -0.5)], [(4, 2.0)]])
    target = torch.tensor([[2, 5], [6, 7]])
    captured = {}
    skip.attention.register_forward_hook(lambda _m, _i, out: captured.update(user=out))
    with torch.no_grad():
        h = plain.item_state()
        base = plain.rate(target, hist, z, h)
        assert torch.equal(skip.rate(target, hist, z, h), base)
        skip.user_skip.weight.normal_()
        moved = skip.rate(target, hist, z, h) - base
    expected = (captured["user"] @ skip.user_skip.weight.t()).squeeze(-1)
    assert moved.abs().min() > 0 and torch.allclose(moved, expected, atol=1e-5)


def test_history_offset_adds_the_shrunk_offset_of_the_entries_other_than_the_target(ctx) -> None:
    """Off: no weights; on: rate() moves by w * sum(dev) / (n + lambda) over each target's own unmasked
    entries (dev = rating minus the entry anime's bias, lambda 4 at the start); at weight 0 it is the plain model."""
    plain = _model(ctx, history_offset=False, offset_fade=False).eval()
    shrunk = _model(ctx, history_offset=True, offset_fade=False).eval()
    assert plain.offset is None and shrunk.offset.prior.item() == pytest.approx(4.0)
    shrunk.load_state_dict(plain.state_dict(), strict=False)
    hist, z = _hist([[(1, 1.0), (3, -0.5), (2, 2.0)], [(4, 2.0)]])
    target = torch.tensor([[2, 5], [6, 7]])
    with torch.no_grad():
        h = plain.item_state()
        b = plain.item_bias(h).squeeze(-1)
        moved = shrunk.rate(target, hist, z, h) - plain.rate(target, hist, z, h)
        dev = {1: 1.0 - b[1], 3: -0.5 - b[3], 2: 2.0 - b[2], 4: 2.0 - b[4]}
        expected = torch.tensor([[(dev[1] + dev[3]) / 6, (dev[1] + dev[3] + dev[2]) / 7],   # target 2 left out
                                 [dev[4] / 5, dev[4] / 5]])
        assert torch.allclose(moved, expected, atol=1e-5)
        shrunk.offset.weight.fill_(0.0)
        assert torch.allclose(shrunk.rate(target, hist, z, h), plain.rate(target, hist, z, h), atol=1e-6)
    stored = registry.stored_config("gnn", {"hidden": [8]})                   # a checkpoint from before
    assert stored["history_offset"] is False and stored["offset_fade"] is False


def test_offset_fade_scales_the_offset_down_with_the_history_length() -> None:
    """offset_fade: the offset times kappa / (n + kappa), kappa 16 at the start: a history of 1 keeps
    16/17 of its offset, one of 48 a quarter; without it nothing is scaled."""
    from gnn.models.user import ShrunkOffset

    dev = torch.tensor([[2.0] + [0.0] * 47, [1.0] * 48])
    mask = torch.stack([torch.arange(48) < 1, torch.ones(48, dtype=torch.bool)]).unsqueeze(1)   # n = 1, 48
    plain, faded = ShrunkOffset(), ShrunkOffset(fade=True)
    assert plain.log_horizon is None
    with torch.no_grad():
        assert torch.allclose(plain(dev, mask), torch.tensor([[2 / 5], [48 / 52]]))
        assert torch.allclose(faded(dev, mask), torch.tensor([[2 / 5 * 16 / 17], [48 / 52 * 16 / 64]]))
    faded(dev, mask).sum().backward()
    assert faded.log_horizon.grad is not None and faded.log_horizon.grad != 0


def test_the_faded_offset_is_the_default_and_needs_the_offset(ctx) -> None:
    assert _model(ctx).offset.log_horizon is not None
    with pytest.raises(ModelConfigError, match="with history_offset off, set offset_fade off too"):
        _model(ctx, history_offset=False)
    assert _model(ctx, history_offset=False, offset_fade=False).offset is None


def test_the_target_is_masked_out_of_its_own_history(ctx) -> None:
    model = _model(ctx).eval()
    with_target, z1 = _hist([[(1, 1.0), (2, 2.0), (3, -0.5)]])
    without, z2 = _hist([[(1, 1.0), (3, -0.5)]])
    with torch.no_grad():
        h = model.item_state()
        a = model.rate(torch.tensor([[2]]), with_target, z1, h)
        b = model.rate(torch.tensor([[2]]), without, z2, h)
        assert torch.allclose(a, b, atol=1e-6)
        # ... while the same entry counts for another target.
        c = model.rate(torch.tensor([[5]]), with_target, z1, h)
        d = model.rate(torch.tensor([[5]]), without, z2, h)
        assert not torch.allclose(c, d)


def _pulled_terms(model, t, hist: list[int], z: list[float], a: int) -> float:
    """The watch score's relation, two-hop and co-rated terms of anime ``a``, read straight from the lists:
    ``a``'s own relation and two-hop lists, and the co-rated list of each rated anime."""
    w, total = model.watch, 0.0
    for j, zj in zip(hist, z):
        for r, other in enumerate(t.rel_idx[a].tolist()):
            if other == j and j > 0:
                rw = w.rel_weight[t.rel_type[a, r]]
                total += float(rw[0] + rw[1] * zj)
        for r, other in enumerate(t.hop2_idx[a].tolist()):
            if other == j and j > 0:
                total += float(t.hop2_w[a, r] * (w.hop2_weight[0] + w.hop2_weight[1] * zj))
        for r, other in enumerate(t.co_idx[j].tolist() if j > 0 else []):
            if other == a:
                total += float(t.co_w[j, r] * (w.co_weight[0] + w.co_weight[1] * zj))
    return total


def test_watch_terms_pushed_from_the_history_equal_the_terms_read_from_the_lists(ctx) -> None:
    """The batched form (training) and the one-history form (the export) both give each anime the terms its
    own relation lists and the rated anime's co-rated lists say."""
    model = _model(ctx, corated_scale=False)   # the lists alone; the scale has its own test below
    with torch.no_grad():
        model.watch.rel_weight.normal_()
        model.watch.hop2_weight.normal_()
        model.watch.co_weight.normal_()
    rows = [[(1, 1.0), (3, -0.5)], [(2, 2.0)], []]
    hist, z = _hist(rows)
    t = model.tables
    assert t.co_w[1].sum() > 0 and t.co_w[3].sum() > 0   # the tiny training ratings co-rate these
    with torch.no_grad():
        batched = model.watch.relation_term(t, hist, z) + model.watch.corated_term(t, hist, z)
        for row, entries in enumerate(rows):
            want = [_pulled_terms(model, t, [j for j, _ in entries], [r for _, r in entries], a)
                    for a in range(1, ctx.n_anime)]
            assert batched[row, 1:].tolist() == pytest.approx(want, abs=1e-5)
            one = model.watch.relation_term_one(t, hist[row], z[row], torch.arange(0, ctx.n_anime))
            assert torch.allclose(batched[row], one, atol=1e-6) and one[0] == 0
    assert batched[0, 2] != 0 and batched[2].abs().sum() == 0   # 2 is 1's sequel; an empty history adds nothing


def test_softmax_never_treats_a_rated_anime_as_a_negative(ctx) -> None:
    """Raising the logit of an anime the user rated (but not a target) leaves the loss unchanged."""
    batch = TaskBatch(hist=torch.tensor([[1, 3]]), hist_z=torch.tensor([[1.0, -0.5]]), target=torch.tensor([[2]]),
                      target_z=torch.tensor([[0.5]]), target_edge=torch.tensor([[-1]]),
                      rated=torch.tensor([[1, 2, 3, 4]]), user=torch.tensor([5]))
    logits = torch.zeros(1, ctx.n_anime)
    base = catalog_softmax_loss(logits, batch.target, batch.rated)
    raised = logits.clone()
    raised[0, 4] = 50.0                      # rated, not a target: not a candidate
    assert torch.allclose(catalog_softmax_loss(raised, batch.target, batch.rated), base)
    raised[0, 5] = 50.0                      # never rated: a negative
    assert catalog_softmax_loss(raised, batch.target, batch.rated) > base + 10
    assert base == pytest.approx(math.log(ctx.n_anime - 1 - 3))   # candidates: 1..8 minus 1, 3, 4


def test_loss_hides_the_targets_rating_edges(ctx) -> None:
    model = _model(ctx, cold_drop=0.0)
    edge = int(((ctx.ratings.user == 2) & (ctx.ratings.anime == 5)).nonzero()[0])
    batch = TaskBatch(hist=torch.tensor([[1, 3]]), hist_z=torch.tensor([[1.0, -0.5]]), target=torch.tensor([[5, 0]]),
                      target_z=torch.tensor([[0.5, 0.0]]), target_edge=torch.tensor([[edge, -1]]),
                      rated=torch.tensor([[1, 3, 5]]), user=torch.tensor([2]))
    keep, id_keep = model._step_masks(batch)
    assert not keep[edge] and int(keep.sum()) == len(keep) - 1 and id_keep.all()
    loss = model.loss(batch)
    loss.backward()
    assert torch.isfinite(loss) and model.entries.a.weight.grad.abs().sum() > 0   # one real target: BN copes


def test_score_candidates_rates_only_the_best_by_watch_score(ctx) -> None:
    model = _model(ctx).eval()
    hist, z = _hist([[(1, 1.0)]])
    anime = torch.arange(2, ctx.n_anime)                     # 7 candidates, rank_candidates = 4
    with torch.no_grad():
        score, rating = model.score_candidates(hist, z, anime)
        finite = torch.isfinite(score)
        assert int(finite.sum()) == 4 and torch.equal(finite, ~torch.isnan(rating))
        # The rated ones are the 4 best by watch logit, and a score never exceeds its watch logit.
        watch = model.watch_logits(hist, z, model.item_state())[0, anime]
        assert set(anime[finite].tolist()) == set(anime[watch.topk(4).indices].tolist())
        assert (score[finite] <= watch[finite] + 1e-6).all()
        # With at most rank_candidates anime, every one is rated, and equals model.rate.
        few = torch.tensor([2, 8])
        s2, r2 = model.score_candidates(hist, z, few)
        assert torch.isfinite(s2).all()
        assert torch.allclose(r2, model.denormalize(model.rate(few.unsqueeze(0), hist, z, model.item_state())[0]))


def test_the_corated_scale_multiplies_the_corated_term_alike_in_training_and_export_paths(ctx) -> None:
    """corated_scale: the co-rated part at anime a is exp(v . h_a) times what it was, in the batched watch
    logits (training, rank) and in score_candidates (the exported model) alike."""
    model = _model(ctx, corated_scale=True, rank_candidates=7).eval()
    with torch.no_grad():
        model.watch.co_weight.copy_(torch.tensor([1.0, 0.5]))
        model.watch.co_scale.weight.normal_(0.0, 0.05)   # within the clamp (|v . h| <= 5)
    hist, z = _hist([[(1, 1.0), (3, -0.5)]])
    t, h = model.tables, model.item_state()
    with torch.no_grad():
        plain = model.watch.corated_term(t, hist, z)[0]
        scale = torch.exp(model.watch.co_scale(h).squeeze(-1))
        assert plain[1:].abs().sum() > 0 and not torch.allclose(scale, torch.ones_like(scale), atol=0.05)
        assert (scale.log().abs() < 5).all()
        off = model.watch.co_scale
        model.watch.co_scale = None
        unscaled = model.watch_logits(hist, z, h)[0]
        model.watch.co_scale = off
        scaled = model.watch_logits(hist, z, h)[0]
        assert torch.allclose(scaled - unscaled, plain * (scale - 1), atol=1e-5)
        anime = torch.tensor([2, 4, 5, 6, 7, 8])
        exported, _ = model.score_candidates(hist, z, anime)
        ranked = model.score_catalog(UserQuery(torch.tensor([0]), hist, z))[0, anime]
        assert torch.allclose(exported, ranked, atol=1e-5)


def test_unrated_offset_moves_only_anime_without_training_ratings_alike_on_both_paths(ctx) -> None:
    """unrated_watch_offset: anime 8 (no training rating) gets the learned offset on its watch logit, in the
    batched logits (training, rank) and in score_candidates (the export) alike; rated anime do not."""
    model = _model(ctx, unrated_watch_offset=True, rank_candidates=7).eval()
    hist, z = _hist([[(1, 1.0), (3, -0.5)]])
    anime = torch.tensor([2, 4, 5, 6, 7, 8])
    with torch.no_grad():
        model.watch.unrated_offset.fill_(0.0)
        before = model.watch_logits(hist, z, model.item_state())[0]
        model.watch.unrated_offset.fill_(-2.5)
        after = model.watch_logits(hist, z, model.item_state())[0]
        assert torch.allclose(after - before, torch.tensor([0.0] * 8 + [-2.5]))
        exported, _ = model.score_candidates(hist, z, anime)
        ranked = model.score_catalog(UserQuery(torch.tensor([0]), hist, z))[0, anime]
        assert torch.allclose(exported, ranked, atol=1e-5)
    off = _model(ctx, unrated_watch_offset=False)
    assert not any("unrated_offset" in name for name, _ in off.named_parameters())   # off: no parameter


def test_rank_is_certified_exact_when_the_cut_cannot_matter(ctx) -> None:
    model = _model(ctx, rank_candidates=7).eval()          # every anime but padding is a candidate
    hist, z = _hist([[(1, 1.0), (4, -1.0)]])
    scores, exact = model.rank(UserQuery(torch.tensor([0]), hist, z), k=3)
    assert bool(exact[0]) and torch.isinf(scores[0, [0, 1, 4]]).all()   # padding and the history excluded
    assert torch.isfinite(scores[0, [2, 3, 5, 6, 7, 8]]).all()
    assert torch.equal(model.score_catalog(UserQuery(torch.tensor([0]), hist, z)), scores)


@pytest.mark.parametrize("change", ["relation", "studio", "tag"])
def test_a_never_rated_anime_gets_a_finite_rating_that_follows_its_catalog_entry(make_ctx, change) -> None:
    """Anime 8 has no rating at all; giving it a relation, a studio or a tag changes its predicted rating."""
    variants = {"relation": make_ctx({7: (Relation(8, "PREQUEL"),)}),                  # 8 becomes 7's prequel
                "studio": make_ctx(bare={"studios": (Studio("studio1", True),)}),
                "tag": make_ctx(bare={"tags": (Tag("tag2", 80, "Theme-Action"),)})}
    model = _model(make_ctx()).eval()
    other = _model(variants[change]).eval()
    other.load_state_dict(model.state_dict())
    hist, z = _hist([[(7, 2.0), (1, -1.0)]])
    with torch.no_grad():
        a = model.rate(torch.tensor([[8]]), hist, z, model.item_state())
        b = other.rate(torch.tensor([[8]]), hist, z, other.item_state())
    assert torch.isfinite(a).all() and torch.isfinite(b).all() and not torch.allclose(a, b)


def test_works_without_any_relation(make_ctx) -> None:
    ctx = make_ctx()
    bare = ModelContext(**{**ctx.__dict__, "tables": type(ctx.tables)(**{
        **ctx.tables.to_dict(), "rel_idx": torch.zeros_like(ctx.tables.rel_idx),
        "rel_w": torch.zeros_like(ctx.tables.rel_w), "rel_type": torch.zeros_like(ctx.tables.rel_type)})})
    model = _model(bare).train()
    hist, z = _hist([[(1, 1.0), (3, -0.5)]])
    batch = TaskBatch(hist=hist, hist_z=z, target=torch.tensor([[2, 5]]), target_z=torch.tensor([[0.5, -1.0]]),
                      target_edge=torch.tensor([[-1, -1]]), rated=torch.tensor([[1, 2, 3, 5]]), user=torch.tensor([4]))
    loss = model.loss(batch)
    loss.backward()
    assert torch.isfinite(loss)


def test_rank_score_adds_the_weighted_like_term_and_never_exceeds_the_watch_logit(ctx) -> None:
    model = _model(ctx, like_weight=2.0)
    watch, z = torch.tensor([0.5, 0.5, -1.0]), torch.tensor([1.5, -1.5, 0.0])
    score = model.rank_score(watch, z)
    assert torch.allclose(score, watch + 2.0 * model.like_log_prob(z)) and bool((score <= watch).all())
    assert score[0] > score[1]                                       # same watch logit: the better rating first
    assert torch.equal(_model(ctx, like_weight=0.0).rank_score(watch, z), watch)


def test_scoring_reads_up_to_score_history_while_training_tasks_hold_max_history(ctx) -> None:
    """A history longer than max_history is read whole when scored (up to score_history); score_history 0
    scores as training reads, keeping the max_history entries with the highest key (gnn.data.history_key)."""
    from gnn.data.history_key import cap_history
    from gnn.models.gnn_config import GNNConfig

    hist, z = _hist([[(a, (a % 3 - 1) / 2) for a in range(1, 8)]])
    targets = torch.tensor([[8, 2]])
    wide = _model(ctx, max_history=3, score_history=7)
    narrow = _model(ctx, max_history=3, score_history=0)
    narrow.load_state_dict(wide.state_dict())
    wide.eval(), narrow.eval()
    assert (wide.scoring_history, narrow.scoring_history) == (7, 3)
    got_wide, got_narrow = wide.predict_users(hist, z, targets), narrow.predict_users(hist, z, targets)
    kept = cap_history(hist, z, 3)
    assert torch.allclose(got_narrow, narrow.predict_users(*kept, targets))     # the cap is what it reads
    assert (got_wide - got_narrow).abs().max() > 1e-4                          # the wide cap reads all 7
    with pytest.raises(ValueError, match="score_history"):
        GNNConfig(max_history=8, score_history=4)


def test_catalog_support_reads_unrated_anime_numbers_within_what_training_saw(ctx) -> None:
    """catalog_support (default): the encoder reads the catalog numbers through supported_features (anime 8,
    with no training rating, could only differ there); off, the graph's own; a checkpoint written before
    the option existed is read with it off."""
    x, warm = ctx.graph["anime"].x.float(), ctx.train_count > 0
    assert not torch.equal(supported_features(x, warm), x)     # this catalog has something to change
    assert torch.equal(_model(ctx).encoder.anime_x, supported_features(x, warm))
    assert torch.equal(_model(ctx, catalog_support=False).encoder.anime_x, x)
    assert registry.stored_config("gnn", {"hidden": [8]})["catalog_support"] is False


def test_rated_popularity_moves_a_rated_anime_of_unknown_popularity_unless_off(ctx) -> None:
    """Anime 1 (rated) given an unknown popularity: read as the lowest known by default (and by a checkpoint
    written before the option), as it is with rated_popularity off."""
    import dataclasses

    from gnn.graph.features import FEATURE_NAMES

    graph = ctx.graph.clone()
    pop, missing = FEATURE_NAMES.index("popularity"), FEATURE_NAMES.index("popularity_missing")
    graph["anime"].x[1, pop], graph["anime"].x[1, missing] = 0.0, 1.0
    small = dataclasses.replace(ctx, graph=graph)
    x = graph["anime"].x.float()
    lowest = x[1:, pop][x[1:, missing] == 0].min()
    assert lowest != 0.0 and _model(small).encoder.anime_x[1, pop] == lowest
    assert _model(small, rated_popularity=False).encoder.anime_x[1, pop] == 0.0
    assert registry.stored_config("gnn", {"hidden": [8]})["rated_popularity"] is True


def test_corated_shrink_reaches_the_models_table(ctx) -> None:
    """Anime 1 shares 2 raters with anime 2 (3 raters) and 1 with anime 3 (1 rater): by cosine 2 comes first,
    by share with shrink 0.5 (1 / 1.5 > 2 / 3.5) anime 3 does (tests/graph/test_corated.py's graph)."""
    import dataclasses

    from gnn.models.base import RatingEdges

    user, anime = torch.tensor([1, 1, 1, 2, 2, 3, 3]), torch.tensor([1, 2, 3, 1, 2, 2, 4])
    ratings = RatingEdges(user, anime, torch.zeros(len(user)), ctx.n_users)
    small = dataclasses.replace(ctx, ratings=ratings, train_count=torch.bincount(anime, minlength=ctx.n_anime))
    config = {"corated_min_common": 1, "corated_width": 2, "corated_kind": "cosine"}
    assert _model(small, **config).tables.co_idx[1].tolist() == [2, 3]
    assert _model(small, **config, corated_shrink=0.5).tables.co_idx[1].tolist() == [3, 2]


@pytest.mark.parametrize("shrink", [-1.0, float("nan")])
def test_corated_shrink_must_be_a_number_at_least_0(ctx, shrink) -> None:
    with pytest.raises(ModelConfigError, match="model 'gnn': corated_shrink must be a number >= 0"):
        _model(ctx, corated_shrink=shrink)


def test_ease_lists_reach_the_table_and_training_weighs_a_users_own_pairs_as_if_refitted_without_them(ctx) -> None:
    """corated_kind "ease": the table is each anime's strongest EASE weights; a training pair's weight is the
    one EASE gives with that user's row taken out of X (refitted here from scratch), where the pair is listed."""
    from gnn.graph.ease import ease_lists, weights_of

    model = _model(ctx, corated_kind="ease", ease_reg=1.0, corated_width=3, cold_drop=0.0)
    user, anime = ctx.ratings.user, ctx.ratings.anime
    lists = ease_lists(user, anime, ctx.n_anime, 3, 1.0)
    assert torch.equal(model.tables.co_idx, lists.idx) and torch.allclose(model.tables.co_w, lists.w)
    assert (model.tables.co_idx[1:8] > 0).any()
    u = 2
    rated = sorted(anime[user == u].tolist())
    target, hist = rated[-1:], rated[:-1]
    batch = TaskBatch(hist=torch.tensor([hist]), hist_z=torch.zeros(1, len(hist)), target=torch.tensor([target]),
                      target_z=torch.zeros(1, 1), target_edge=torch.tensor([[-1]]), rated=torch.tensor([rated]),
                      user=torch.tensor([u]))
    keep = torch.ones(ctx.n_anime, dtype=torch.bool)
    pairs, _ = model._training_corated(batch, keep, model.item_state())
    items = torch.unique(anime)
    x = torch.zeros(int(user.max()) + 1, len(items), dtype=torch.float64)
    x[user, torch.searchsorted(items, anime)] = 1.0
    x[u] = 0.0                                                        # the user taken out
    rest = weights_of(torch.linalg.inv(x.t() @ x + torch.eye(len(items), dtype=torch.float64)))
    col = {int(a): i for i, a in enumerate(items)}
    t = target[0]
    for h_i, h in enumerate(hist):
        want = [float(rest[col[t], col[h]]) * lists.scale if h in lists.idx[t].tolist() else 0.0,
                float(rest[col[h], col[t]]) * lists.scale if t in lists.idx[h].tolist() else 0.0]
        assert float(pairs[0, 0, h_i]) == pytest.approx(max(want), abs=1e-5), h
    # Listed pairs exist, and the user's own row moved their weights (the full fit's table weight differs).
    from_target, from_entry = model.pairs.corated_pairs(model.tables, batch.target, batch.hist)
    listed = torch.maximum(from_target, from_entry) != 0
    assert listed.any() and not torch.allclose(pairs[listed], torch.maximum(from_target, from_entry)[listed])
    assert torch.isfinite(model.loss(batch))


@pytest.mark.parametrize("option, message", [({"corated_kind": "lift"}, "corated_kind must be 'cosine' or 'ease'"),
                                             ({"ease_reg": 0.0}, "ease_reg must be a number > 0")])
def test_corated_kind_and_ease_reg_are_checked(ctx, option, message) -> None:
    with pytest.raises(ModelConfigError, match=message):
        _model(ctx, **option)
