r"""The franchise term: a post-hoc stage the benchmarks give the classic references ("+term").

For a user :math:`u` and a target anime :math:`a`, let :math:`R(a)` be the anime
related to :math:`a` in the catalog graph (sequel, prequel, side story, ...,
with the relation-type weights :math:`w_{ab}` of the graph builder) that
:math:`u` has rated. The adjusted rating is

.. math::
    \hat r'_{ua} = \hat r_{ua} + \alpha \, \frac{\sum_{b \in R(a)} w_{ab}\,(r_{ub} - \hat r_{ub})}
                                               {\sum_{b \in R(a)} w_{ab} + \lambda}

where :math:`\hat r` is the model's own prediction, so the term carries over
only what the model missed: a user who rated the prequel two points above the
model's guess is likely to do the same for the sequel. :math:`\lambda` shrinks
the term when little related evidence exists; an anime without rated relatives
gets no offset. No model gets it in ``anime-gnn train`` (the gnn learns what a
rated relative means inside the model); ``series_ablation.py`` gives it to the
classic references as a stronger reference.

:math:`\alpha, \lambda` are two numbers per user path, fitted on the validation
split (:func:`fit_series`):

* **known users** (scored by ID): the residuals of their training ratings;
  targets the validation residuals;
* **history users** (a new user): a seeded sample of training users, each given
  k = 5, 10 or 20 of their training ratings as a history, whose residuals are
  leave-one-out (a rating never feeds its own prediction); targets their
  validation ratings scored from that history -- the new-user path, on users the
  held-out evaluation never sees.

For each shrink in :data:`SHRINKS`, alpha is the least-squares coefficient;
the shrink with the lowest squared error wins. Models that score known users
from their ratings (``RatingModel.inductive``) have no ID path and do not get it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from gnn.models.base import Batch, ModelContext, RatingModel
from gnn.processed import ProcessedData
from gnn.train.evaluate import predict_split

SHRINKS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
HISTORY_KS = (5, 10, 20)


@dataclass(frozen=True)
class SeriesTerm:
    """``offset = alpha * total / (weight + shrink)``; ``alpha = 0`` switches the term off."""

    alpha: float = 0.0
    shrink: float = 1.0

    def offset(self, total: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return self.alpha * total / (weight + self.shrink).clamp_min(1e-6)

    def to_dict(self) -> dict:
        return asdict(self)


def _weighted(w: torch.Tensor, resid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sum_b w_ab * resid_b [B], sum_b w_ab [B])`` over the relatives ``[B, R]`` (``w`` 0 where not rated)."""
    return (w * resid).sum(1), w.sum(1)


def related_from_history(rel_idx: torch.Tensor, rel_w: torch.Tensor, anime: torch.Tensor,
                         hist_anime: torch.Tensor, hist_resid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Weighted residual sum and weight sum over the target's relatives found in a history.

    Args:
        rel_idx, rel_w: the catalog's relation table ``[n_anime, R]`` (0 = padding) and its weights.
        anime: targets ``[B]``.
        hist_anime: histories ``[B, L]`` (0 = padding).
        hist_resid: residual of each history entry ``[B, L]``.

    Returns:
        ``(total [B], weight [B])``; a relative rated twice counts once, with its mean residual.
    """
    rel = rel_idx[anime]                                                         # [B, R]
    match = ((rel.unsqueeze(2) == hist_anime.unsqueeze(1)) & (hist_anime > 0).unsqueeze(1)).to(hist_resid.dtype)
    count = match.sum(2)                                                         # [B, R]
    resid = (match * hist_resid.unsqueeze(1)).sum(2) / count.clamp_min(1.0)
    return _weighted(rel_w[anime] * ((rel > 0) & (count > 0)), resid)


class KnownResiduals:
    """Residuals ``r - r_hat`` of known users' training ratings, looked up by (user, anime)."""

    def __init__(self, user: torch.Tensor, anime: torch.Tensor, residual: torch.Tensor, n_anime: int) -> None:
        keys, inverse = torch.unique(user.long() * n_anime + anime.long(), return_inverse=True)
        count = torch.zeros(len(keys)).index_add_(0, inverse, torch.ones(len(inverse)))
        mean = torch.zeros(len(keys)).index_add_(0, inverse, residual.float()) / count.clamp_min(1.0)
        # A pair given twice counts once, with its mean residual (as in related_from_history).
        self.keys, self.residual, self.n_anime = keys, mean, n_anime

    def related(self, rel_idx: torch.Tensor, rel_w: torch.Tensor, user: torch.Tensor,
                anime: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Same as :func:`related_from_history` with each user's training ratings as the history."""
        rel = rel_idx[anime]                                                     # [B, R]
        if len(self.keys) == 0:
            zero = torch.zeros(len(anime))
            return zero, zero.clone()
        keys = user.unsqueeze(1) * self.n_anime + rel
        pos = torch.searchsorted(self.keys, keys).clamp_max(len(self.keys) - 1)
        return _weighted(rel_w[anime] * ((self.keys[pos] == keys) & (rel > 0)), self.residual[pos])


class SeriesAdjusted(RatingModel):
    """A trained model plus its fitted :class:`SeriesTerm` s, behind the same :class:`RatingModel` interface.

    Rows scored by user ID read ``known`` (needs ``residuals`` of the users'
    training ratings); rows with ``use_history`` compute leave-one-out residuals
    of their history and read ``history``. The evaluator, the ranking and the
    series metrics then work unchanged. Inference only (no training through it).
    """

    name = "series_adjusted"

    def __init__(self, base: RatingModel, ctx: ModelContext, known: SeriesTerm, history: SeriesTerm,
                 residuals: KnownResiduals | None = None) -> None:
        super().__init__(ctx)
        self.base, self.known, self.history, self.residuals = base.eval(), known, history, residuals
        self.register_buffer("rel_idx", ctx.tables.rel_idx.long(), persistent=False)
        self.register_buffer("rel_w", ctx.tables.rel_w.float(), persistent=False)

    def terms(self) -> dict:
        """The fitted numbers, as ``series_ablation.json`` lists them."""
        return {"known": self.known.to_dict(), "history": self.history.to_dict()}

    def history_residuals(self, hist_anime: torch.Tensor, hist_rating: torch.Tensor) -> torch.Tensor:
        """``[B, L]``: each entry's rating minus its prediction from the rest of its history (original scale)."""
        uniq, inverse = torch.unique(torch.cat([hist_anime.float(), hist_rating], dim=1), dim=0, return_inverse=True)
        L = hist_anime.shape[1]
        h_anime, h_rating = uniq[:, :L].long(), uniq[:, L:]
        n = h_anime.numel()
        rows = Batch(user=torch.zeros(n, dtype=torch.long, device=h_anime.device), anime=h_anime.reshape(-1),
                     hist_anime=h_anime.repeat_interleave(L, 0), hist_rating=h_rating.repeat_interleave(L, 0),
                     use_history=torch.ones(n, dtype=torch.bool, device=h_anime.device))
        pred = self.base.predict(rows).view(-1, L)                   # the model ignores the entry it scores
        resid = (h_rating * self.rating_std + self.rating_mean - pred) * (h_anime > 0)
        return resid[inverse]

    def forward(self, batch: Batch) -> torch.Tensor:
        base = self.base.predict(batch)                              # clamped, original scale
        offset = torch.zeros_like(base)
        hist_rows = batch.use_history if batch.use_history is not None else torch.zeros_like(base, dtype=torch.bool)
        if self.residuals is not None and self.known.alpha != 0 and bool((~hist_rows).any()):
            ids = (~hist_rows).nonzero().squeeze(1)
            total, weight = self.residuals.related(self.rel_idx.cpu(), self.rel_w.cpu(), batch.user[ids].cpu(),
                                                   batch.anime[ids].cpu())
            offset[ids] = self.known.offset(total, weight).to(base.device)
        if self.history.alpha != 0 and bool(hist_rows.any()):
            rows = hist_rows.nonzero().squeeze(1)
            assert batch.hist_anime is not None and batch.hist_rating is not None
            resid = self.history_residuals(batch.hist_anime[rows], batch.hist_rating[rows])
            total, weight = related_from_history(self.rel_idx, self.rel_w, batch.anime[rows],
                                                 batch.hist_anime[rows], resid)
            offset[rows] = self.history.offset(total, weight)
        return self.normalize(base + offset)


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


def _history_sample(data: ProcessedData, max_users: int, seed: int
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(hist_anime [U, 20], hist_rating [U, 20] original scale, val row user slot, val row index)``."""
    rng = np.random.default_rng(seed)
    train, val = data.train, data.val
    t_user, v_user = train.user.numpy(), val.user.numpy()
    n_train = np.bincount(t_user, minlength=data.stats["n_users"])
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


def _fit_history(probe: SeriesAdjusted, data: ProcessedData, max_users: int, seed: int,
                 batch_size: int) -> SeriesTerm:
    """The history users' term: sampled histories (:func:`_history_sample`) -> their validation residuals."""
    model = probe.base
    hist_anime, hist_rating, slot, rows = _history_sample(data, max_users, seed)
    z_hist = torch.where(hist_anime > 0, model.normalize(hist_rating), torch.zeros_like(hist_rating))
    totals, weights, resids = [], [], []
    for i in range(0, len(rows), batch_size):
        s, r = slot[i:i + batch_size], rows[i:i + batch_size]
        batch = Batch(user=torch.zeros(len(r), dtype=torch.long), anime=data.val.anime[r], hist_anime=hist_anime[s],
                      hist_rating=z_hist[s], use_history=torch.ones(len(r), dtype=torch.bool))
        h_resid = probe.history_residuals(batch.hist_anime, batch.hist_rating)
        t, w = related_from_history(probe.rel_idx, probe.rel_w, batch.anime, batch.hist_anime, h_resid)
        totals.append(t)
        weights.append(w)
        resids.append(data.val.rating[r] - model.predict(batch))
    return fit_term(torch.cat(totals), torch.cat(weights), torch.cat(resids)) if totals else SeriesTerm()


@torch.no_grad()
def fit_series(model: RatingModel, data: ProcessedData, seed: int = 0, max_users: int = 1000,
               batch_size: int = 8192) -> SeriesAdjusted:
    """``model`` with both terms fitted on the validation split (module docstring)."""
    if model.inductive:
        raise ValueError(f"model {model.name!r} scores known users from their ratings: the term has no ID path")
    model.eval()
    ctx = ModelContext.from_processed(data)
    pred = predict_split(model, data.train)
    residuals = KnownResiduals(data.train.user, data.train.anime, data.train.rating - pred, data.n_anime)
    probe = SeriesAdjusted(model, ctx, SeriesTerm(), SeriesTerm(), residuals)
    total, weight = residuals.related(probe.rel_idx, probe.rel_w, data.val.user, data.val.anime)
    known = fit_term(total, weight, data.val.rating - predict_split(model, data.val, batch_size))
    history = _fit_history(probe, data, max_users, seed, batch_size)
    return SeriesAdjusted(model, ctx, known, history, residuals)
