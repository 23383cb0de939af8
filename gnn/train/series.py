"""Fit the franchise term (:mod:`gnn.models.series`) of a trained model on the validation split.

Only models that see the catalog's relations get it (``RatingModel.uses_relations``):
the baseline is the older architecture, which never knew about franchises.
Two fits, one per user path:

* **known users**: features from the residuals of their training ratings
  (under the ID embedding), targets the validation residuals;
* **history users**: a seeded sample of training users, each given k = 5, 10
  or 20 of their training ratings as a history (leave-one-out residuals), targets
  their validation ratings scored from that history -- the new-user path, on
  users the held-out evaluation never sees.

For each shrink in :data:`SHRINKS`, alpha is the least-squares coefficient;
the shrink with the lowest squared error wins.
"""

from __future__ import annotations

import numpy as np
import torch

from gnn.data.processed import ProcessedData
from gnn.models.base import Batch, ModelContext, RatingModel
from gnn.models.series import KnownResiduals, SeriesAdjusted, SeriesTerm, related_from_history
from gnn.train.evaluate import predict_split

SHRINKS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
HISTORY_KS = (5, 10, 20)


def fit_term(total: torch.Tensor, weight: torch.Tensor, residual: torch.Tensor,
             shrinks: tuple[float, ...] = SHRINKS) -> SeriesTerm:
    """Least-squares ``alpha`` per shrink for ``residual ~ alpha * total / (weight + shrink)``."""
    best, best_err = SeriesTerm(), float(residual.double().pow(2).sum())
    for shrink in shrinks:
        x = (total / (weight + shrink)).double()
        denom = float(x.pow(2).sum())
        if denom == 0:
            continue
        alpha = float((x * residual.double()).sum()) / denom
        err = float((residual.double() - alpha * x).pow(2).sum())
        if err < best_err:
            best, best_err = SeriesTerm(alpha=alpha, shrink=shrink), err
    return best


def known_residuals(model: RatingModel, data: ProcessedData) -> KnownResiduals:
    pred = predict_split(model, data.train)
    return KnownResiduals(data.train.user, data.train.anime, data.train.rating - pred, data.n_anime)


def _history_sample(data: ProcessedData, max_users: int, seed: int
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(hist_anime [U, 20], hist_rating [U, 20] original scale, val row user slot, val row index)``."""
    rng = np.random.default_rng(seed)
    train, val = data.train, data.val
    t_user, v_user = train.user.numpy(), val.user.numpy()
    n_train = np.bincount(t_user, minlength=data.config["n_users"])
    candidates = np.intersect1d(np.unique(v_user[v_user > 0]), np.flatnonzero(n_train > 0))
    users = np.sort(rng.choice(candidates, size=min(max_users, len(candidates)), replace=False))
    L = max(HISTORY_KS)
    if len(users) == 0:
        return torch.zeros(0, L, dtype=torch.long), torch.zeros(0, L), torch.zeros(0, dtype=torch.long), \
            torch.zeros(0, dtype=torch.long)
    hist_anime = torch.zeros(len(users), L, dtype=torch.long)
    hist_rating = torch.zeros(len(users), L)
    order = np.argsort(t_user, kind="stable")
    starts = np.searchsorted(t_user[order], users)
    for i, (start, count) in enumerate(zip(starts, n_train[users])):
        k = min(HISTORY_KS[i % len(HISTORY_KS)], int(count))
        pick = order[start + rng.choice(count, size=k, replace=False)]
        hist_anime[i, :k] = train.anime[pick]
        hist_rating[i, :k] = train.rating[pick]
    slot = np.searchsorted(users, v_user)
    keep = (slot < len(users)) & (users[np.minimum(slot, len(users) - 1)] == v_user)
    rows = np.flatnonzero(keep)
    return hist_anime, hist_rating, torch.as_tensor(slot[rows]), torch.as_tensor(rows)


@torch.no_grad()
def fit_series(model: RatingModel, data: ProcessedData, seed: int = 0, max_users: int = 1000,
               batch_size: int = 8192) -> tuple[SeriesTerm, SeriesTerm, KnownResiduals]:
    """``(known term, history term, known users' residuals)`` for a trained ``model``."""
    model.eval()
    ctx = ModelContext.from_processed(data)
    residuals = known_residuals(model, data)
    rel_idx, rel_w = ctx.tables.rel_idx.long(), ctx.tables.rel_w.float()
    total, weight = residuals.related(rel_idx, rel_w, data.val.user, data.val.anime)
    known = fit_term(total, weight, data.val.rating - predict_split(model, data.val, batch_size))

    hist_anime, hist_rating, slot, rows = _history_sample(data, max_users, seed)
    probe = SeriesAdjusted(model, ctx, SeriesTerm(), SeriesTerm())
    z_hist = torch.where(hist_anime > 0, model.normalize(hist_rating), torch.zeros_like(hist_rating))
    totals, weights, resids = [], [], []
    for i in range(0, len(rows), batch_size):
        s, r = slot[i:i + batch_size], rows[i:i + batch_size]
        batch = Batch(user=torch.zeros(len(r), dtype=torch.long), anime=data.val.anime[r], hist_anime=hist_anime[s],
                      hist_rating=z_hist[s], use_history=torch.ones(len(r), dtype=torch.bool))
        h_resid = probe.history_residuals(batch.hist_anime, batch.hist_rating)
        t, w = related_from_history(rel_idx, rel_w, batch.anime, batch.hist_anime, h_resid)
        totals.append(t)
        weights.append(w)
        resids.append(data.val.rating[r] - model.predict(batch))
    history = fit_term(torch.cat(totals), torch.cat(weights), torch.cat(resids)) if totals else SeriesTerm()
    return known, history, residuals


def series_blob(known: SeriesTerm, history: SeriesTerm) -> dict:
    """What a checkpoint stores (``blob["series"]``)."""
    return {"known": known.to_dict(), "history": history.to_dict()}


def with_series(model: RatingModel, ctx: ModelContext, blob: dict, data: ProcessedData | None = None
                ) -> RatingModel:
    """``model`` wrapped with the checkpoint's fitted terms, or ``model`` itself if it has none.

    Known users need ``data`` (their training ratings); without it only history users get the term.
    """
    if not blob.get("series"):
        return model
    known, history = (SeriesTerm(**blob["series"][k]) for k in ("known", "history"))
    residuals = known_residuals(model, data) if data is not None else None
    return SeriesAdjusted(model, ctx, known, history, residuals)
