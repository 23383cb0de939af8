"""Classic reference recommenders behind the same interface as the neural models.

* ``global_mean``: predicts the training mean (closed form).
* ``biases``: ``mu + b_u + b_i`` with L2-regularized biases.
* ``mf``: biased matrix factorization (SVD-style, Funk/Koren): ``mu + b_u + b_i + p_u . q_i``.

New users are folded in from a history without retraining: the user bias is
the shrunk mean residual ``sum(r - mu - b_i) / (n + shrink)``, and for ``mf``
the user factor is the ridge solution on the history's item factors.
Regularization strengths are tuned on the validation split (see benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gnn.models.base import Batch, ModelContext, RatingModel
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
        return torch.zeros(batch.anime.shape[0])

    def fit_closed_form(self, train) -> bool:
        return True


@dataclass(frozen=True)
class BiasesConfig:
    reg: float = 1e-2            # L2 on the biases (added to the loss)
    shrink: float = 5.0          # fold-in shrinkage for a history-built user bias


def _history_mask(batch: Batch) -> torch.Tensor:
    """``[B, L]`` true where a history entry is real and not the row's target anime."""
    assert batch.hist_anime is not None
    return (batch.hist_anime > 0) & (batch.hist_anime != batch.anime[:, None])


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
        mask = _history_mask(batch).float()
        resid = (batch.hist_rating - self.item_bias(batch.hist_anime).squeeze(-1)) * mask
        return resid.sum(1) / (mask.sum(1) + self.config.shrink)

    def user_bias_for(self, batch: Batch) -> torch.Tensor:
        b_u = self.user_bias(batch.user).squeeze(-1)
        if batch.use_history is not None and batch.use_history.any():
            b_u = torch.where(batch.use_history, self.folded_user_bias(batch), b_u)
        return b_u

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.user_bias_for(batch) + self.item_bias(batch.anime).squeeze(-1)

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
        """Ridge regression of the history residuals on the history's item factors, ``[B, dim]``."""
        mask = _history_mask(batch).float()[..., None]
        q = self.item_factor(batch.hist_anime) * mask                          # [B, L, d]
        resid = batch.hist_rating - b_u[:, None] - self.item_bias(batch.hist_anime).squeeze(-1)
        eye = torch.eye(q.shape[-1]) * self.config.shrink
        gram = q.transpose(1, 2) @ q + eye                                    # [B, d, d]
        rhs = (q * resid[..., None]).sum(1, keepdim=True).transpose(1, 2)    # [B, d, 1]
        return torch.linalg.solve(gram, rhs).squeeze(-1)

    def forward(self, batch: Batch) -> torch.Tensor:
        b_u = self.user_bias_for(batch)
        p_u = self.user_factor(batch.user)
        if batch.use_history is not None and batch.use_history.any():
            p_u = torch.where(batch.use_history[:, None], self.folded_user_factor(batch, b_u), p_u)
        q_i = self.item_factor(batch.anime)
        return b_u + self.item_bias(batch.anime).squeeze(-1) + (p_u * q_i).sum(-1)

    def regularization(self, batch: Batch) -> torch.Tensor:
        reg = self.user_factor(batch.user).pow(2).sum(-1).mean() + self.item_factor(batch.anime).pow(2).sum(-1).mean()
        return super().regularization(batch) + self.config.reg * reg
