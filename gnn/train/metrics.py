"""Ranking and franchise ("series") metrics, shared by the trainer's final report and the benchmarks.

* :func:`ranking_metrics`: NDCG@k and Recall@k over every anime a user has not
  rated in train (train items excluded from the ranking), relevant = test
  rating >= ``threshold``; users without a relevant test item are skipped.
* :func:`series_mask` / :func:`series_metrics`: MAE/RMSE on test ratings whose
  anime is related (any relation type) to an anime the same user rated in
  train, and on the other test ratings, reported separately.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gnn.data.processed import ProcessedData, RatingSplit
from gnn.models.base import Batch, RatingModel
from gnn.train.evaluate import accuracy, predict_split


@torch.no_grad()
def score_catalog(model: RatingModel, users: torch.Tensor, n_anime: int, chunk: int = 65536) -> torch.Tensor:
    """Predicted ratings ``[len(users), n_anime]`` (column 0, the padding anime, is -inf)."""
    model.eval()
    anime = torch.arange(1, n_anime)
    out = torch.full((len(users), n_anime), -math.inf)
    per = max(1, chunk // max(len(anime), 1))
    for i in range(0, len(users), per):
        u = users[i:i + per]
        batch = Batch(user=u.repeat_interleave(len(anime)), anime=anime.repeat(len(u)))
        out[i:i + per, 1:] = model.predict(batch).view(len(u), -1)
    return out


def _pairs(split: RatingSplit, n_anime: int) -> torch.Tensor:
    return split.user * n_anime + split.anime


def ranking_metrics(model: RatingModel, data: ProcessedData, k: int = 10, threshold: float = 8.0,
                    max_users: int | None = 2000, seed: int = 0) -> dict:
    """NDCG@k and Recall@k (means over users with >= 1 relevant test item).

    With ``max_users`` set, a seeded sample of that many eligible users is
    ranked (scoring the whole catalog for every user grows as users x anime).
    """
    n_anime = data.n_anime
    relevant = data.test.subset(data.test.rating >= threshold)
    users = torch.unique(relevant.user)
    users = users[users > 0]
    if max_users is not None and len(users) > max_users:
        rng = np.random.default_rng(seed)
        users = torch.as_tensor(np.sort(rng.choice(users.numpy(), size=max_users, replace=False)))
    train_keys = _pairs(data.train, n_anime)
    rel_keys = _pairs(relevant, n_anime)
    ndcg, recall = [], []
    discount = 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.float64))
    for start in range(0, len(users), 256):
        u = users[start:start + 256]
        scores = score_catalog(model, u, n_anime)
        # Exclude each user's training items: they are known, not recommendations.
        in_train = torch.isin(u[:, None] * n_anime + torch.arange(n_anime)[None, :], train_keys)
        scores[in_train] = -math.inf
        top = scores.topk(k, dim=1).indices                                  # [U, k]
        hit = torch.isin(u[:, None] * n_anime + top, rel_keys).double()      # [U, k]
        n_rel = torch.isin(u[:, None] * n_anime + torch.arange(n_anime)[None, :], rel_keys).sum(1).double()
        ideal = torch.stack([discount[: int(min(n, k))].sum() for n in n_rel.tolist()])
        ndcg.append((hit * discount).sum(1) / ideal)
        recall.append(hit.sum(1) / n_rel)
    ndcg_t, recall_t = (torch.cat(x) if x else torch.zeros(0) for x in (ndcg, recall))
    return {f"ndcg@{k}": float(ndcg_t.mean()) if len(ndcg_t) else None,   # None (null): not measured
            f"recall@{k}": float(recall_t.mean()) if len(recall_t) else None,
            "users": len(users), "relevant_threshold": threshold}


def series_mask(data: ProcessedData, split: RatingSplit | None = None) -> torch.Tensor:
    """``[len(split)]`` bool: the row's anime is related to an anime its user rated in train."""
    split = data.test if split is None else split
    n_anime = data.n_anime
    related = data.tables.rel_idx[split.anime]                               # [n, L], 0 = padding
    keys = split.user[:, None] * n_anime + related
    hit = torch.isin(keys, _pairs(data.train, n_anime)) & (related > 0)
    return hit.any(dim=1)


def series_metrics(model: RatingModel, data: ProcessedData) -> dict:
    mask = series_mask(data)
    pred = predict_split(model, data.test)
    return {"related_to_train": accuracy(pred[mask], data.test.rating[mask]).as_dict(),
            "other": accuracy(pred[~mask], data.test.rating[~mask]).as_dict()}
