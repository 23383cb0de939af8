"""Cold-item references: rating models that score every catalog anime, rated in training or not.

* ``content_prior``: ``mu + b_u + b_i`` where each anime's bias shrinks toward a prior
  regressed from its catalog fields instead of toward 0::

      b_i = (sum_u (z_ui - b_u) + reg_item * prior_i) / (n_i + reg_item)

  so an anime nobody rated (``n_i = 0``) gets exactly its prior. ``prior_i = f_i . beta`` is a
  ridge regression on the anime node features of :mod:`gnn.graph.features` (z-scored
  log-popularity, average score, year, log-episodes, their missing flags, the format one-hot;
  with ``squares`` also the squares of the four numbers), fitted on the warm anime's mean
  residual ``sum_u (z_ui - b_u) / n_i`` weighted by its reliability ``n_i / (n_i + reg_item)``.
  Biases, prior and user biases alternate for ``iters`` passes, user biases last, so a
  known user's fold-in from their own training ratings reproduces their bias.
* ``content_knn``: the same biases plus the user's residuals on the ``k`` anime most
  similar in content (:mod:`gnn.models.content`: genres, tags, studios, relations) among
  those the user rated::

      z_ui = b_u + b_i + sum_j s_ij e_uj / (sum_j s_ij + shrinkage),   e_uj = z_uj - b_u - b_j

  Only anime with training ratings can be neighbours; each anime keeps its
  ``max_neighbors`` most similar ones, and the first ``k`` of those the user rated count.
  ``shrinkage`` pulls a user with few or weak neighbours back to the prior.

The ``user_bias`` reference is the existing ``biases`` model: an anime without training
ratings never gets a gradient, so its ``b_i`` stays at its initial 0 (``mu + b_u``).
New users are folded in from a history without retraining:
``b_u = sum (z - b_i) / (n + reg_user)`` over the history (a history entry equal to the
scored anime is left out, as everywhere), residuals and neighbours from the same history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from gnn.graph.features import FEATURE_NAMES
from gnn.models.base import Batch, ModelContext, RatingModel, UserQuery
from gnn.models.content import content_vectors, top_neighbors
from gnn.models.registry import register

_NUMERIC = [FEATURE_NAMES.index(n) for n in ("popularity", "average_score", "year", "episodes")]


@dataclass(frozen=True)
class ContentPriorConfig:
    reg_item: float = 25.0   # pseudo-ratings at the prior in each anime's bias (0 ratings: the prior itself)
    reg_user: float = 5.0    # user bias = sum(z - b_i) / (n_u + reg_user); the fold-in uses it too
    ridge: float = 1.0       # L2 on the prior's feature weights (not its intercept)
    squares: bool = True     # add the squares of the four numeric features (score, popularity, year, episodes)
    iters: int = 10          # alternating passes over item biases, prior and user biases

    def __post_init__(self) -> None:
        if self.reg_item <= 0 or min(self.reg_user, self.ridge) < 0 or self.iters < 1:
            raise ValueError("reg_item must be > 0 (an unrated anime's bias is its prior), "
                             "reg_user and ridge >= 0, iters >= 1")


def prior_features(x: torch.Tensor, squares: bool) -> torch.Tensor:
    """``[n_anime, 1 + F (+ 4)]``: an intercept column, the node features, optionally the squared numbers."""
    cols = [torch.ones(x.shape[0], 1, dtype=torch.float64), x.double()]
    if squares and x.shape[1] == len(FEATURE_NAMES):
        cols.append(x[:, _NUMERIC].double() ** 2)
    return torch.cat(cols, 1)


def ridge_fit(features: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, ridge: float) -> torch.Tensor:
    """Weighted ridge ``argmin sum w (f . beta - t)^2 + ridge |beta[1:]|^2`` (column 0, the intercept, is free)."""
    penalty = torch.full((features.shape[1],), float(ridge), dtype=torch.float64)
    penalty[0] = 0.0
    gram = features.t() @ (features * weight[:, None]) + torch.diag(penalty)
    rhs = features.t() @ (weight * target)
    return torch.linalg.lstsq(gram, rhs[:, None]).solution.squeeze(1)


def _history_mask(batch: Batch) -> torch.Tensor:
    assert batch.hist_anime is not None and batch.hist_rating is not None, "history rows need a history"
    return (batch.hist_anime > 0) & (batch.hist_anime != batch.anime[:, None])


@register("content_prior", ContentPriorConfig)
class ContentPrior(RatingModel):
    """User bias + item bias shrunk toward a catalog-field prior (closed form)."""

    def __init__(self, ctx: ModelContext, config: ContentPriorConfig) -> None:
        super().__init__(ctx)
        self.config = config
        self._features = prior_features(ctx.graph["anime"].x, config.squares)  # fit-time only
        self.register_buffer("user_bias", torch.zeros(ctx.n_users))
        self.register_buffer("item_bias", torch.zeros(ctx.n_anime))
        self.register_buffer("prior", torch.zeros(ctx.n_anime))
        self.register_buffer("prior_coef", torch.zeros(self._features.shape[1]))

    @torch.no_grad()
    def fit_closed_form(self, train) -> bool:
        cfg = self.config
        u, i = train.user.long(), train.anime.long()
        z = self.normalize(train.rating.float()).double()
        n_u = torch.bincount(u, minlength=len(self.user_bias)).double()
        n_i = torch.bincount(i, minlength=self.n_anime).double()
        warm = n_i > 0
        warm[0] = False
        b_u = torch.zeros(len(self.user_bias), dtype=torch.float64)
        for _ in range(cfg.iters):
            resid_sum = torch.zeros(self.n_anime, dtype=torch.float64).index_add_(0, i, z - b_u[u])
            coef = ridge_fit(self._features[warm], resid_sum[warm] / n_i[warm],
                             n_i[warm] / (n_i[warm] + cfg.reg_item), cfg.ridge)
            prior = self._features @ coef
            prior[0] = 0.0
            b_i = (resid_sum + cfg.reg_item * prior) / (n_i + cfg.reg_item).clamp(min=1e-12)
            b_u = torch.zeros_like(b_u).index_add_(0, u, z - b_i[i]) / (n_u + cfg.reg_user).clamp(min=1e-12)
        self.user_bias.copy_(b_u)
        self.item_bias.copy_(b_i)
        self.prior.copy_(prior)
        self.prior_coef.copy_(coef)
        return True

    def folded_user_bias(self, batch: Batch) -> torch.Tensor:
        mask = _history_mask(batch).float()
        y = (batch.hist_rating - self.item_bias[batch.hist_anime]) * mask
        return y.sum(1) / (mask.sum(1) + self.config.reg_user).clamp(min=1e-12)

    def user_bias_for(self, batch: Batch) -> torch.Tensor:
        b_u = self.user_bias[batch.user]
        if batch.use_history is not None and bool(batch.use_history.any()):
            b_u = torch.where(batch.use_history, self.folded_user_bias(batch), b_u)
        return b_u

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.user_bias_for(batch) + self.item_bias[batch.anime]


@dataclass(frozen=True)
class ContentKNNConfig(ContentPriorConfig):
    k: int = 10                   # neighbours per prediction: the k most similar anime the user rated
    max_neighbors: int = 200      # neighbours kept per anime (the most similar rated-in-training anime)
    shrinkage: float = 0.7        # added to the similarity sum: few or weak neighbours fall back to the prior
    genre_weight: float = 0.5     # weights of the four kinds of content in the similarity
    tag_weight: float = 1.0
    studio_weight: float = 1.0
    relation_weight: float = 8.0  # franchise first: a sequel's best guide is how the user took the series
    idf: bool = True              # rare genres, tags and companies count more

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.k < 1 or self.max_neighbors < 1 or self.shrinkage < 0:
            raise ValueError("k and max_neighbors must be >= 1 and shrinkage >= 0")


@register("content_knn", ContentKNNConfig)
class ContentKNN(ContentPrior):
    """:class:`ContentPrior` plus the user's residuals on content-similar anime they rated."""

    _SIZED = ("train_keys", "train_y")  # buffers whose length is only known after the fit

    def __init__(self, ctx: ModelContext, config: ContentKNNConfig) -> None:  # type: ignore[override]
        super().__init__(ctx, config)
        self.config: ContentKNNConfig = config
        self._content = (ctx.tables, ctx.n_genres, ctx.n_tags, ctx.n_studios)  # fit-time only
        m = min(config.max_neighbors, max(ctx.n_anime - 1, 1))
        self.register_buffer("nbr_idx", torch.zeros(ctx.n_anime, m, dtype=torch.long))
        self.register_buffer("nbr_sim", torch.zeros(ctx.n_anime, m))
        self.register_buffer("train_keys", torch.zeros(0, dtype=torch.long))  # sorted user * n_anime + anime
        self.register_buffer("train_y", torch.zeros(0))                       # z - b_i of those ratings

    @torch.no_grad()
    def fit_closed_form(self, train) -> bool:
        super().fit_closed_form(train)
        u, i = train.user.long(), train.anime.long()
        keys = u * self.n_anime + i
        order = torch.argsort(keys)
        self.train_keys = keys[order]
        self.train_y = (self.normalize(train.rating.float()) - self.item_bias[i])[order]
        cfg = self.config
        tables, n_genres, n_tags, n_studios = self._content
        weights = {"genre": cfg.genre_weight, "tag": cfg.tag_weight, "studio": cfg.studio_weight,
                   "relation": cfg.relation_weight}
        vectors = content_vectors(tables, n_genres, n_tags, n_studios, weights, cfg.idf)
        warm = torch.unique(i)
        idx, sim = top_neighbors(vectors, warm[warm > 0], self.nbr_idx.shape[1])
        self.nbr_idx.copy_(idx)
        self.nbr_sim.copy_(sim)
        return True

    def _blend(self, sim: torch.Tensor, y: torch.Tensor, hit: torch.Tensor, b_u: torch.Tensor) -> torch.Tensor:
        """``sum s (y - b_u) / (sum s + shrinkage)`` over the first ``k`` hits (lists: most similar first)."""
        keep = hit & (hit.cumsum(-1) <= self.config.k) & (sim > 0)
        w = torch.where(keep, sim, 0.0)
        total = w.sum(-1)
        num = (w * y).sum(-1) - b_u * total
        return torch.where(total > 0, num / (total + self.config.shrinkage).clamp(min=1e-12), 0.0)

    def _known(self, user: torch.Tensor, anime: torch.Tensor) -> torch.Tensor:
        b_u = self.user_bias[user]
        base = b_u + self.item_bias[anime]
        if len(self.train_keys) == 0:
            return base
        nbr, sim = self.nbr_idx[anime], self.nbr_sim[anime]
        keys = user[:, None] * self.n_anime + nbr
        pos = torch.searchsorted(self.train_keys, keys).clamp(max=len(self.train_keys) - 1)
        hit = (self.train_keys[pos] == keys) & (nbr > 0)
        return base + self._blend(sim, self.train_y[pos], hit, b_u)

    def _from_history(self, batch: Batch) -> torch.Tensor:
        mask = _history_mask(batch)
        b_u = self.folded_user_bias(batch)
        y = batch.hist_rating - self.item_bias[batch.hist_anime]                 # [B, L]
        nbr, sim = self.nbr_idx[batch.anime], self.nbr_sim[batch.anime]           # [B, m]
        match = (nbr[:, None, :] == batch.hist_anime[:, :, None]) & mask[..., None] & (nbr[:, None, :] > 0)
        count = match.sum(1)                                                      # repeats are averaged
        nbr_y = (match * y[..., None]).sum(1) / count.clamp(min=1)
        return b_u + self.item_bias[batch.anime] + self._blend(sim, nbr_y, count > 0, b_u)

    def forward(self, batch: Batch) -> torch.Tensor:
        history = batch.use_history is not None and bool(batch.use_history.any())
        width = self.nbr_idx.shape[1] * (batch.hist_anime.shape[1] if history else 1)  # type: ignore[union-attr]
        rows = max(1, (1 << 22) // max(width, 1))  # bounds the [rows, L, neighbours] temporaries
        out = []
        for s in range(0, len(batch.anime), rows):
            part = Batch(**{k: (v[s:s + rows] if v is not None else None) for k, v in batch.__dict__.items()})
            pred = self._known(part.user, part.anime)
            if history and bool(part.use_history.any()):  # type: ignore[union-attr]
                pred = torch.where(part.use_history, self._from_history(part), pred)  # type: ignore[arg-type]
            out.append(pred)
        return torch.cat(out) if out else torch.zeros(0, device=self.device)

    @torch.no_grad()
    def score_catalog(self, query: UserQuery, chunk: int = 1 << 23) -> torch.Tensor:
        """As :meth:`RatingModel.score_catalog` (the same numbers as :meth:`predict`), computed per user
        over the whole catalog at once: each user's ratings as a dense ``[n_anime]`` row, gathered
        through the neighbour lists."""
        self.eval()
        out = torch.full((len(query), self.n_anime), -math.inf, device=self.device)
        per = max(1, chunk // max(self.nbr_idx.numel(), 1))
        for s in range(0, len(query), per):
            q = query.rows(s, s + per)
            y_sum, count, b_u = self._dense_users(q)
            y = y_sum / count.clamp(min=1)
            flat = self.nbr_idx.reshape(-1)
            shape = (len(q), *self.nbr_idx.shape)
            hit = (count[:, flat] > 0).view(shape) & (self.nbr_idx > 0)
            blend = self._blend(self.nbr_sim.expand(shape), y[:, flat].view(shape), hit, b_u)
            out[s:s + len(q), 1:] = self.denormalize(b_u + self.item_bias + blend)[:, 1:]
        return out

    def _dense_users(self, q: UserQuery) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(y_sum, count, b_u)``, each ``[U, n_anime]``: summed ``z - b_i`` and counts of each user's
        ratings per anime, and the user bias used when scoring each anime (a history's fold-in leaves
        the scored anime out)."""
        n = self.n_anime
        y_sum = torch.zeros(len(q), n, device=self.device)
        count = torch.zeros(len(q), n, device=self.device)
        b_u = self.user_bias[q.user][:, None].expand(-1, n).clone()
        for row, user in enumerate(q.user.tolist()):
            if user > 0:
                lo, hi = torch.searchsorted(self.train_keys, torch.tensor([user * n, (user + 1) * n],
                                                                          device=self.device)).tolist()
                anime = self.train_keys[lo:hi] - user * n
                y_sum[row, anime] = self.train_y[lo:hi]
                count[row, anime] = 1.0
            else:
                valid = q.hist_anime[row] > 0
                a = q.hist_anime[row][valid]
                y = q.hist_rating[row][valid] - self.item_bias[a]
                y_sum[row].index_add_(0, a, y)
                count[row].index_add_(0, a, torch.ones_like(y))
                b_u[row] = (y.sum() - y_sum[row]) / (len(a) - count[row] + self.config.reg_user).clamp(min=1e-12)
        return y_sum, count, b_u
