"""Cold-item evaluation: how well a model scores anime none of whose ratings it was trained on.

``preprocess --cold-anime FRAC`` holds out a seeded share of rated anime entirely: every rating
of them is in ``data.cold`` (none in train, val or test), all by training users. Measured:

* **accuracy**: MAE/RMSE on ``data.cold``, each user scored as the model scores known users
  (by user ID; an :attr:`~gnn.models.base.RatingModel.inductive` model from the user's
  training ratings as the history);
* **ranking**: for each user with a cold rating ``>= threshold``, the whole catalog is scored
  with :meth:`~gnn.models.base.RatingModel.score_catalog` (the user's index and training
  ratings as the :class:`~gnn.models.base.UserQuery`), the user's training anime are
  excluded, and the top ``k`` is compared with the cold anime the user rated ``>= threshold``:
  NDCG@k and Recall@k (means over those users), and the share of the top ``k`` that are cold
  anime at all (how often the model puts an anime it never saw rated in front of the user).
  Every other anime (never rated, the user's val/test anime, other users' cold anime) is a
  candidate and counts as not relevant. The same three, under ``rated_only``, with the
  candidates narrowed to anime someone rated (train, val, test or cold): a model that puts
  never-rated anime first (obscure titles with a high catalog score) loses the cold anime
  among all anime but not there. And under ``unrated_only``, with the candidates narrowed to
  anime without a training rating (the cold anime among the never-rated and rarely rated ones):
  the order a status or year filter shows, where every candidate is new to the model, and
  where a model that rates unknown titles (no popularity, no year) above known ones loses.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gnn.models.base import RatingModel, UserQuery
from gnn.processed import ProcessedData, RatingSplit
from gnn.train.evaluate import Accuracy, accuracy, known_histories, predict_split

def _cold(data: ProcessedData) -> RatingSplit:
    if data.cold is None:
        raise ValueError(f"{data.data_dir} has no cold split (cold_*.npy): preprocess with --cold-anime")
    return data.cold


@torch.no_grad()
def cold_accuracy(model: RatingModel, data: ProcessedData, batch_size: int = 8192) -> Accuracy:
    """MAE/RMSE (original scale) on every cold rating, the users scored as known users."""
    cold = _cold(data)
    histories = known_histories(model, data) if model.inductive else None
    return accuracy(predict_split(model, cold, batch_size, histories), cold.rating)


def _users(relevant: RatingSplit, max_users: int | None, seed: int) -> torch.Tensor:
    users = torch.unique(relevant.user)
    users = users[users > 0]
    if max_users is not None and len(users) > max_users:
        rng = np.random.default_rng(seed)
        users = torch.as_tensor(np.sort(rng.choice(users.numpy(), size=max_users, replace=False)))
    return users


def _top_metrics(scores: torch.Tensor, u: torch.Tensor, n_rel: torch.Tensor, rel_keys: torch.Tensor,
                 is_cold: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per user: NDCG@k, Recall@k and the cold share of the top ``k`` of ``scores`` ``[U, n_anime]``."""
    n_anime = scores.shape[1]
    discount = 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.float64))
    top = scores.topk(k, dim=1).indices                                      # [U, k]
    hit = torch.isin(u[:, None] * n_anime + top, rel_keys).double()
    ideal = torch.stack([discount[:int(min(n, k))].sum() for n in n_rel.tolist()])
    return (hit * discount).sum(1) / ideal, hit.sum(1) / n_rel, is_cold[top].double().mean(1)


@torch.no_grad()
def narrowed_scores(model: RatingModel, query: UserQuery, left_out: torch.Tensor | None = None) -> torch.Tensor:
    """``model.score_catalog`` ``[U, n_anime]`` (on the CPU) with the ``left_out [n_anime]`` anime (bool) no
    candidates at all, as under the page's filters: passed as ``query.exclude``, so a model that rates only
    its best candidates (the GNN's two stages) picks them among what is left, and set to -inf."""
    if left_out is None:
        return model.score_catalog(query).cpu()
    exclude = torch.nonzero(left_out).flatten().to(query.user.device).expand(len(query), -1)
    scores = model.score_catalog(UserQuery(query.user, query.hist_anime, query.hist_rating, exclude)).cpu()
    return scores.masked_fill(left_out, -math.inf)


@torch.no_grad()
def cold_ranking(model: RatingModel, data: ProcessedData, k: int = 10, threshold: float = 8.0,
                 max_users: int | None = 2000, seed: int = 0, max_history: int | None = None,
                 users_per_call: int = 64) -> dict:
    """NDCG@k, Recall@k and the cold share of the top k, ranking the cold anime among all anime.

    ``rated_only`` repeats them with the candidates narrowed to anime someone rated in the
    train, val, test or cold split (no never-rated anime): how the cold anime fare against
    the warm ones alone; ``unrated_only`` with the candidates narrowed to anime with no
    training rating: how they fare against the other anime the model never saw rated. With ``max_users``
    set, a seeded sample of that many eligible users is ranked.
    ``max_history``: the training ratings a user's history holds (default: the model's ``scoring_history``).
    """
    max_history = model.scoring_history if max_history is None else max_history
    cold = _cold(data)
    n_anime = data.n_anime
    relevant = cold.subset(cold.rating >= threshold)
    users = _users(relevant, max_users, seed)
    histories = known_histories(model, data)
    train_keys = data.train.user * n_anime + data.train.anime
    rel_keys = relevant.user * n_anime + relevant.anime
    is_cold = torch.zeros(n_anime, dtype=torch.bool)
    is_cold[cold.anime] = True
    rated = torch.zeros(n_anime, dtype=torch.bool)
    for part in (data.train, data.val, data.test, cold):
        rated[part.anime] = True
    trained = torch.zeros(n_anime, dtype=torch.bool)
    trained[data.train.anime] = True
    views = {"all": None, "rated_only": ~rated, "unrated_only": trained}    # name -> what is left out
    parts: dict[str, list[list[torch.Tensor]]] = {name: [[], [], []] for name in views}
    for start in range(0, len(users), users_per_call):
        u = users[start:start + users_per_call]
        query = UserQuery(*(t.to(model.device) for t in (u, *histories.full(u, max_history))))
        keys = u[:, None] * n_anime + torch.arange(n_anime)[None, :]
        n_rel = torch.isin(keys, rel_keys).sum(1).double()
        known = torch.isin(keys, train_keys)                                # known, not recommendations
        known[:, 0] = True
        for name, out in views.items():
            view = narrowed_scores(model, query, out).masked_fill(known, -math.inf)
            for acc, value in zip(parts[name], _top_metrics(view, u, n_rel, rel_keys, is_cold, k)):
                acc.append(value)

    def means(acc: list[list[torch.Tensor]]) -> dict:  # None (null): not measured
        out = [float(torch.cat(x).mean()) if x else None for x in acc]
        return dict(zip((f"ndcg@{k}", f"recall@{k}", f"cold_share@{k}"), out))

    return {**means(parts["all"]), "rated_only": means(parts["rated_only"]),
            "unrated_only": means(parts["unrated_only"]), "users": len(users), "relevant_threshold": threshold}


def evaluate_cold(model: RatingModel, data: ProcessedData, k: int = 10, threshold: float = 8.0,
                  max_users: int | None = 2000, seed: int = 0) -> dict:
    """Both parts as one JSON-ready dict (``null`` where nothing was measured)."""
    acc = cold_accuracy(model, data).as_dict() if model.predicts_ratings else {"mae": None, "rmse": None,
                                                                              "n": len(_cold(data))}
    return {**acc, "anime": int(torch.unique(_cold(data).anime).numel()),
            **cold_ranking(model, data, k=k, threshold=threshold, max_users=max_users, seed=seed)}
