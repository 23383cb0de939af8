"""gnn.train.cold: cold-item accuracy and ranking, with hand-computed answers, and end to end."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import torch

from gnn.models import registry
from gnn.models.base import Batch, ModelContext, RatingModel, UserQuery
from gnn.preprocess import PreprocessConfig, preprocess
from gnn.processed import ProcessedData, RatingSplit, load_processed
from gnn.train.checkpoint import load_model
from gnn.train.cold import cold_accuracy, cold_ranking, evaluate_cold
from gnn.train.config import TrainConfig
from gnn.train.trainer import train_model
from tests.builders import write_tiny_inputs
from tests.models.conftest import build_ctx

# 3 users, anime 1..6 (index 7 and 8 exist in the context too); cold anime are 5 and 6.
TRAIN = [(1, 1, 7.0), (1, 2, 5.0), (2, 1, 6.0), (3, 3, 9.0)]
COLD = [(1, 5, 9.0), (1, 6, 8.0), (2, 5, 4.0), (2, 6, 10.0), (3, 6, 7.0)]
# Scores per user over anime 0..8 (0 = padding): what the fake model predicts.
SCORES = {1: [0, 9, 8, 1, 7, 6, 3, 0, 0], 2: [0, 9, 1, 8, 1, 6, 7, 0, 0], 3: [0, 5, 5, 5, 5, 5, 5, 0, 0]}


def split(rows) -> RatingSplit:
    u, a, r = zip(*rows) if rows else ((), (), ())
    return RatingSplit(torch.tensor(u, dtype=torch.long), torch.tensor(a, dtype=torch.long),
                       torch.tensor(r, dtype=torch.float32))


def data(ctx: ModelContext, cold=COLD) -> ProcessedData:
    stats = {"n_users": ctx.n_users, "n_anime": ctx.n_anime}
    return ProcessedData(stats=stats, graph=ctx.graph, tables=ctx.tables, train=split(TRAIN), val=split([]),
                         test=split([]), holdout=pd.DataFrame(), data_dir=Path("tiny"),
                         cold=None if cold is None else split(cold))


class Table(RatingModel):
    """Predicts ``SCORES[user][anime]``; remembers the queries and history rows it was given."""

    def __init__(self, ctx: ModelContext, inductive: bool = False) -> None:
        super().__init__(ctx)
        self.inductive = inductive
        self.table = torch.zeros(ctx.n_users, ctx.n_anime)
        for u, row in SCORES.items():
            self.table[u] = torch.tensor(row, dtype=torch.float32)
        self.queries: list[UserQuery] = []
        self.histories: list[tuple[int, tuple[int, ...]]] = []

    def forward(self, batch: Batch) -> torch.Tensor:
        if self.inductive:
            assert batch.use_history is not None and bool(batch.use_history.all())
            for u, h in zip(batch.user.tolist(), batch.hist_anime.tolist()):
                self.histories.append((u, tuple(sorted(a for a in h if a))))
        return self.normalize(self.table[batch.user, batch.anime])

    def score_catalog(self, query: UserQuery, chunk: int = 65536) -> torch.Tensor:
        self.queries.append(query)
        return super().score_catalog(query, chunk)


@pytest.fixture
def ctx() -> ModelContext:
    c = build_ctx()
    return ModelContext(**{**c.__dict__, "n_users": 4, "rating_mean": 0.0, "rating_std": 1.0,
                           "rating_low": -100.0, "rating_high": 100.0})


def test_cold_accuracy_by_user_id(ctx):
    acc = cold_accuracy(Table(ctx), data(ctx))
    err = [SCORES[u][a] - r for u, a, r in COLD]                        # 6-9, 3-8, 6-4, 7-10, 5-7
    assert acc.n == 5
    assert acc.mae == pytest.approx(sum(map(abs, err)) / 5)
    assert acc.rmse == pytest.approx(math.sqrt(sum(e * e for e in err) / 5))


def test_an_inductive_model_scores_known_users_from_their_training_ratings(ctx):
    model = Table(ctx, inductive=True)
    assert cold_accuracy(model, data(ctx)).n == 5
    # Through predict_users: no user IDs, one history per cold user (users 1, 2, 3 rated (1, 2), (1,), (3,)).
    assert sorted({h for _, h in model.histories}) == [(1,), (1, 2), (3,)]


def test_cold_ranking_by_hand(ctx):
    model = Table(ctx)
    got = cold_ranking(model, data(ctx), k=2, threshold=8.0)
    # Relevant: user 1 {5, 6}, user 2 {6}; user 3 has no cold rating >= 8 and is not ranked.
    # User 1 (train 1, 2 excluded): top 2 = 4, 5 -> hit at rank 2 of 2 relevant.
    # User 2 (train 1 excluded): top 2 = 3, 6 -> hit at rank 2 of 1 relevant.
    d2 = 1 / math.log2(3)
    assert got["users"] == 2 and got["relevant_threshold"] == 8.0
    assert got["ndcg@2"] == pytest.approx((d2 / (1 + d2) + d2) / 2)
    assert got["recall@2"] == pytest.approx((0.5 + 1.0) / 2)
    assert got["cold_share@2"] == pytest.approx(0.5)                    # one cold anime in each top 2
    # Rated anime only (1, 2, 3 in train; 5, 6 cold; 4 never rated): user 1's top 2 = 5, 6.
    assert got["rated_only"] == pytest.approx({"ndcg@2": (1.0 + d2) / 2, "recall@2": 1.0, "cold_share@2": 0.75})
    # Unrated anime only (no training rating: 4, 5, 6 and the unscored 7, 8): user 1's top 2 = 4, 5 as
    # among all; user 2's = 6, 5 (3 is rated): a hit at rank 1 of 1 relevant, both cold.
    assert got["unrated_only"] == pytest.approx({"ndcg@2": (d2 / (1 + d2) + 1.0) / 2, "recall@2": 0.75,
                                                 "cold_share@2": 0.75})
    # One query per view; a narrowed view leaves its anime out of the candidates themselves (a two-stage
    # model picks its best among what is left), the same for every user.
    query, rated_only, unrated_only = model.queries
    assert query.exclude is None
    assert [sorted(set(row) - {0}) for row in rated_only.exclude.tolist()] == [[4, 7, 8]] * 2
    assert [sorted(row) for row in unrated_only.exclude.tolist()] == [[1, 2, 3]] * 2
    assert query.user.tolist() == [1, 2]                               # known users with their train anime
    assert [sorted(a for a in row if a) for row in query.hist_anime.tolist()] == [[1, 2], [1]]
    assert query.hist_rating[0, :2].tolist() == [7.0, 5.0]             # normalized (mean 0, std 1 here)


def test_cold_ranking_samples_users_and_reports_null_without_any(ctx):
    assert cold_ranking(Table(ctx), data(ctx), k=2, max_users=1)["users"] == 1
    none = cold_ranking(Table(ctx), data(ctx), k=2, threshold=11.0)
    empty = {"ndcg@2": None, "recall@2": None, "cold_share@2": None}
    assert none == {**empty, "rated_only": empty, "unrated_only": empty, "users": 0, "relevant_threshold": 11.0}


def test_without_cold_ratings_the_error_says_how_to_get_them(ctx):
    with pytest.raises(ValueError, match=r"no cold split \(cold_\*\.npy\): preprocess with --cold-anime"):
        evaluate_cold(Table(ctx), data(ctx, cold=None))


# ------------------------------------------------------------------ end to end

@pytest.fixture(scope="module")
def cold_processed(tmp_path_factory) -> ProcessedData:
    root = tmp_path_factory.mktemp("cold")
    write_tiny_inputs(root / "raw")
    preprocess(root / "raw", root / "processed", PreprocessConfig(min_ratings=1, holdout_user_frac=0.0,
                                                                  cold_anime_frac=0.2))
    return load_processed(root / "processed")


def test_references_score_the_cold_anime_end_to_end(cold_processed):
    data_ = cold_processed
    cold_anime = set(data_.cold.anime.tolist())
    assert len(cold_anime) == 6 and not cold_anime & set(data_.train.anime.tolist())   # no leak into training
    ctx = ModelContext.from_processed(data_)
    results = {}
    for name in ("content_prior", "content_knn"):
        model = registry.build_model(name, ctx)
        model.fit_closed_form(data_.train)
        results[name] = evaluate_cold(model.eval(), data_, k=5)
        r = results[name]
        assert r["n"] == len(data_.cold) and r["anime"] == 6 and r["users"] > 0
        assert all(math.isfinite(r[key]) for key in ("mae", "rmse", "ndcg@5", "recall@5", "cold_share@5"))
    # Taste follows the genre, which content_knn reads from the similar anime a user rated.
    assert results["content_knn"]["rmse"] < results["content_prior"]["rmse"]


def test_user_bias_reference_is_the_biases_model_with_zero_for_cold_anime(cold_processed, tmp_path):
    # An anime without training ratings never gets a gradient: its bias stays at the initial 0.
    train_model("biases", cold_processed, tmp_path, TrainConfig(epochs=2, batch_size=64), log=lambda _: None,
                progress=False)
    model, _, _ = load_model(tmp_path / "best_model.pt")
    trained = torch.zeros(cold_processed.n_anime, dtype=torch.bool)
    trained[cold_processed.train.anime] = True
    bias = model.item_bias.weight.squeeze(1)
    assert (bias[~trained] == 0).all() and (bias[trained] != 0).all()
    cold = cold_processed.cold
    want = model.denormalize(model.user_bias.weight.detach().squeeze(1)[cold.user])  # mu + b_u
    assert cold_accuracy(model, cold_processed).rmse == pytest.approx(
        float((want - cold.rating).pow(2).mean().sqrt()), abs=1e-5)
