"""The ranking-only references: EASE against a hand computation and a numpy solve, most-popular's order."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gnn.errors import ModelConfigError
from gnn.models.base import UserQuery
from gnn.models.registry import build_model, model_class
from gnn.processed import RatingSplit
from gnn.train.checkpoint import model_blob, model_from_blob

# Training pairs (user, anime); anime 4..8 have no training rating. Ratings do not matter (binary).
PAIRS = [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3), (3, 2), (3, 3), (4, 1)]


def train_split(pairs=PAIRS) -> RatingSplit:
    u, a = zip(*pairs)
    return RatingSplit(torch.tensor(u), torch.tensor(a), torch.tensor([9.0, 2.0, 5.0, 7.0, 8.0, 1.0, 10.0, 6.0]))


def query(rows: list[tuple[int, list[int]]]) -> UserQuery:
    width = max(len(h) for _, h in rows)
    anime = torch.tensor([h + [0] * (width - len(h)) for _, h in rows])
    return UserQuery(torch.tensor([u for u, _ in rows]), anime, torch.randn(anime.shape))


def test_ease_fit_matches_a_numpy_solve(ctx):
    model = build_model("ease", ctx, {"reg": 1.0})
    model.fit_closed_form(train_split())
    assert model.item_idx.tolist() == [1, 2, 3]
    x = np.zeros((5, 3))
    for u, a in PAIRS:
        x[u, a - 1] = 1.0
    g = x.T @ x
    assert g.tolist() == [[3, 2, 1], [2, 3, 2], [1, 2, 2]]
    p = np.linalg.solve(g + np.eye(3), np.eye(3))
    expected = np.eye(3) - p / np.diag(p)[None, :]
    np.testing.assert_allclose(model.B.numpy(), expected, atol=1e-6)
    assert np.allclose(np.diag(model.B.numpy()), 0.0)


def test_ease_scores_known_users_by_training_row_and_new_users_by_history(ctx):
    model = build_model("ease", ctx, {"reg": 1.0})
    model.fit_closed_form(train_split())
    B = model.B
    # user 4 (trained on anime 1) with a query history of anime 2: the training row wins.
    # new user given anime 3 twice, an anime without training ratings (7) and padding: x = [0, 0, 1].
    scores = model.score_catalog(query([(4, [2]), (0, [3, 3, 7, 0])]))
    assert scores.shape == (2, ctx.n_anime)
    assert torch.allclose(scores[0, 1:4], B[0]) and torch.allclose(scores[1, 1:4], B[2])
    assert torch.isinf(scores[:, [0, 4, 5, 6, 7, 8]]).all() and (scores[:, [0, 4, 5, 6, 7, 8]] < 0).all()
    empty = model.score_catalog(query([(0, [0])]))
    assert torch.equal(empty[0, 1:4], torch.zeros(3))  # nothing known: every rated anime scores 0


def test_ease_rebuilds_from_its_checkpoint_blob(ctx):
    model = build_model("ease", ctx, {"reg": 5.0})
    model.fit_closed_form(train_split())
    again, _ = model_from_blob(model_blob(model, ctx))
    q = query([(1, [1]), (0, [2, 3])])
    assert torch.equal(model.score_catalog(q), again.score_catalog(q))


def test_most_popular_orders_by_count_then_catalog_popularity_then_index(ctx, make_ctx):
    model = build_model("most_popular", ctx)
    # counts: anime 1: 3, anime 2: 3 (tie: 2 has more catalog members, 200 against 100), anime 3: 2;
    # 4..8: 0, by members (anime i has 100 i; 8's are unknown: last).
    model.fit_closed_form(train_split())
    scores = model.score_catalog(query([(2, [1]), (0, [5])]))
    assert torch.equal(scores[0], scores[1])  # nobody's history changes the chart
    order = torch.sort(scores[0], descending=True, stable=True).indices.tolist()
    assert order == [2, 1, 3, 7, 6, 5, 4, 8, 0]
    # Equal members: the lower index first (8 given anime 7's 700 members).
    tied = build_model("most_popular", make_ctx(bare={"popularity": 700.0}))
    tied.fit_closed_form(train_split())
    assert torch.sort(tied.score, descending=True, stable=True).indices.tolist()[3:5] == [7, 8]
    assert len(set(scores[0, 1:].tolist())) == 8 and scores[0, 0] == -math.inf  # no exact ties left


@pytest.mark.parametrize("name", ["most_popular", "ease"])
def test_ranking_only_models_predict_no_rating(name, ctx, batch_of):
    assert model_class(name).predicts_ratings is False
    model = build_model(name, ctx)
    with pytest.raises(NotImplementedError, match="ranking-only"):
        model(batch_of([1], [2]))


def test_ease_rejects_a_non_positive_reg(ctx):
    with pytest.raises(ModelConfigError, match="model 'ease': ease reg must be a positive number, got 0.0"):
        build_model("ease", ctx, {"reg": 0.0})  # a user's option: one line from the CLI
