"""Ranking and franchise ("series") metrics, shared by the trainer's final report and the benchmarks.

Ranking (every model alike, through :meth:`RatingModel.score_catalog`; the whole catalog is ranked,
no sampled negatives):

* :func:`ranking_metrics`: known users. A seeded sample of users with at least one relevant
  anime in the target split (test, or validation for tuning; relevant = rating >= ``threshold``)
  is scored from their user index and their training ratings as history (at most
  the model's ``scoring_history``); every anime they rated in train is excluded from their list.
* :func:`new_user_ranking`: held-out users (never trained on) given k = 5, 10, 20 of their
  ratings (the seeded order of :func:`gnn.train.evaluate.new_user_cases`); the given anime are
  excluded, and relevant = their other ratings >= ``threshold``. The users are those with a
  relevant rating beyond the largest k, the same for every k.

Per list (:func:`list_metrics`): NDCG@k and Recall@k (hits / relevant anime), Recall@50, catalog
coverage of the top-k lists (share of the catalog's anime in at least one list), the share of top-k
slots taken by the most popular 1 % of anime (by training count, :func:`popular_mask`) and the
orphan-sequel share (:func:`orphan_sequel_share`: slots that are later entries, i.e.
anime with a PREQUEL or PARENT relation, of a franchise the user rated nothing of; "rated" = the
anime excluded above; :func:`franchises_of`). The same NDCG@k and orphan
share are also given for the series-aware list (:func:`gnn.franchise.franchise_list` over the
same scores: one card per franchise, at its entry point or next entry), under ``series_list``.

Series accuracy (:func:`series_mask` / :func:`series_metrics`): MAE/RMSE on test ratings whose anime
is related (any relation type) to an anime the same user rated in train, and on the others.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Iterable, Sequence

import numpy as np
import torch

from gnn.data.schema import RELATION_TYPES
from gnn.franchise import Franchises, franchise_list
from gnn.models.base import RatingModel, UserQuery
from gnn.processed import ProcessedData, RatingSplit, anime_metadata
from gnn.train.evaluate import NEW_USER_KS, accuracy, known_histories, new_user_cases, predict_split
from gnn.train.histories import UserHistories

TOP_N = 50            # the longest list measured (Recall@50)
POPULAR_SHARE = 0.01  # "the most popular 1 % of anime"


def franchises_of(data: ProcessedData, later_by_relation: bool = True) -> Franchises:
    """The catalog's franchises from a processed folder: relations from the relation table (what the
    export's ``anime_display.json`` carries), year and format from ``anime_metadata.json`` when present.

    With ``later_by_relation`` (the orphan share's definition in issue 15), ``later`` marks every anime
    with a PREQUEL or PARENT relation; :meth:`Franchises.from_display`'s own ``later`` leaves out
    spin-off parents and prequels released afterwards (on MAL 5,980 anime vs 7,188). The franchises,
    entry points and next entries (the series-aware list) are the same either way.
    """
    meta = anime_metadata(data.data_dir)
    rel_idx, rel_type = data.tables.rel_idx.tolist(), data.tables.rel_type.tolist()
    display: list[dict | None] = [None]
    for i in range(1, data.n_anime):
        m = meta.get(i, {})
        display.append({"relations": [[j, RELATION_TYPES[t]] for j, t in zip(rel_idx[i], rel_type[i]) if j > 0],
                        "year": m.get("year"), "format": m.get("format")})
    fr = Franchises.from_display(display)
    if not later_by_relation:
        return fr
    before = torch.tensor([RELATION_TYPES.index("PREQUEL"), RELATION_TYPES.index("PARENT")])
    later = ((data.tables.rel_idx > 0) & torch.isin(data.tables.rel_type, before)).any(1)
    later[0] = False
    return replace(fr, later=later.numpy().astype(bool))


def popular_mask(data: ProcessedData, share: float = POPULAR_SHARE) -> torch.Tensor:
    """``[n_anime]`` bool: the ``ceil(share * catalog)`` anime with the most training ratings (ties: lower index)."""
    count = data.anime_train_count if data.anime_train_count is not None else \
        torch.bincount(data.train.anime, minlength=data.n_anime)
    order = torch.sort(-count[1:data.n_anime].long(), stable=True).indices + 1
    mask = torch.zeros(data.n_anime, dtype=torch.bool)
    mask[order[:max(1, math.ceil(share * (data.n_anime - 1)))]] = True
    return mask


def orphan_sequel_share(top_lists: Iterable[Sequence[int]], rated_sets: Iterable[Iterable[int]],
                        fr: Franchises) -> float | None:
    """Share of top-list slots that are later entries of a franchise the user rated nothing of.

    ``top_lists[u]``: user ``u``'s top-N anime indices; ``rated_sets[u]``: what ``u`` rated (indices).
    None when there are no slots (strict JSON: no NaN).
    """
    slots = orphans = 0
    for top, rated in zip(top_lists, rated_sets):
        started = fr.started(rated)
        for a in top:
            slots += 1
            orphans += bool(fr.later[a]) and int(fr.franchise[a]) not in started
    return orphans / slots if slots else None


ROW_CHUNK = 1 << 22   # rating rows handled at once where a metric scans a whole split (~4M: ~100 MB of keys)


def _row_keys(users: torch.Tensor, split: RatingSplit, n_anime: int, chunk: int = ROW_CHUNK) -> torch.Tensor:
    """Sorted ``row * n_anime + anime`` of the rows of ``split`` whose user is ``users[row]`` (``users`` sorted);
    ``split`` is scanned ``chunk`` rows at a time."""
    if len(users) == 0:
        return torch.zeros(0, dtype=torch.long)
    parts = [torch.zeros(0, dtype=torch.long)]
    for start in range(0, len(split), chunk):
        user, anime = split.user[start:start + chunk], split.anime[start:start + chunk]
        slot = torch.searchsorted(users, user).clamp(max=len(users) - 1)
        keep = users[slot] == user
        parts.append(slot[keep] * n_anime + anime[keep])
    return torch.sort(torch.cat(parts)).values


def _sample(users: torch.Tensor, max_users: int | None, seed: int) -> torch.Tensor:
    if max_users is not None and len(users) > max_users:
        rng = np.random.default_rng(seed)
        users = torch.as_tensor(np.sort(rng.choice(users.numpy(), size=max_users, replace=False)))
    return users


def known_user_query(data: ProcessedData, users: torch.Tensor, max_history: int) -> UserQuery:
    """Known users as a :class:`UserQuery`: their index and their training ratings (at most ``max_history``)."""
    c = data.stats
    hist = UserHistories(data.train, data.n_users, c.get("rating_mean", 0.0), c.get("rating_std", 1.0))
    hist_anime, hist_rating = hist.full(users, max_history)
    return UserQuery(users, hist_anime, hist_rating)


def rank_lists(model: RatingModel, query: UserQuery, seen: torch.Tensor, fr: Franchises, k: int = 10,
               top_n: int = TOP_N, chunk: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """``(top [U, top_n], series [U, k])`` anime indices, 0 = empty slot, ``seen`` excluded from both.

    ``seen``: sorted keys ``row * n_anime + anime``. ``top``: the highest finite scores, ties by lower
    index; ``series``: the anime shown on the cards of the series-aware list (any unseen anime may be
    shown as an entry point or next entry, as on the page). Scores ``[chunk, n_anime]`` at a time.
    """
    n, was_training = model.n_anime, model.training
    model.eval()
    ptr = torch.searchsorted(seen, torch.arange(len(query) + 1) * n).tolist()
    seen_anime = (seen % n).tolist()
    tops, series = [], []
    for start in range(0, len(query), chunk):
        q = query.rows(start, start + chunk)
        # What the user rated is no candidate: a model that rates only its best candidates must know.
        rated_rows = [torch.tensor(seen_anime[ptr[start + r]:ptr[start + r + 1]], dtype=torch.long)
                      for r in range(len(q))]
        exclude = torch.nn.utils.rnn.pad_sequence(rated_rows, batch_first=True) if rated_rows else None
        q = UserQuery(q.user.to(model.device), q.hist_anime.to(model.device), q.hist_rating.to(model.device),
                      None if exclude is None else exclude.to(model.device))
        scores = model.score_catalog(q).float().cpu()
        scores[scores.isnan()] = -math.inf                          # a NaN score ranks last, as -inf
        scores[:, 0] = -math.inf
        allowed = torch.ones_like(scores, dtype=torch.bool)
        allowed[:, 0] = False
        for r in range(len(q)):
            rated = seen_anime[ptr[start + r]:ptr[start + r + 1]]
            scores[r, rated], allowed[r, rated] = -math.inf, False
            cards = franchise_list(scores[r].numpy(), dict.fromkeys(rated), fr, allowed[r].numpy(), k, complete=False)
            series.append(torch.tensor([c.anime for c in cards] + [0] * (k - len(cards)), dtype=torch.long))
        order = torch.sort(scores, dim=1, descending=True, stable=True)
        top = order.indices[:, :min(top_n, n)]
        tops.append(torch.where(order.values[:, :top.shape[1]] > -math.inf, top, 0))
    model.train(was_training)
    empty = torch.zeros(0, 0, dtype=torch.long)
    return (torch.cat(tops) if tops else empty), (torch.stack(series) if series else empty)


def _ndcg(hit: torch.Tensor, n_rel: torch.Tensor) -> torch.Tensor:
    """NDCG per row of a 0/1 hit matrix ``[U, k]`` (binary gains, log2 discount), ``n_rel`` ``[U]`` >= 1."""
    discount = 1.0 / torch.log2(torch.arange(2, hit.shape[1] + 2, dtype=torch.float64))
    ideal = discount.cumsum(0)[n_rel.clamp(min=1, max=hit.shape[1]) - 1]
    return (hit.double() * discount).sum(1) / ideal


def _mean(x: torch.Tensor) -> float | None:
    return float(x.double().mean()) if len(x) else None   # None (null): not measured


def list_metrics(top: torch.Tensor, series: torch.Tensor, seen: torch.Tensor, relevant: torch.Tensor,
                 popular: torch.Tensor, fr: Franchises, n_anime: int, k: int = 10, top_n: int = TOP_N) -> dict:
    """The metrics of ranked lists (module docstring). ``top`` ``[U, <= top_n]``, ``series`` ``[U, k]`` anime
    (0 = empty slot); ``seen``/``relevant``: sorted ``row * n_anime + anime`` keys; ``popular`` bool ``[n_anime]``.
    Every row has at least one relevant anime."""
    rows = torch.arange(len(top))[:, None]
    n_rel = torch.bincount(relevant // n_anime, minlength=len(top))[:len(top)]

    def hits(lists: torch.Tensor) -> torch.Tensor:
        return torch.isin(rows * n_anime + lists, relevant) & (lists > 0)

    def orphans(lists: torch.Tensor) -> float | None:
        ptr = torch.searchsorted(seen, torch.arange(len(lists) + 1) * n_anime).tolist()
        rated = [(seen[ptr[r]:ptr[r + 1]] % n_anime).tolist() for r in range(len(lists))]
        return orphan_sequel_share([[a for a in row if a > 0] for row in lists.tolist()], rated, fr)

    hit, head = hits(top), top[:, :k]
    filled = head[head > 0]
    out = {f"ndcg@{k}": _mean(_ndcg(hit[:, :k], n_rel)), f"recall@{k}": _mean(hit[:, :k].sum(1) / n_rel),
           f"recall@{top_n}": _mean(hit[:, :top_n].sum(1) / n_rel),
           f"coverage@{k}": len(torch.unique(filled)) / max(n_anime - 1, 1) if len(top) else None,
           f"popular_share@{k}": _mean(popular[filled].float()), f"orphan_share@{k}": orphans(head)}
    out["series_list"] = {f"ndcg@{k}": _mean(_ndcg(hits(series), n_rel)), f"orphan_share@{k}": orphans(series)}
    return out


@torch.no_grad()
def ranking_metrics(model: RatingModel, data: ProcessedData, k: int = 10, threshold: float = 8.0,
                    max_users: int | None = 2000, seed: int = 0, max_history: int | None = None, split: str = "test",
                    franchises: Franchises | None = None) -> dict:
    """Known users' ranking metrics against ``split`` ("test", or "val" for tuning); module docstring.
    ``max_history``: the training ratings a user's history holds (default: the model's ``scoring_history``)."""
    max_history = model.scoring_history if max_history is None else max_history
    target = {"test": data.test, "val": data.val}[split]
    relevant = target.subset(target.rating >= threshold)
    users = torch.unique(relevant.user)
    users = _sample(users[users > 0], max_users, seed)
    seen, rel = _row_keys(users, data.train, data.n_anime), _row_keys(users, relevant, data.n_anime)
    fr = franchises if franchises is not None else franchises_of(data)
    top, series = rank_lists(model, known_user_query(data, users, max_history), seen, fr, k)
    return {**list_metrics(top, series, seen, rel, popular_mask(data), fr, data.n_anime, k),
            "users": len(users), "relevant_threshold": threshold, "split": split, "max_history": max_history}


def held_out_cases(data: ProcessedData, max_k: int = max(NEW_USER_KS), threshold: float = 8.0,
                   max_users: int | None = 2000, seed: int = 0) -> list:
    """The new-user ranking's users: held-out users with a rating >= ``threshold`` beyond their first
    ``max_k`` (``new_user_cases``, in its seeded order), at most ``max_users`` of them (seeded sample)."""
    cases = [c for c in new_user_cases(data.holdout, max_k, seed) if (c[3] >= threshold).any()]
    return [cases[i] for i in _sample(torch.arange(len(cases)), max_users, seed).tolist()]


def new_user_query(data: ProcessedData, cases: list, k: int) -> tuple[UserQuery, torch.Tensor]:
    """New users given the first ``k`` of their ``cases`` ratings: ``(query, seen keys)``."""
    mean, std = data.stats.get("rating_mean", 0.0), data.stats.get("rating_std", 1.0)
    anime = torch.zeros(len(cases), k, dtype=torch.long)
    rating = torch.zeros(len(cases), k)
    for row, (given_a, given_r, _, _) in enumerate(cases):
        anime[row, :len(given_a[:k])] = torch.as_tensor(given_a[:k])
        rating[row, :len(given_a[:k])] = (torch.as_tensor(given_r[:k]) - mean) / std
    seen = torch.unique(torch.arange(len(cases))[:, None] * data.n_anime + anime)
    seen = seen[seen % data.n_anime > 0]
    return UserQuery(torch.zeros(len(cases), dtype=torch.long), anime, rating), seen


@torch.no_grad()
def new_user_ranking(model: RatingModel, data: ProcessedData, ks: tuple[int, ...] = NEW_USER_KS, k: int = 10,
                     threshold: float = 8.0, max_users: int | None = 2000, seed: int = 0,
                     franchises: Franchises | None = None) -> dict[str, dict]:
    """Held-out users' ranking metrics given ``k`` = each of ``ks`` ratings (module docstring)."""
    cases = held_out_cases(data, max(ks), threshold, max_users, seed)
    fr = franchises if franchises is not None else franchises_of(data)
    popular, result = popular_mask(data), {}
    for given in ks:
        query, seen = new_user_query(data, cases, given)
        rel = [(row, int(a)) for row, (ga, gr, ta, tr) in enumerate(cases)
               for a, r in zip(np.concatenate([ga[given:], ta]), np.concatenate([gr[given:], tr])) if r >= threshold]
        rel_keys = torch.unique(torch.tensor([row * data.n_anime + a for row, a in rel], dtype=torch.long))
        top, series = rank_lists(model, query, seen, fr, k)
        result[f"k={given}"] = {**list_metrics(top, series, seen, rel_keys, popular, fr, data.n_anime, k),
                                "users": len(cases), "relevant_threshold": threshold}
    return result


def series_mask(data: ProcessedData, split: RatingSplit | None = None, chunk: int = ROW_CHUNK // 8) -> torch.Tensor:
    """``[len(split)]`` bool: the row's anime is related to an anime its user rated in train
    (``chunk`` rows at a time against one sorted copy of the training keys)."""
    split = data.test if split is None else split
    n_anime = data.n_anime
    train = torch.sort(data.train.user * n_anime + data.train.anime).values
    mask = torch.zeros(len(split), dtype=torch.bool)
    if len(train) == 0:
        return mask
    for start in range(0, len(split), chunk):
        related = data.tables.rel_idx[split.anime[start:start + chunk]]              # [n, L], 0 = padding
        keys = split.user[start:start + chunk, None] * n_anime + related
        hit = train[torch.searchsorted(train, keys).clamp(max=len(train) - 1)] == keys
        mask[start:start + chunk] = (hit & (related > 0)).any(dim=1)
    return mask


def series_metrics(model: RatingModel, data: ProcessedData) -> dict:
    """MAE/RMSE on related / other test ratings; null (not measured) for a ranking-only model."""
    mask = series_mask(data)
    if not model.predicts_ratings:
        empty = accuracy(torch.zeros(0), torch.zeros(0)).as_dict()
        return {"related_to_train": empty, "other": dict(empty)}
    pred = predict_split(model, data.test, histories=known_histories(model, data) if model.inductive else None)
    return {"related_to_train": accuracy(pred[mask], data.test.rating[mask]).as_dict(),
            "other": accuracy(pred[~mask], data.test.rating[~mask]).as_dict()}
