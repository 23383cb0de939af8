"""The evaluator shared by every model: accuracy on a split, and the new-user path.

All metrics are on the original rating scale (predictions denormalized and
clamped to the scale by :meth:`RatingModel.predict`). A ranking-only model
(``predicts_ratings = False``) gets "not measured" (NaN in memory, ``n = 0``,
null in JSON, "n/a" in logs: :func:`fmt_metric`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from gnn.models.base import Batch, ModelContext, RatingModel
from gnn.processed import ProcessedData, RatingSplit
from gnn.train.histories import UserHistories

NEW_USER_KS = (5, 10, 20)


@dataclass(frozen=True)
class Accuracy:
    mae: float
    rmse: float
    n: int

    def as_dict(self) -> dict:
        """JSON-ready: ``None`` (null) for a metric that was not measured (no rows)."""
        return {"mae": self.mae if self.n else None, "rmse": self.rmse if self.n else None, "n": self.n}

    @property
    def measured_rmse(self) -> float | None:
        return self.rmse if self.n else None


NOT_MEASURED = Accuracy(float("nan"), float("nan"), 0)


def fmt_metric(value: float | None) -> str:
    """A metric for a log line: 4 decimals, or "n/a" where it was not measured (None or NaN)."""
    return "n/a" if value is None or value != value else f"{value:.4f}"


def accuracy(pred: torch.Tensor, truth: torch.Tensor) -> Accuracy:
    err = (pred.double() - truth.double())
    if len(err) == 0:
        return NOT_MEASURED
    return Accuracy(mae=float(err.abs().mean()), rmse=float(err.pow(2).mean().sqrt()), n=len(err))


def known_histories(model: RatingModel, data: ProcessedData) -> UserHistories:
    """The training users' histories (their training ratings), as an inductive model reads a known user."""
    return UserHistories(data.train, data.n_users, float(model.rating_mean), float(model.rating_std))


@torch.no_grad()
def predict_split(model: RatingModel, split: RatingSplit, batch_size: int = 8192,
                  histories: UserHistories | None = None) -> torch.Tensor:
    """Predictions (original scale) for every row of ``split``: by user ID, or for an
    :attr:`~RatingModel.inductive` model from the user's training ratings (``histories``)."""
    if model.inductive and histories is None:
        raise ValueError(f"model {model.name!r} scores users from their ratings: pass the training histories")
    was_training = model.training
    model.eval()
    if model.inductive:
        out = _predict_grouped(model, split, histories, batch_size)
    else:
        out = torch.cat([model.predict(Batch(user=split.user[i:i + batch_size], anime=split.anime[i:i + batch_size])
                                       .to(model.device)).cpu() for i in range(0, len(split), batch_size)]
                        or [torch.zeros(0)])
    model.train(was_training)
    return out


def _predict_grouped(model: RatingModel, split: RatingSplit, histories: UserHistories, batch_size: int
                     ) -> torch.Tensor:
    """An inductive model's predictions, one history per user and all of that user's rows at once.

    Streams: users are taken from the most rows to the fewest, in groups of about ``batch_size`` target
    slots (so a group pads to a similar row count, not to the split's longest user), their histories
    built per group and padded to the group's own longest history (at most the model's ``scoring_history``).
    """
    order = torch.argsort(split.user, stable=True)
    users, counts = torch.unique_consecutive(split.user[order], return_counts=True)
    starts = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    cap = model.scoring_history
    out = torch.zeros(len(split))
    by_rows = torch.argsort(counts, descending=True, stable=True).tolist()
    g = 0
    while g < len(by_rows):
        group = by_rows[g:g + max(1, batch_size // int(counts[by_rows[g]]))]
        g += len(group)
        hist_anime, hist_rating = histories.full(users[group], cap)
        rows = [order[starts[i]:starts[i + 1]] for i in group]
        targets = torch.nn.utils.rnn.pad_sequence([split.anime[r] for r in rows], batch_first=True)
        pred = model.predict_users(hist_anime.to(model.device), hist_rating.to(model.device),
                                   targets.to(model.device)).cpu()
        for j, r in enumerate(rows):
            out[r] = pred[j, :len(r)]
    return out


def evaluate_split(model: RatingModel, split: RatingSplit, batch_size: int = 8192,
                   histories: UserHistories | None = None) -> Accuracy:
    """MAE/RMSE on ``split`` (nothing measured, all null, for a ranking-only model)."""
    if not model.predicts_ratings:
        return NOT_MEASURED
    return accuracy(predict_split(model, split, batch_size, histories), split.rating)


class Evaluator:
    """The evaluation data of one run: the splits and, built once, the known users' training histories."""

    def __init__(self, data: ProcessedData, ctx: ModelContext) -> None:
        self.data = data
        self.histories = UserHistories(data.train, ctx.n_users, ctx.rating_mean, ctx.rating_std)

    def split(self, model: RatingModel, split: RatingSplit) -> Accuracy:
        return evaluate_split(model, split, histories=self.histories)


def new_user_cases(holdout: pd.DataFrame, max_k: int = max(NEW_USER_KS), seed: int = 0
                   ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per held-out user: a seeded order of their ratings split into ``max_k`` given and the rest.

    Every k in :data:`NEW_USER_KS` uses a prefix of the same given list and the
    same targets, so the numbers for different k are comparable.
    Returns ``(given_anime, given_rating, target_anime, target_rating)`` per user.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for _, rows in holdout.sort_values(["user_id", "anime_idx"]).groupby("user_id", sort=True):
        order = rng.permutation(len(rows))
        anime = rows["anime_idx"].to_numpy()[order]
        rating = rows["rating"].to_numpy(dtype=np.float32)[order]
        if len(rows) > max_k:
            cases.append((anime[:max_k], rating[:max_k], anime[max_k:], rating[max_k:]))
    return cases


@torch.no_grad()
def predict_from_history(model: RatingModel, given_anime: torch.Tensor, given_rating: torch.Tensor,
                         targets: torch.Tensor) -> torch.Tensor:
    """Ratings (original scale) of ``targets`` for a user known only by a history."""
    n = len(targets)
    hist_anime = given_anime.long()[None, :].expand(n, -1)
    hist_rating = model.normalize(given_rating.float())[None, :].expand(n, -1)
    batch = Batch(user=torch.zeros(n, dtype=torch.long), anime=targets.long(), hist_anime=hist_anime,
                  hist_rating=hist_rating, use_history=torch.ones(n, dtype=torch.bool))
    return model.predict(batch.to(model.device)).cpu()


NEW_USER_CAP = 2000   # held-out users evaluated at most (a seeded sample beyond), as the ranking metrics


def sample_cases(cases: list, max_users: int | None, seed: int) -> list:
    """A seeded sample of ``max_users`` of ``cases`` (in their order), or all of them."""
    if max_users is None or len(cases) <= max_users:
        return cases
    keep = np.sort(np.random.default_rng(seed).choice(len(cases), size=max_users, replace=False))
    return [cases[i] for i in keep]


def evaluate_new_users(model: RatingModel, holdout: pd.DataFrame, ks: tuple[int, ...] = NEW_USER_KS,
                       seed: int = 0, max_users: int | None = NEW_USER_CAP) -> dict[str, dict]:
    """MAE/RMSE on held-out users given k of their ratings (the ID-free user path); beyond ``max_users``
    held-out users, on a seeded sample of them (each is one model call per k: at 60M ratings there are
    ~15k held-out users)."""
    return evaluate_cases(model, sample_cases(new_user_cases(holdout, max(ks), seed), max_users, seed), ks)


def evaluate_cases(model: RatingModel, cases: list, ks: tuple[int, ...] = NEW_USER_KS) -> dict[str, dict]:
    """MAE/RMSE of ``cases`` (:func:`new_user_cases`' tuples) when each user is given the first k of their
    given ratings, for each of ``ks``."""
    if not model.predicts_ratings:
        return {f"k={k}": {**NOT_MEASURED.as_dict(), "users": len(cases)} for k in ks}
    was_training = model.training
    model.eval()
    result = {}
    for k in ks:
        preds, truth = [], []
        for given_a, given_r, target_a, target_r in cases:
            preds.append(predict_from_history(model, torch.as_tensor(given_a[:k]),
                                              torch.as_tensor(given_r[:k]), torch.as_tensor(target_a)))
            truth.append(torch.as_tensor(target_r))
        acc = accuracy(torch.cat(preds), torch.cat(truth)) if preds else accuracy(torch.zeros(0), torch.zeros(0))
        result[f"k={k}"] = {**acc.as_dict(), "users": len(cases)}
    model.train(was_training)
    return result
