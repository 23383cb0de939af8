"""Ranking-only references on the implicit "who rated what" signal: most-popular and EASE.

Both rank the whole catalog (:meth:`RatingModel.score_catalog`) and predict no rating
(``predicts_ratings = False``: no RMSE; the trainer and the evaluator report null there).
Both are fitted in closed form (:meth:`RatingModel.fit_closed_form`) and need no user ID
parameter: a user is the set of anime they rated, whatever the ratings.

* ``most_popular``: every user gets the catalog ordered by training-rating count, ties by the
  catalog's own popularity (members; unknown counts as the least), then the lower anime index; so
  anime without training ratings come last, as a popularity chart of what nobody rated yet.
* ``ease``: Steck, "Embarrassingly Shallow Autoencoders for Sparse Data" (WWW 2019). On the
  binary user x anime training matrix ``X`` (anime with >= 1 training rating only),
  ``P = (X^T X + reg I)^-1`` and ``B = I - P diagMat(1 / diag(P))`` (so ``diag(B) = 0``); a user
  with binary row ``x_u`` scores ``x_u B``. A known user's row is their whole training row; a
  new user's is the query's history. Anime without training ratings score ``-inf`` (EASE
  knows nothing about them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from gnn.graph.cooccurrence import gram
from gnn.graph.ease import binary_rows, ease_weights
from gnn.graph.features import FEATURE_NAMES
from gnn.models.base import Batch, ModelContext, RatingModel, UserQuery
from gnn.models.registry import register


class RankingOnly(RatingModel):
    """Shared parts of the ranking-only references: no rating, closed-form fit, no user parameters."""

    predicts_ratings = False
    inductive = True

    def forward(self, batch: Batch) -> torch.Tensor:
        raise NotImplementedError(f"{self.name} is a ranking-only reference: it predicts no rating "
                                  "(use score_catalog)")


def catalog_popularity(graph) -> torch.Tensor:
    """``[n_anime]`` the anime features' popularity column (z-scored log members), unknown -> below every known."""
    x = graph["anime"].x
    pop = x[:, FEATURE_NAMES.index("popularity")].clone()
    unknown = x[:, FEATURE_NAMES.index("popularity_missing")] > 0
    pop[unknown] = (pop[~unknown].min() - 1.0) if (~unknown).any() else 0.0
    return pop


@dataclass(frozen=True)
class MostPopularConfig:
    pass


@register("most_popular", MostPopularConfig)
class MostPopular(RankingOnly):
    """``score[a] = n_anime - position of a`` in the order (training count desc, catalog popularity desc,
    index asc): exact ties broken."""

    def __init__(self, ctx: ModelContext, config: MostPopularConfig) -> None:
        super().__init__(ctx)
        self.config = config
        self.register_buffer("count", torch.zeros(self.n_anime, dtype=torch.long))
        self.register_buffer("score", torch.zeros(self.n_anime))
        self.register_buffer("members", catalog_popularity(ctx.graph), persistent=False)   # the tie-break

    @torch.no_grad()
    def fit_closed_form(self, train) -> bool:
        self.count = torch.bincount(train.anime.long(), minlength=self.n_anime)[: self.n_anime].to(self.count)
        self.count[0] = 0
        anime = torch.arange(1, self.n_anime)
        order = anime[torch.sort(-self.members[1:], stable=True).indices]                        # members desc, index asc
        order = order[torch.sort(-self.count[order], stable=True).indices]              # count first
        score = torch.full((self.n_anime,), -math.inf)
        score[order] = torch.arange(len(order), 0, -1, dtype=torch.float32)
        self.score = score.to(self.score.device)
        return True

    @torch.no_grad()
    def score_catalog(self, query: UserQuery, chunk: int = 65536) -> torch.Tensor:
        return self.score[None, :].expand(len(query), -1).clone()


@dataclass(frozen=True)
class EASEConfig:
    reg: float = 100.0       # lambda of Steck (2019): L2 on B, added to the diagonal of X^T X

    def __post_init__(self) -> None:
        if not (self.reg > 0 and math.isfinite(self.reg)):
            raise ValueError(f"ease reg must be a positive number, got {self.reg}")


@register("ease", EASEConfig)
class EASE(RankingOnly):
    """EASE (module docstring). Buffers: ``item_idx`` [m] (anime with training ratings, ascending),
    ``item_pos`` [n_anime] (position in ``item_idx``, -1 elsewhere), ``B`` [m, m] float32, and the
    training rows as CSR (``user_ptr`` [n_users + 1], ``user_items`` positions in ``item_idx``)."""

    _SIZED = ("item_idx", "B", "user_items")

    def __init__(self, ctx: ModelContext, config: EASEConfig) -> None:
        super().__init__(ctx)
        self.config = config
        self.register_buffer("item_idx", torch.zeros(0, dtype=torch.long))
        self.register_buffer("item_pos", torch.full((self.n_anime,), -1, dtype=torch.long))
        self.register_buffer("B", torch.zeros(0, 0))
        self.register_buffer("user_ptr", torch.zeros(int(ctx.n_users) + 1, dtype=torch.long))
        self.register_buffer("user_items", torch.zeros(0, dtype=torch.long))

    @torch.no_grad()
    def fit_closed_form(self, train) -> bool:
        n_users = len(self.user_ptr) - 1
        user, anime, self.item_idx, self.item_pos = binary_rows(train.user, train.anime, self.n_anime)
        pos = self.item_pos[anime]
        self.user_ptr = torch.zeros(n_users + 1, dtype=torch.long)
        self.user_ptr[1:] = torch.bincount(user, minlength=n_users)[:n_users].cumsum(0)
        self.user_items = pos                                   # binary_rows sorts by user, then anime
        self.B = ease_weights(gram(user, pos, n_users, len(self.item_idx)), self.config.reg).float()
        return True

    def _rows(self, query: UserQuery) -> torch.Tensor:
        """Binary rows ``[U, m]``: a known user's training row, else the query's history."""
        m = len(self.item_idx)
        x = torch.zeros(len(query), m + 1, device=self.B.device)             # column m collects "not an item"
        pos = self.item_pos[query.hist_anime.clamp(0, self.n_anime - 1)]
        pos = torch.where((query.hist_anime > 0) & (pos >= 0), pos, m)
        x.scatter_(1, pos, 1.0)
        for row in (query.user > 0).nonzero().squeeze(1).tolist():
            u = int(query.user[row])
            x[row] = 0.0
            x[row, self.user_items[self.user_ptr[u]:self.user_ptr[u + 1]]] = 1.0
        return x[:, :m]

    @torch.no_grad()
    def score_catalog(self, query: UserQuery, chunk: int = 65536) -> torch.Tensor:
        out = torch.full((len(query), self.n_anime), -math.inf, device=self.B.device)
        if len(self.item_idx):
            out[:, self.item_idx] = self._rows(query) @ self.B
        return out
