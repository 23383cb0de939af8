"""Ranking and series metrics on hand-computable cases (a model with a fixed score table)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import pytest
import torch

from gnn.data.processed import ProcessedData, RatingSplit
from gnn.graph.builder import ItemTables
from gnn.models.base import Batch, ModelContext, RatingModel
from gnn.train.metrics import ranking_metrics, series_mask, series_metrics


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
    return ProcessedData(config={"n_users": 3, "n_anime": rel_idx.shape[0]}, graph=None, tables=tables,  # type: ignore
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
