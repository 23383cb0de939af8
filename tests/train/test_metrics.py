"""Ranking and series metrics on hand-computable cases (a model with a fixed score table)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import torch

from gnn.data.schema import RELATION_TYPES
from gnn.graph.builder import ItemTables
from gnn.models.base import Batch, ModelContext, RatingModel, UserQuery
from gnn.processed import ProcessedData, RatingSplit
from gnn.train.evaluate import new_user_cases
from gnn.franchise import Franchises
from gnn.train.metrics import (franchises_of, list_metrics, new_user_ranking, orphan_sequel_share, popular_mask,
                               rank_lists, ranking_metrics, series_mask, series_metrics)
from tests.test_franchise import three_seasons


class TableModel(RatingModel):
    """Predicts ``table[user, anime]`` (already on the rating scale)."""

    name = "table"

    def __init__(self, table: torch.Tensor) -> None:
        ctx = ModelContext(n_users=table.shape[0], n_anime=table.shape[1], n_genres=1, n_tags=1, n_studios=1,
                           n_relation_types=9, rating_mean=0.0, rating_std=1.0, rating_low=1.0,
                           rating_high=10.0, tables=None, graph=None)  # type: ignore[arg-type]
        super().__init__(ctx)
        self.table = table

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.table[batch.user, batch.anime]


def split(rows: list[tuple[int, int, float]]) -> RatingSplit:
    u, a, r = zip(*rows) if rows else ((), (), ())
    return RatingSplit(torch.tensor(u, dtype=torch.long), torch.tensor(a, dtype=torch.long),
                       torch.tensor(r, dtype=torch.float32))


def dataset(train, test, rel_idx) -> ProcessedData:
    rel_idx = torch.tensor(rel_idx, dtype=torch.long)
    zeros = torch.zeros_like(rel_idx)
    tables = ItemTables(genre_idx=zeros, tag_idx=zeros, tag_w=zeros.float(), studio_idx=zeros,
                        studio_w=zeros.float(), rel_idx=rel_idx, rel_w=(rel_idx > 0).float(), rel_type=zeros)
    return ProcessedData(stats={"n_users": 3, "n_anime": rel_idx.shape[0]}, graph=None, tables=tables,  # type: ignore
                         train=split(train), val=split([]), test=split(test), holdout=pd.DataFrame(),
                         data_dir=None)  # type: ignore[arg-type]


# 6 anime rows (0 = padding); anime 2 is the sequel of anime 1.
REL = [[0], [2], [1], [0], [0], [0]]


def test_ranking_excludes_train_items_and_scores_hits():
    # user 1 rated anime 1 in train; relevant test items: 2 (rated 9) and 4 (rated 8); 5 is not relevant (6).
    data = dataset(train=[(1, 1, 9.0)], test=[(1, 2, 9.0), (1, 4, 8.0), (1, 5, 6.0)], rel_idx=REL)
    table = torch.zeros(3, 6)
    table[1] = torch.tensor([0, 10.0, 9.0, 1.0, 2.0, 8.0])  # anime 1 (train) would be first if not excluded
    m = ranking_metrics(TableModel(table), data, k=2)
    # ranking without anime 1: [2, 5, ...] -> one hit of two relevant at rank 1.
    assert m["recall@2"] == pytest.approx(0.5)
    assert m["ndcg@2"] == pytest.approx(1.0 / (1.0 + 1.0 / math.log2(3)))
    assert m["users"] == 1


def test_series_mask_and_metrics_split_related_ratings():
    data = dataset(train=[(1, 1, 9.0), (2, 3, 5.0)],
                   test=[(1, 2, 8.0), (2, 2, 4.0), (1, 4, 7.0)], rel_idx=REL)
    # (1, 2): anime 2 related to anime 1, which user 1 rated -> series; (2, 2): user 2 never rated anime 1.
    assert series_mask(data).tolist() == [True, False, False]
    table = torch.full((3, 6), 7.0)
    m = series_metrics(TableModel(table), data)
    assert m["related_to_train"]["n"] == 1 and m["related_to_train"]["mae"] == pytest.approx(1.0)
    assert m["other"]["n"] == 2 and m["other"]["mae"] == pytest.approx(1.5)


class MeanOfHistory(TableModel):
    """Inductive: predicts the mean of the user's given ratings (7 with none); has no use for user IDs."""

    inductive = True

    def forward(self, batch: Batch) -> torch.Tensor:
        assert batch.use_history is not None and bool(batch.use_history.all())
        given = batch.hist_anime > 0
        rating = batch.hist_rating * self.rating_std + self.rating_mean  # the history arrives normalized
        mean = (rating * given).sum(1) / given.sum(1).clamp(min=1)
        return torch.where(given.any(1), mean, torch.full_like(mean, 7.0))


def test_series_metrics_reads_an_inductive_model_s_known_users_from_their_training_ratings():
    data = dataset(train=[(1, 1, 9.0), (2, 3, 5.0)],
                   test=[(1, 2, 8.0), (2, 2, 4.0), (1, 4, 7.0)], rel_idx=REL)
    m = series_metrics(MeanOfHistory(torch.zeros(3, 6)), data)
    # user 1 -> 9 (their one training rating), user 2 -> 5: related |9-8| = 1; other |5-4|, |9-7| -> 1.5.
    assert m["related_to_train"]["mae"] == pytest.approx(1.0)
    assert m["other"]["mae"] == pytest.approx(1.5)


# --- whole-catalog ranking lists -----------------------------------------------------------------------------

# Anime 1..7: 1 -> 2 -> 3 is one franchise (SEQUEL/PREQUEL both ways); 5 is a spin-off of 4 (5 states
# [4, PARENT], 4 states [5, SPIN_OFF]: not continuity, so 5 is a franchise of its own); 6 and 7 stand alone.
S, P, PA, SO = (RELATION_TYPES.index(t) for t in ("SEQUEL", "PREQUEL", "PARENT", "SPIN_OFF"))
CHAIN_REL = {1: [(2, S)], 2: [(1, P), (3, S)], 3: [(2, P)], 4: [(5, SO)], 5: [(4, PA)]}


def chain_data(train=(), test=(), holdout=None, data_dir=None, n_users: int = 4) -> ProcessedData:
    rel_idx, rel_type = torch.zeros(8, 2, dtype=torch.long), torch.zeros(8, 2, dtype=torch.long)
    for a, rels in CHAIN_REL.items():
        for j, (b, t) in enumerate(rels):
            rel_idx[a, j], rel_type[a, j] = b, t
    zeros = torch.zeros_like(rel_idx)
    tables = ItemTables(genre_idx=zeros, tag_idx=zeros, tag_w=zeros.float(), studio_idx=zeros,
                        studio_w=zeros.float(), rel_idx=rel_idx, rel_w=(rel_idx > 0).float(), rel_type=rel_type)
    frame = pd.DataFrame(holdout or [], columns=["user_id", "anime_idx", "rating"])
    return ProcessedData(stats={"n_users": n_users, "n_anime": 8, "rating_mean": 7.0, "rating_std": 2.0},
                         graph=None, tables=tables, train=split(list(train)), val=split([]),  # type: ignore
                         test=split(list(test)), holdout=frame, data_dir=data_dir)


class ScoreModel(RatingModel):
    """Ranking scores ``table[user]`` (known users) or ``new_user`` plus 100 on the history (new users)."""

    name = "scores"
    predicts_ratings = False

    def __init__(self, table: torch.Tensor, new_user: torch.Tensor | None = None) -> None:
        ctx = ModelContext(n_users=table.shape[0], n_anime=table.shape[1], n_genres=1, n_tags=1, n_studios=1,
                           n_relation_types=9, rating_mean=0.0, rating_std=1.0, rating_low=1.0,
                           rating_high=10.0, tables=None, graph=None)  # type: ignore[arg-type]
        super().__init__(ctx)
        self.table, self.new_user = table, new_user

    def forward(self, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def score_catalog(self, query: UserQuery, chunk: int = 65536) -> torch.Tensor:
        if self.new_user is None:
            return self.table[query.user].clone()
        boost = torch.zeros(len(query), self.n_anime).scatter_(1, query.hist_anime, 100.0)
        return self.new_user[None, :] + boost


def keys(rows: dict[int, list[int]]) -> torch.Tensor:
    return torch.sort(torch.tensor([r * 8 + a for r, anime in rows.items() for a in anime])).values


def test_list_metrics_on_hand_made_lists():
    fr = franchises_of(chain_data())
    top = torch.tensor([[2, 5, 4], [3, 5, 7]])        # top_n = 3, k = 2
    series = torch.tensor([[2, 4], [1, 5]])
    seen, relevant = keys({0: [1], 1: [6]}), keys({0: [4, 7], 1: [5]})
    popular = torch.zeros(8, dtype=torch.bool)
    popular[5] = True
    m = list_metrics(top, series, seen, relevant, popular, fr, n_anime=8, k=2, top_n=3)
    d = 1 / math.log2(3)
    assert m["ndcg@2"] == pytest.approx((0 + d) / 2)          # row 0: no hit in 2; row 1: hit at rank 2 of 1
    assert m["recall@2"] == pytest.approx((0 + 1) / 2)
    assert m["recall@3"] == pytest.approx((0.5 + 1) / 2)      # row 0 finds anime 4 at rank 3
    assert m["coverage@2"] == pytest.approx(3 / 7)             # {2, 5, 3} of the 7 catalog anime
    assert m["popular_share@2"] == pytest.approx(2 / 4)
    # orphans: row 0 started the franchise of 2 (rated 1), 5 is a later entry (PARENT) of an unstarted
    # franchise; row 1 started nothing: 3 and 5 are orphans.
    assert m["orphan_share@2"] == pytest.approx(3 / 4)
    assert m["series_list"]["ndcg@2"] == pytest.approx((d / (1 + d) + d) / 2)
    assert m["series_list"]["orphan_share@2"] == pytest.approx(1 / 4)   # only 5 (row 1)


def test_orphan_share_counts_spin_offs_as_later_entries_by_relation():
    by_relation, by_order = franchises_of(chain_data()), franchises_of(chain_data(), later_by_relation=False)
    assert by_relation.later.tolist() == [False, False, True, True, False, True, False, False]
    assert by_order.later[5] == False  # noqa: E712 - the franchise module's own "later" leaves spin-offs out
    assert by_relation.franchise.tolist() == by_order.franchise.tolist()
    assert by_relation.franchise[5] != by_relation.franchise[4]


def test_franchises_read_years_from_anime_metadata(tmp_path):
    # 1 is the prequel of 2 but came out later: with the years, release order wins and 2 is the entry point.
    meta = [{"anime_index": i, "year": {1: 2014, 2: 2013}.get(i), "format": "TV"} for i in range(1, 8)]
    (tmp_path / "anime_metadata.json").write_text(json.dumps(meta))
    without, with_years = franchises_of(chain_data()), franchises_of(chain_data(data_dir=tmp_path))
    f = int(without.franchise[1])
    assert without.entry[f] == 1 and with_years.entry[f] == 2


def test_popular_mask_takes_one_percent_of_the_catalog_ties_by_index():
    data = chain_data()
    count = torch.zeros(151, dtype=torch.long)
    count[[3, 7, 9]] = torch.tensor([5, 9, 9])
    data = ProcessedData(**{**data.__dict__, "stats": {**data.stats, "n_anime": 151}, "anime_train_count": count})
    assert popular_mask(data).nonzero().squeeze(1).tolist() == [7, 9]   # ceil(1.5) = 2 anime; 3 (5) is third


def test_rank_lists_excludes_seen_breaks_ties_by_index_and_builds_series_cards():
    fr = franchises_of(chain_data())
    inf = math.inf
    table = torch.tensor([[0.0] * 8,
                          [9, 9, 5, 8, 2, 2, 1, -inf],       # user 1 rated anime 1; ties 5/6 -> 5 first
                          [0, 1, 2, 9, 3, 0, 4, 5]])          # user 2 rated nothing; 3 is on top
    table[:, 0] = 9.0                                        # padding is never ranked
    q = UserQuery(torch.tensor([1, 2]), torch.zeros(2, 1, dtype=torch.long), torch.zeros(2, 1))
    top, series = rank_lists(ScoreModel(table), q, keys({0: [1]}), fr, k=3, top_n=7)
    assert top[0].tolist() == [3, 2, 4, 5, 6, 0, 0]          # 1 seen, 7 at -inf: empty slots
    assert top[1].tolist() == [3, 7, 6, 4, 2, 1, 5]
    # user 1 rated 1: franchise 1-2-3 shows its next entry 2 (not 3); user 2 rated none of it: entry point 1.
    assert series[0].tolist() == [2, 4, 5] and series[1].tolist() == [1, 7, 6]


def test_new_user_ranking_excludes_the_given_anime():
    # One held-out user with 6 ratings; anime rated 9 are relevant unless given.
    ratings = {1: 9.0, 2: 9.0, 3: 9.0, 4: 9.0, 6: 3.0, 7: 9.0}
    data = chain_data(holdout=[("x", a, r) for a, r in ratings.items()])
    (given, _, _, _), = new_user_cases(data.holdout, 2, seed=0)
    # The model puts the given anime first (+100), then the anime the user rated 9.
    prior = torch.tensor([0.0, 5, 5, 5, 5, 0, 1, 5])
    m = new_user_ranking(ScoreModel(torch.zeros(1, 8), prior), data, ks=(2,), k=2, seed=0)["k=2"]
    n_rel = sum(1 for a, r in ratings.items() if r >= 8 and a not in given.tolist())
    assert m["users"] == 1 and m["ndcg@2"] == pytest.approx(1.0)
    assert m["recall@2"] == pytest.approx(2 / n_rel) and m["recall@50"] == pytest.approx(1.0)


def test_orphan_sequel_share():
    fr = Franchises.from_display(three_seasons())
    # User A rated nothing: S2, S3 are orphans (2 of 3 slots); user B rated S1: none of B's 2 slots.
    assert orphan_sequel_share([[2, 3, 5], [3, 4]], [set(), {1}], fr) == pytest.approx(2 / 5)
    assert orphan_sequel_share([[1, 5]], [[]], fr) == 0.0
    assert orphan_sequel_share([], [], fr) is None
