"""``item_knn`` (kNN on baseline residuals) on hand-computable cases, fold-in and checkpoints."""

from __future__ import annotations

import math

import pytest
import torch

from gnn.models.base import Batch, ModelContext, RatingModel, UserQuery
from gnn.models.registry import build_model
from gnn.processed import RatingSplit, load_processed
from gnn.train.checkpoint import load_model
from gnn.train.config import TrainConfig
from gnn.train.evaluate import predict_split
from gnn.train.histories import UserHistories
from gnn.train.trainer import train_model


def ctx(n_users: int = 4, n_anime: int = 4) -> ModelContext:
    """Mean 0 and std 1, so normalized ratings equal the ratings; a wide scale so nothing is clamped."""
    return ModelContext(n_users=n_users, n_anime=n_anime, n_genres=1, n_tags=1, n_studios=1, n_relation_types=9,
                        rating_mean=0.0, rating_std=1.0, rating_low=-10.0, rating_high=10.0,
                        tables=None, graph=None)  # type: ignore[arg-type]


def split(rows: list[tuple[int, int, float]]) -> RatingSplit:
    u, a, r = zip(*rows)
    return RatingSplit(torch.tensor(u), torch.tensor(a), torch.tensor(r, dtype=torch.float32))


def fitted(rows, **config):
    model = build_model("item_knn", ctx(), config)
    assert model.fit_closed_form(split(rows))
    return model.eval()


def known(model, user: int, anime: int) -> float:
    return float(model.predict(Batch(user=torch.tensor([user]), anime=torch.tensor([anime])))[0])


def from_history(model, history: dict[int, float], anime: int) -> float:
    batch = Batch(user=torch.tensor([0]), anime=torch.tensor([anime]),
                  hist_anime=torch.tensor([list(history)]), hist_rating=torch.tensor([list(history.values())]),
                  use_history=torch.tensor([True]))
    return float(model.predict(batch)[0])


def test_one_als_pass_gives_the_hand_computed_biases():
    # u1: a1=2, a2=0; u2: a1=4. Items first (b_u = 0): b_a1 = (2+4)/(1+2) = 2, b_a2 = 0/(1+1) = 0.
    # Then users: b_u1 = ((2-2) + (0-0))/(1+2) = 0, b_u2 = (4-2)/(1+1) = 1.
    model = fitted([(1, 1, 2.0), (1, 2, 0.0), (2, 1, 4.0)], bias_iters=1, reg_item=1.0, reg_user=1.0)
    assert model.item_bias.tolist() == pytest.approx([0.0, 2.0, 0.0, 0.0])
    assert model.user_bias.tolist() == pytest.approx([0.0, 0.0, 1.0, 0.0])


# No baseline (residual = rating): u1 rated a1=1, a2=1; u2 a1=1, a2=1, a3=1; u3 a1=2, a3=1.
ROWS = [(1, 1, 1.0), (1, 2, 1.0), (2, 1, 1.0), (2, 2, 1.0), (2, 3, 1.0), (3, 1, 2.0), (3, 3, 1.0)]
HAND = dict(bias_iters=0, shrinkage=2.0, min_support=2, neighbor_reg=0.0)
# cos(a1, a2) over {u1, u2} = 2 / sqrt(2 * 2) = 1, shrunk by 2 / (2 + 2): 0.5.
# cos(a1, a3) over {u2, u3} = (1 + 2) / sqrt((1 + 4) * (1 + 1)) = 3 / sqrt(10), shrunk: 1.5 / sqrt(10).
# a2 and a3 share one user only (< min_support): similarity 0, so not neighbours.
S12, S13 = 0.5, 1.5 / math.sqrt(10)


def test_similarities_are_shrunk_residual_cosines():
    model = fitted(ROWS, **HAND)
    neighbours = {a: {int(j): float(s) for j, s in zip(model.nbr_idx[a], model.nbr_sim[a]) if j > 0}
                  for a in (1, 2, 3)}
    assert neighbours[1] == pytest.approx({2: S12, 3: S13})
    assert neighbours[2] == pytest.approx({1: S12})
    assert neighbours[3] == pytest.approx({1: S13})
    assert model.nbr_sim[1, 0] >= model.nbr_sim[1, 1]  # most similar first


def test_known_user_prediction_is_the_weighted_neighbour_residual():
    # u3 on a2: the only neighbour u3 rated is a1 (residual 2) -> 2; neighbor_reg 0.5: 0.5 * 2 / (0.5 + 0.5) = 1.
    assert known(fitted(ROWS, **HAND), 3, 2) == pytest.approx(2.0)
    assert known(fitted(ROWS, **{**HAND, "neighbor_reg": 0.5}), 3, 2) == pytest.approx(1.0)
    # u1 on a3: neighbour a1 (residual 1) -> 1.
    assert known(fitted(ROWS, **HAND), 1, 3) == pytest.approx(1.0)


def test_new_user_uses_the_k_most_similar_rated_neighbours():
    model = fitted(ROWS, **HAND)
    # a1 from {a2: 3, a3: 1}: (S12 * 3 + S13 * 1) / (S12 + S13).
    assert from_history(model, {2: 3.0, 3: 1.0}, 1) == pytest.approx((S12 * 3 + S13) / (S12 + S13))
    assert from_history(fitted(ROWS, **HAND, k=1), {2: 3.0, 3: 1.0}, 1) == pytest.approx(3.0)  # a2 only
    # The target's own rating in the history is ignored; an empty history gives the item bias (0 here).
    assert from_history(model, {1: 9.0, 2: 3.0}, 1) == pytest.approx(3.0)
    # Padding only (no history): the baseline with a zero user bias, i.e. the item bias.
    with_bias = fitted(ROWS, bias_iters=3)
    assert from_history(with_bias, {0: 0.0}, 2) == pytest.approx(float(with_bias.item_bias[2]))


def test_fold_in_of_the_training_history_reproduces_the_known_user(tiny_processed):
    data = load_processed(tiny_processed)
    model = build_model("item_knn", ModelContext.from_processed(data), {"k": 5, "shrinkage": 5.0})
    model.fit_closed_form(data.train)
    model.eval()
    histories = UserHistories(data.train, data.n_users, model.rating_mean.item(), model.rating_std.item())
    test = data.test
    lo, hi = histories.ptr[test.user], histories.ptr[test.user + 1]
    width = int((hi - lo).max())
    pos = lo[:, None] + torch.arange(width)[None, :]
    valid = pos < hi[:, None]
    pos = pos.clamp(max=len(histories.anime) - 1)
    hist_anime = torch.where(valid, histories.anime[pos], 0)
    hist_rating = torch.where(valid, histories.rating[pos], 0.0)
    by_id = model.predict(Batch(user=test.user, anime=test.anime))
    by_history = model.predict(Batch(user=torch.zeros_like(test.user), anime=test.anime, hist_anime=hist_anime,
                                     hist_rating=hist_rating, use_history=torch.ones(len(test), dtype=torch.bool)))
    assert torch.allclose(by_id, by_history, atol=1e-4)


def test_trains_through_the_trainer_and_reloads_from_its_checkpoint(tiny_processed, tmp_path):
    data = load_processed(tiny_processed)
    result = train_model("item_knn", data, tmp_path, TrainConfig(epochs=3), log=lambda _m: None, progress=False)
    assert result.best_epoch == 1 and len(result.epoch_log) == 1  # closed form: one pass, no gradient steps
    model, _, _ = load_model(tmp_path / "best_model.pt")
    assert len(model.train_keys) == len(data.train)
    again = build_model("item_knn", ModelContext.from_processed(data))
    again.fit_closed_form(data.train)
    assert torch.allclose(predict_split(model, data.test), predict_split(again.eval(), data.test))
    mean = train_model("global_mean", data, tmp_path / "mean", TrainConfig(), log=lambda _m: None, progress=False)
    assert result.metrics["test"]["rmse"] < mean.metrics["test"]["rmse"]  # the tiny data has a signal to find


def test_score_catalog_matches_the_pair_path(tiny_processed):
    # The whole-catalog shortcut for known users must give the same predictions as forward() pair by pair;
    # new users (user 0) go through the default path.
    data = load_processed(tiny_processed)
    model = build_model("item_knn", ModelContext.from_processed(data), {"k": 3})
    model.fit_closed_form(data.train)
    model.eval()
    users = torch.tensor([1, 0, 5, 2])
    hist_anime, hist_rating = UserHistories(data.train, data.n_users, model.rating_mean.item(),
                                            model.rating_std.item()).full(torch.tensor([1, 3, 5, 2]), 8)
    query = UserQuery(users, hist_anime, hist_rating)
    fast = model.score_catalog(query)
    slow = RatingModel.score_catalog(model, query)
    assert torch.isinf(fast[:, 0]).all() and torch.allclose(fast[:, 1:], slow[:, 1:], atol=1e-5)
    assert not torch.allclose(fast[0, 1:], fast[2, 1:])  # the users' own neighbours differ


@pytest.mark.parametrize("name", ["biases", "mf", "item_knn"])
def test_whole_catalog_shortcuts_match_the_default_for_history_users(name, tiny_processed):
    # New users (user 0) are folded in once per user; their own history anime (which the pair path scores
    # with that entry left out) are rescored, so every number equals the default pair-by-pair path.
    data = load_processed(tiny_processed)
    torch.manual_seed(0)
    model = build_model(name, ModelContext.from_processed(data), {"k": 3} if name == "item_knn" else None)
    if not model.fit_closed_form(data.train):
        for p in model.parameters():
            torch.nn.init.normal_(p, std=0.3)
    model.eval()
    hist_anime = torch.tensor([[3, 5, 5, 0], [7, 0, 0, 0], [0, 0, 0, 0]])
    query = UserQuery(torch.tensor([0, 0, 0]), hist_anime, torch.tensor([[1.0, -0.5, 0.3, 0], [2.0, 0, 0, 0], [0.0] * 4]))
    fast, slow = model.score_catalog(query), RatingModel.score_catalog(model, query)
    assert torch.isinf(fast[:, 0]).all() and torch.allclose(fast[:, 1:], slow[:, 1:], atol=1e-5)
    assert not torch.allclose(fast[0, 1:], fast[2, 1:])  # the history moves the scores
