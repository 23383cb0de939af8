"""Classic reference recommenders behind the same interface as the neural models.

* ``global_mean``: predicts the training mean (closed form).
* ``biases``: ``mu + b_u + b_i`` with L2-regularized biases.
* ``mf``: biased matrix factorization (SVD-style, Funk/Koren): ``mu + b_u + b_i + p_u . q_i``.
* ``item_knn`` (:mod:`gnn.models.item_knn`): item-based kNN on the residuals of a regularized
  baseline (Koren's "kNN baseline"), closed form: shrunk similarities, no gradient steps.

New users are folded in from a history without retraining: the user bias is
the shrunk mean residual ``sum(r - mu - b_i) / (n + shrink)``, and for ``mf``
the user factor is the ridge solution on the history's item factors; ``item_knn`` folds
in the bias the same way and takes the neighbours from the history.
Regularization strengths are tuned on the validation split (see benchmarks).
:meth:`RatingModel.score_catalog` folds a history user in once for the whole catalog
(:func:`rescore_history` keeps the numbers those of the pair-by-pair default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from gnn.models.base import Batch, ModelContext, RatingModel, UserQuery
from gnn.models.registry import register


@dataclass(frozen=True)
class GlobalMeanConfig:
    pass


@register("global_mean", GlobalMeanConfig)
class GlobalMean(RatingModel):
    """Every prediction is the training mean: normalized 0 (the data is centered on it)."""

    def __init__(self, ctx: ModelContext, config: GlobalMeanConfig) -> None:
        super().__init__(ctx)
        self.config = config

    def forward(self, batch: Batch) -> torch.Tensor:
        return torch.zeros(batch.anime.shape[0], device=batch.anime.device)

    def fit_closed_form(self, train) -> bool:
        return True


@dataclass(frozen=True)
class BiasesConfig:
    reg: float = 1e-2            # L2 on the biases (added to the loss)
    shrink: float = 5.0          # fold-in shrinkage for a history-built user bias


def history_mask(batch: Batch) -> torch.Tensor:
    """``[B, L]`` true where a history entry is real and not the row's target anime."""
    assert batch.hist_anime is not None
    return (batch.hist_anime > 0) & (batch.hist_anime != batch.anime[:, None])


def rescore_history(model: RatingModel, out: torch.Tensor, query: UserQuery, rows: torch.Tensor) -> None:
    """Give the history anime of the ``rows`` users (bool ``[U]``) the pair path's prediction.

    A whole-catalog shortcut folds a history user in once, from their whole history; the pair path
    leaves the scored anime's own history entry out. Only those anime differ, so they are rescored
    here and a shortcut gives the default :meth:`RatingModel.score_catalog`'s numbers.
    """
    r, c = ((query.hist_anime > 0) & rows[:, None]).nonzero(as_tuple=True)
    if len(r):
        anime = query.hist_anime[r, c]
        pair = Batch(user=query.user[r], anime=anime, hist_anime=query.hist_anime[r], hist_rating=query.hist_rating[r],
                     use_history=torch.ones(len(r), dtype=torch.bool, device=anime.device))
        out[r, anime] = model.predict(pair).to(out)


@register("biases", BiasesConfig)
class Biases(RatingModel):
    def __init__(self, ctx: ModelContext, config: BiasesConfig) -> None:
        super().__init__(ctx)
        self.config = config
        self.user_bias = nn.Embedding(ctx.n_users, 1)
        self.item_bias = nn.Embedding(ctx.n_anime, 1)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)

    def folded_user_bias(self, batch: Batch) -> torch.Tensor:
        mask = history_mask(batch).float()
        resid = (batch.hist_rating - self.item_bias(batch.hist_anime).squeeze(-1)) * mask
        return resid.sum(1) / (mask.sum(1) + self.config.shrink)

    def user_bias_for(self, batch: Batch) -> torch.Tensor:
        b_u = self.user_bias(batch.user).squeeze(-1)
        if batch.use_history is not None and batch.use_history.any():
            b_u = torch.where(batch.use_history, self.folded_user_bias(batch), b_u)
        return b_u

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.user_bias_for(batch) + self.item_bias(batch.anime).squeeze(-1)

    def _catalog_z(self, batch: Batch) -> torch.Tensor:
        """Normalized predictions ``[U, n_anime]`` of every anime for each row's user (``batch.anime`` unused)."""
        return self.user_bias_for(batch)[:, None] + self.item_bias.weight[:, 0][None, :]

    @torch.no_grad()
    def score_catalog(self, query: UserQuery, chunk: int = 65536) -> torch.Tensor:
        """The default's predicted ratings, with a history user folded in once, not once per anime."""
        self.eval()
        hist = self.inductive | (query.user == 0)
        batch = Batch(user=query.user, anime=torch.zeros_like(query.user), hist_anime=query.hist_anime,
                      hist_rating=query.hist_rating, use_history=hist)
        out = self.denormalize(self._catalog_z(batch))
        out[:, 0] = -math.inf
        rescore_history(self, out, query, hist)
        return out

    def regularization(self, batch: Batch) -> torch.Tensor:
        reg = self.user_bias(batch.user).pow(2).mean() + self.item_bias(batch.anime).pow(2).mean()
        return self.config.reg * reg


@dataclass(frozen=True)
class MFConfig:
    dim: int = 32
    reg: float = 5e-2            # L2 on the factors of the batch rows (added to the loss)
    shrink: float = 5.0          # ridge strength of the fold-in for new users
    init_std: float = 0.05


@register("mf", MFConfig)
class BiasedMF(Biases):
    def __init__(self, ctx: ModelContext, config: MFConfig) -> None:  # type: ignore[override]
        super().__init__(ctx, BiasesConfig(reg=config.reg, shrink=config.shrink))
        self.config = config  # type: ignore[assignment]
        self.user_factor = nn.Embedding(ctx.n_users, config.dim)
        self.item_factor = nn.Embedding(ctx.n_anime, config.dim)
        nn.init.normal_(self.user_factor.weight, std=config.init_std)
        nn.init.normal_(self.item_factor.weight, std=config.init_std)

    def folded_user_factor(self, batch: Batch, b_u: torch.Tensor) -> torch.Tensor:
        r"""Ridge regression of the history residuals on the history's item factors, ``[B, dim]``:
        :math:`p = (Q^\top Q + \lambda I_d)^{-1} Q^\top r`.

        When the history is shorter than ``dim`` the same vector is solved in its ``L x L`` form,
        :math:`p = Q^\top (Q Q^\top + \lambda I_L)^{-1} r` (the push-through identity): ``O(L^2 d)``
        a row instead of ``O(d^3)``, which is what made large ``dim`` slow to train.
        """
        mask = history_mask(batch).float()
        q = self.item_factor(batch.hist_anime) * mask[..., None]                # [B, L, d]
        resid = (batch.hist_rating - b_u[:, None] - self.item_bias(batch.hist_anime).squeeze(-1)) * mask
        length, dim = q.shape[1], q.shape[2]
        if length < dim:
            eye = torch.eye(length, device=q.device) * self.config.shrink
            alpha = torch.linalg.solve(q @ q.transpose(1, 2) + eye, resid[..., None])  # [B, L, 1]
            return (q.transpose(1, 2) @ alpha).squeeze(-1)
        eye = torch.eye(dim, device=q.device) * self.config.shrink
        gram = q.transpose(1, 2) @ q + eye                                    # [B, d, d]
        rhs = q.transpose(1, 2) @ resid[..., None]                            # [B, d, 1]
        return torch.linalg.solve(gram, rhs).squeeze(-1)

    def _user_vectors(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """``(b_u [B], p_u [B, dim])``: ID embeddings, or the fold-in for the history rows."""
        b_u = self.user_bias_for(batch)
        p_u = self.user_factor(batch.user)
        if batch.use_history is not None and batch.use_history.any():
            # Solve only for the history rows: the batched ridge solve dominates the step otherwise.
            rows = batch.use_history.nonzero().squeeze(1)
            sub = Batch(user=batch.user[rows], anime=batch.anime[rows], hist_anime=batch.hist_anime[rows],
                        hist_rating=batch.hist_rating[rows])
            p_u = p_u.index_put((rows,), self.folded_user_factor(sub, b_u[rows]))
        return b_u, p_u

    def forward(self, batch: Batch) -> torch.Tensor:
        b_u, p_u = self._user_vectors(batch)
        q_i = self.item_factor(batch.anime)
        return b_u + self.item_bias(batch.anime).squeeze(-1) + (p_u * q_i).sum(-1)

    def _catalog_z(self, batch: Batch) -> torch.Tensor:
        b_u, p_u = self._user_vectors(batch)
        return b_u[:, None] + self.item_bias.weight[:, 0][None, :] + p_u @ self.item_factor.weight.t()

    def regularization(self, batch: Batch) -> torch.Tensor:
        reg = self.user_factor(batch.user).pow(2).sum(-1).mean() + self.item_factor(batch.anime).pow(2).sum(-1).mean()
        return super().regularization(batch) + self.config.reg * reg
