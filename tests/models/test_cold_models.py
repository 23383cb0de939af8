"""gnn.models.content / gnn.models.cold: content similarity and the cold-item references on hand-made data."""

from __future__ import annotations

import math

import pytest
import torch

from gnn.data.schema import RELATION_TYPES, Anime, Relation, Studio, Tag
from gnn.data.vocab import CatalogVocab
from gnn.errors import ModelConfigError
from gnn.graph.builder import build_catalog_graph
from gnn.models import registry
from gnn.models.base import Batch, ModelContext, UserQuery
from gnn.models.cold import ContentKNNConfig, ContentPriorConfig
from gnn.models.content import content_vectors, top_neighbors
from gnn.processed import RatingSplit
from gnn.train.checkpoint import model_blob, model_from_blob
from tests.builders import pad_histories

EXACT = {"reg_item": 1e-6, "reg_user": 1e-6, "ridge": 1e-9, "squares": False, "iters": 20}
WEIGHTS = {"genre": 1.0, "tag": 1.0, "studio": 1.0, "relation": 2.0}


def context(anime: list[Anime], n_users: int) -> ModelContext:
    """Ratings are taken as already normalized (mean 0, std 1) on a scale wide enough never to clamp."""
    vocab = CatalogVocab.from_anime(anime)
    g = build_catalog_graph(anime, vocab)
    return ModelContext(n_users=n_users + 1, n_anime=len(vocab.anime), n_genres=len(vocab.genre),
                        n_tags=len(vocab.tag), n_studios=len(vocab.studio), n_relation_types=len(RELATION_TYPES),
                        rating_mean=0.0, rating_std=1.0, rating_low=-100.0, rating_high=100.0,
                        tables=g.tables, graph=g.data)


def split(rows: list[tuple[int, int, float]]) -> RatingSplit:
    u, a, r = zip(*rows)
    return RatingSplit(torch.tensor(u), torch.tensor(a), torch.tensor(r, dtype=torch.float32))


def fitted(name: str, ctx: ModelContext, rows, **config):
    model = registry.build_model(name, ctx, config)
    assert model.fit_closed_form(split(rows)) is True
    return model.eval()


def predict(model, users, anime) -> list[float]:
    return model.predict(Batch(user=torch.tensor(users), anime=torch.tensor(anime))).tolist()


# ------------------------------------------------------------------ content similarity

def similarity_catalog() -> list[Anime]:
    return [Anime(1, genres=("Action",), relations=(Relation(5, "SEQUEL"),)), Anime(2, genres=("Action",)),
            Anime(3, genres=("Drama",)), Anime(4, genres=("Action", "Drama")), Anime(5, genres=("Drama",)),
            Anime(6)]


def test_content_cosines_mix_the_kinds_each_anime_has():
    ctx = context(similarity_catalog(), 1)
    v = content_vectors(ctx.tables, ctx.n_genres, ctx.n_tags, ctx.n_studios, WEIGHTS, idf=False).to_dense()
    cos = v @ v.t()
    # 1 = (Action, franchise {1, 5}) with weights 1 and 2; 5 = (Drama, the same franchise).
    assert cos[1, 2] == pytest.approx(1 / math.sqrt(3))     # Action only, out of 1 + 2
    assert cos[1, 5] == pytest.approx(2 / 3)                # franchise, no genre in common
    assert cos[1, 4] == pytest.approx(1 / math.sqrt(6))
    assert cos[2, 4] == pytest.approx(1 / math.sqrt(2)) and cos[2, 3] == 0
    assert cos.diagonal()[1:6] == pytest.approx(torch.ones(5))
    assert not v[6].any() and not v[0].any()                # no facts, and padding: no vector


def test_top_neighbors_most_similar_first_never_itself_only_candidates():
    ctx = context(similarity_catalog(), 1)
    v = content_vectors(ctx.tables, ctx.n_genres, ctx.n_tags, ctx.n_studios, WEIGHTS, idf=False)
    idx, sim = top_neighbors(v, torch.tensor([1, 2, 3, 4, 5, 6]), m=4, block=2)
    assert idx[1].tolist() == [5, 2, 4, 0]                  # 3 shares nothing with 1: no neighbour
    assert sim[1].tolist() == pytest.approx([2 / 3, 1 / math.sqrt(3), 1 / math.sqrt(6), 0.0])
    assert idx[6].tolist() == [0, 0, 0, 0] and not idx[0].any()
    only = top_neighbors(v, torch.tensor([3, 4]), m=3)[0]   # anime outside the candidates never show up
    assert only[1].tolist() == [4, 0, 0] and only[3].tolist() == [4, 0, 0]


def test_idf_makes_a_rare_shared_tag_count_more_than_a_common_one():
    common, rare = Tag("Common", 50, "Theme"), Tag("Rare", 50, "Theme")
    anime = [Anime(1, tags=(common, rare)), Anime(2, tags=(rare,)), Anime(3, tags=(common,)),
             *[Anime(i, tags=(common,)) for i in range(4, 9)]]
    ctx = context(anime, 1)
    for idf, rare_wins in ((True, True), (False, False)):
        v = content_vectors(ctx.tables, ctx.n_genres, ctx.n_tags, ctx.n_studios, WEIGHTS, idf=idf).to_dense()
        assert (float(v[1] @ v[2]) > float(v[1] @ v[3])) is rare_wins
    with pytest.raises(ValueError, match="content weight of tag"):
        content_vectors(ctx.tables, ctx.n_genres, ctx.n_tags, ctx.n_studios, {**WEIGHTS, "tag": -1.0})


# ------------------------------------------------------------------ content_prior

def scored_catalog() -> list[Anime]:
    """Average scores 40..80; anime 5 (score 80) is never rated."""
    return [Anime(i, average_score=30.0 + 10 * i, genres=("Action",)) for i in range(1, 6)]


USER_BIAS = {1: 1.0, 2: -1.0, 3: 0.5}
ITEM_BIAS = {1: -2.0, 2: -1.0, 3: 0.0, 4: 1.0, 5: 2.0}        # 0.1 x (score - 60): linear in the score
RATINGS = [(u, a, USER_BIAS[u] + ITEM_BIAS[a]) for u in USER_BIAS for a in (1, 2, 3, 4)]


def test_content_prior_scores_a_never_rated_anime_from_its_catalog_fields():
    model = fitted("content_prior", context(scored_catalog(), 3), RATINGS, **EXACT)
    got = predict(model, [1, 2, 3, 1], [5, 5, 5, 2])
    assert got == pytest.approx([3.0, 1.0, 2.5, 0.0], abs=1e-4)   # b_u + 2.0 for the unrated anime
    assert float(model.item_bias[5]) == float(model.prior[5])


def test_content_prior_shrinks_rated_anime_toward_the_prior_and_folds_in_known_users():
    rows = RATINGS + [(1, 5, 9.0)]                 # one surprising rating of anime 5
    cfg = {**EXACT, "reg_item": 3.0, "reg_user": 2.0}
    model = fitted("content_prior", context(scored_catalog(), 3), rows, **cfg)
    data = split(rows)
    resid = torch.zeros(6).index_add_(0, data.anime, data.rating - model.user_bias[data.user])
    n = torch.bincount(data.anime, minlength=6).float()
    want = (resid + 3.0 * model.prior) / (n + 3.0)
    assert model.item_bias[1:].tolist() == pytest.approx(want[1:].tolist(), abs=1e-5)
    assert model.prior[5] < model.item_bias[5] < resid[5]        # between the prior and the lone rating
    # A known user's training ratings given as a history reproduce their bias (users are fitted last).
    hist = torch.tensor([[a for u, a, _ in rows if u == 1]])
    hist_r = torch.tensor([[r for u, _, r in rows if u == 1]], dtype=torch.float32)
    batch = Batch(user=torch.tensor([0]), anime=torch.tensor([3]), hist_anime=hist, hist_rating=hist_r,
                  use_history=torch.tensor([True]))
    by_history = model.folded_user_bias(Batch(user=batch.user, anime=torch.tensor([0]), hist_anime=hist,
                                              hist_rating=hist_r))
    assert float(by_history) == pytest.approx(float(model.user_bias[1]), abs=1e-5)
    assert model.predict(batch).item() != pytest.approx(predict(model, [1], [3])[0], abs=1e-3)  # 3 left out


def test_configs_refuse_bad_values():
    with pytest.raises(ValueError, match="reg_item must be > 0"):
        ContentPriorConfig(reg_item=0.0)
    with pytest.raises(ValueError, match="k and max_neighbors"):
        ContentKNNConfig(k=0)
    with pytest.raises(ModelConfigError, match="unknown option"):
        registry.make_config("content_knn", {"kk": 3})


# ------------------------------------------------------------------ content_knn

def knn_catalog(cold_studio: str = "Bones", cold_tag: str = "Space") -> list[Anime]:
    """1 and 2 are rated; 3 is never rated and shares 1's studio and tag; 4 shares 2's genre only."""
    return [Anime(1, genres=("Action",), studios=(Studio("Bones", True),), tags=(Tag("Space", 80, "Theme"),)),
            Anime(2, genres=("Drama",), studios=(Studio("Sunrise", True),)),
            Anime(3, genres=("Action",), studios=(Studio(cold_studio, True),), tags=(Tag(cold_tag, 80, "Theme"),)),
            Anime(4, genres=("Drama",))]


KNN_RATINGS = [(1, 1, 3.0), (1, 2, -1.0), (2, 1, -1.0), (2, 2, 1.0), (3, 1, 0.0), (3, 2, 0.0)]


def test_content_knn_adds_the_residuals_of_similar_rated_anime():
    ctx = context(knn_catalog(), 3)
    cfg = dict(k=1, shrinkage=0.5, idf=False, **EXACT)
    knn = fitted("content_knn", ctx, KNN_RATINGS, **cfg)
    prior = fitted("content_prior", ctx, KNN_RATINGS, **EXACT)
    assert knn.item_bias.tolist() == pytest.approx(prior.item_bias.tolist(), abs=1e-6)
    s31 = float(knn.nbr_sim[3, 0])
    assert int(knn.nbr_idx[3, 0]) == 1 and int(knn.nbr_idx[3, 1]) == 0 and s31 == pytest.approx(1.0)
    for user in (1, 2, 3):
        b_u = float(knn.user_bias[user])
        e = dict(((a, r) for u, a, r in KNN_RATINGS if u == user))[1] - b_u - float(knn.item_bias[1])
        want = b_u + float(knn.prior[3]) + s31 * e / (s31 + 0.5)
        assert predict(knn, [user], [3])[0] == pytest.approx(want, abs=1e-5)
    # User 1 liked 1 more than expected, user 2 less: the unrated 3 follows them; the plain prior cannot.
    assert predict(knn, [1], [3])[0] > predict(prior, [1], [3])[0]
    assert predict(knn, [2], [3])[0] < predict(prior, [2], [3])[0]


def test_k_keeps_only_the_most_similar_rated_anime():
    anime = knn_catalog() + [Anime(5, genres=("Action",), studios=(Studio("Bones", True),))]
    rows = KNN_RATINGS + [(1, 5, 2.0), (2, 5, 0.0)]
    ctx = context(anime, 3)
    one = fitted("content_knn", ctx, rows, k=1, shrinkage=0.0, idf=False, **EXACT)
    two = fitted("content_knn", ctx, rows, k=2, shrinkage=0.0, idf=False, **EXACT)
    assert one.nbr_idx[3, :2].tolist() == [1, 5]
    e = {a: r - float(one.user_bias[1]) - float(one.item_bias[a]) for u, a, r in rows if u == 1}
    s1, s5 = one.nbr_sim[3, :2].tolist()
    base = float(one.user_bias[1] + one.item_bias[3])
    assert predict(one, [1], [3])[0] == pytest.approx(base + e[1], abs=1e-5)
    assert predict(two, [1], [3])[0] == pytest.approx(base + (s1 * e[1] + s5 * e[5]) / (s1 + s5), abs=1e-5)


@pytest.mark.parametrize("change", [{"cold_studio": "Sunrise"}, {"cold_tag": "Mecha"}, "relation"])
def test_a_never_rated_anime_scores_finite_and_moves_with_its_content(change):
    base = fitted("content_knn", context(knn_catalog(), 3), KNN_RATINGS, idf=False, shrinkage=0.5)
    if change == "relation":
        anime = knn_catalog()
        anime[2] = Anime(3, genres=("Action",), studios=(Studio("Bones", True),), tags=(Tag("Space", 80, "Theme"),),
                         relations=(Relation(2, "SEQUEL"),))
    else:
        anime = knn_catalog(**change)
    other = fitted("content_knn", context(anime, 3), KNN_RATINGS, idf=False, shrinkage=0.5)
    before, after = predict(base, [1, 2], [3, 3]), predict(other, [1, 2], [3, 3])
    assert all(math.isfinite(x) for x in before + after)
    assert before[0] != pytest.approx(after[0], abs=1e-4) and before[1] != pytest.approx(after[1], abs=1e-4)


def _query(model, users: list[int], hist: list[list[tuple[int, float]]]) -> UserQuery:
    return UserQuery(torch.tensor(users), *pad_histories(hist))


@pytest.mark.parametrize("name", ["content_prior", "content_knn"])
def test_score_catalog_matches_predict_for_known_users_and_histories(name):
    anime = knn_catalog() + [Anime(5, genres=("Action",), studios=(Studio("Bones", True),))]
    rows = KNN_RATINGS + [(1, 5, 2.0), (2, 5, 0.0), (3, 4, 1.0)]
    model = fitted(name, context(anime, 3), rows, **({"k": 2, "idf": False} if name == "content_knn" else {}))
    # A known user (the history is ignored), and a new user whose history repeats an anime.
    hist = [[(1, 3.0)], [(1, 2.0), (2, -1.0), (1, 0.0), (5, 1.0)]]
    query = _query(model, [1, 0], hist)
    scores = model.score_catalog(query)
    assert scores.shape == (2, 6) and scores[:, 0].eq(-math.inf).all()
    every = torch.arange(1, 6)
    known = predict(model, [1] * 5, every.tolist())
    batch = Batch(user=torch.zeros(5, dtype=torch.long), anime=every, hist_anime=query.hist_anime[1:].expand(5, -1),
                  hist_rating=query.hist_rating[1:].expand(5, -1), use_history=torch.ones(5, dtype=torch.bool))
    assert scores[0, 1:].tolist() == pytest.approx(known, abs=1e-5)
    assert scores[1, 1:].tolist() == pytest.approx(model.predict(batch).tolist(), abs=1e-5)


def test_content_knn_checkpoint_round_trip():
    ctx = context(knn_catalog(), 3)
    model = fitted("content_knn", ctx, KNN_RATINGS, k=3)
    again, _ = model_from_blob(model_blob(model, ctx))
    assert torch.equal(again.train_keys, model.train_keys) and torch.equal(again.nbr_idx, model.nbr_idx)
    assert predict(again.eval(), [1, 2, 3], [3, 4, 1]) == predict(model, [1, 2, 3], [3, 4, 1])
