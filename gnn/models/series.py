r"""The franchise term: what a user thought of an anime's relatives, beyond what the model expected.

For a user :math:`u` and a target anime :math:`a`, let :math:`R(a)` be the anime
related to :math:`a` in the catalog graph (sequel, prequel, side story, ...,
with the relation-type weights :math:`w_{ab}` of the graph builder) that
:math:`u` has rated. The adjusted rating is

.. math::
    \hat r'_{ua} = \hat r_{ua} + \alpha \, \frac{\sum_{b \in R(a)} w_{ab}\,(r_{ub} - \hat r_{ub})}
                                               {\sum_{b \in R(a)} w_{ab} + \lambda}

where :math:`\hat r` is the model's own prediction, so the term carries over
only what the model missed: a user who rated the prequel two points above the
model's guess is likely to do the same for the sequel. The rest of the model
cannot express this: its item side is user-independent (so that it can be
precomputed for the browser) and its user side does not know which anime is
being scored. :math:`\lambda` shrinks the term when little related evidence
exists; an anime without rated relatives gets no offset.

:math:`\alpha, \lambda` are two numbers per user path, fitted on the validation
split after training (:mod:`gnn.train.series`): for a known user the residuals
are those of their training ratings under the ID embedding; for a user given
by a history (a new user, the web page) each history entry's residual is
predicted from the rest of the history (leave-one-out), as a rating never
feeds its own prediction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from gnn.models.base import Batch, ModelContext, RatingModel


@dataclass(frozen=True)
class SeriesTerm:
    """``offset = alpha * total / (weight + shrink)``; ``alpha = 0`` switches the term off."""

    alpha: float = 0.0
    shrink: float = 1.0

    def offset(self, total: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return self.alpha * total / (weight + self.shrink).clamp_min(1e-6)

    def to_dict(self) -> dict:
        return asdict(self)


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
    w = rel_w[anime] * (rel > 0)
    match = ((rel.unsqueeze(2) == hist_anime.unsqueeze(1)) & (hist_anime > 0).unsqueeze(1)).to(hist_resid.dtype)
    count = match.sum(2)                                                         # [B, R]
    resid = (match * hist_resid.unsqueeze(1)).sum(2) / count.clamp_min(1.0)
    w = w * (count > 0)
    return (w * resid).sum(1), w.sum(1)


def related_from_catalog(rel: torch.Tensor, rel_w: torch.Tensor, resid_sum: torch.Tensor,
                         resid_count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`related_from_history` for one history spread over the catalog, as the exported graph does it.

    ``rel``/``rel_w`` ``[B, R]`` are the candidates' rows of the relation table;
    ``resid_sum``/``resid_count`` ``[n_anime]`` hold each anime's residual sum and
    count in the history (0 elsewhere and at the padding row), so a batch costs
    ``O(B * R)`` gathers instead of ``O(B * R * L)`` comparisons.
    """
    count = resid_count[rel]                                                     # [B, R]
    w = rel_w * ((rel > 0) & (count > 0))
    return (w * resid_sum[rel] / count.clamp_min(1.0)).sum(1), w.sum(1)


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
        w = rel_w[anime] * ((self.keys[pos] == keys) & (rel > 0))
        return (w * self.residual[pos]).sum(1), w.sum(1)


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
