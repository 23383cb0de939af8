"""``item_knn``: item-based kNN on the residuals of a regularized baseline (Koren's "kNN baseline").

Closed form: ALS biases, then shrunk cosine similarities of the residuals, the best kept per
anime; no gradient steps. New users are folded in from a history: the bias as in
:mod:`gnn.models.classic`, the neighbours taken from the history.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch

from gnn.models.base import Batch, ModelContext, RatingModel, UserQuery
from gnn.models.classic import history_mask, rescore_history
from gnn.models.registry import register


@dataclass(frozen=True)
class ItemKNNConfig:
    k: int = 40                  # neighbours per prediction: the k most similar anime the user rated
    max_neighbors: int = 100     # similarities kept per anime (the most similar, positive only)
    shrinkage: float = 100.0     # similarity x n_common / (n_common + shrinkage)
    min_support: int = 2         # pairs with fewer common users get similarity 0
    reg_item: float = 10.0       # baseline item bias = sum(z - b_u) / (reg_item + n_i)
    reg_user: float = 15.0       # baseline user bias = sum(z - b_i) / (reg_user + n_u); the fold-in uses it too
    bias_iters: int = 10         # alternating least-squares passes of the baseline (0: no biases)
    neighbor_reg: float = 0.5    # added to the similarity sum: few or weak neighbours fall back to the baseline


@register("item_knn", ItemKNNConfig)
class ItemKNNBaseline(RatingModel):
    """Item-based kNN on baseline residuals (Koren 2010, "KNNBaseline"), fitted in closed form.

    ``z_ui ~ b_u + b_i + sum_j s_ij e_uj / (sum_j s_ij + neighbor_reg)`` over the (at most ``k``) anime ``j``
    most similar to ``i`` among those ``u`` rated in train, where ``e_uj = z_uj - b_u - b_j``
    and ``s_ij`` is the cosine of the residuals over the users who rated both (Pearson
    around the baseline), shrunk by ``n_ij / (n_ij + shrinkage)``; ``neighbor_reg`` is added
    to the denominator so that a user with few or weak neighbours keeps the baseline (this
    matters most for new users with 5-20 ratings). Biases come from a few
    regularized ALS passes. Only the ``max_neighbors`` best positive similarities per anime
    are kept (``nbr_idx``/``nbr_sim``), and the training residuals are stored as sorted
    ``user * n_anime + anime`` keys (``train_keys``/``train_resid``) for vectorized lookups.
    A new user's bias and residuals are folded in from the history the same way.
    """

    _SIZED = ("train_keys", "train_resid")  # buffers whose length is only known after the fit

    def __init__(self, ctx: ModelContext, config: ItemKNNConfig) -> None:
        super().__init__(ctx)
        if config.k < 1 or config.max_neighbors < 1 or config.bias_iters < 0:
            raise ValueError("k and max_neighbors must be positive, bias_iters non-negative")
        self.config = config
        self.n_anime = ctx.n_anime
        m = min(config.max_neighbors, max(ctx.n_anime - 1, 1))
        self.register_buffer("user_bias", torch.zeros(ctx.n_users))
        self.register_buffer("item_bias", torch.zeros(ctx.n_anime))
        self.register_buffer("nbr_idx", torch.zeros(ctx.n_anime, m, dtype=torch.long))
        self.register_buffer("nbr_sim", torch.zeros(ctx.n_anime, m))
        self.register_buffer("train_keys", torch.zeros(0, dtype=torch.long))
        self.register_buffer("train_resid", torch.zeros(0))

    @torch.no_grad()
    def fit_closed_form(self, train) -> bool:
        u, i = train.user.long(), train.anime.long()
        z = self.normalize(train.rating.float())
        b_u, b_i = self.user_bias.zero_(), self.item_bias.zero_()
        n_u = torch.bincount(u, minlength=len(b_u)).float()
        n_i = torch.bincount(i, minlength=len(b_i)).float()
        for _ in range(self.config.bias_iters):  # items first, users last: fold-in reproduces b_u
            b_i.copy_(torch.zeros_like(b_i).index_add_(0, i, z - b_u[u]) / (self.config.reg_item + n_i))
            b_u.copy_(torch.zeros_like(b_u).index_add_(0, u, z - b_i[i]) / (self.config.reg_user + n_u))
        resid = z - b_u[u] - b_i[i]
        self._fit_neighbors(u, i, resid)
        keys = u * self.n_anime + i
        order = torch.argsort(keys)
        self.train_keys, self.train_resid = keys[order], resid[order]
        return True

    def _fit_neighbors(self, u: torch.Tensor, i: torch.Tensor, resid: torch.Tensor) -> None:
        """Shrunk residual cosine for every anime pair, one block of columns at a time; keep each anime's best.

        Memory stays at a few ``[users or anime, block]`` dense blocks (about 2**24 floats each).
        """
        n_users, n_anime, m = len(self.user_bias), self.n_anime, self.nbr_idx.shape[1]
        order = torch.argsort(i)
        u, i, resid = u[order], i[order], resid[order]
        ptr = torch.zeros(n_anime + 1, dtype=torch.long)
        ptr[1:] = torch.bincount(i, minlength=n_anime).cumsum(0)

        def sparse(values: torch.Tensor) -> torch.Tensor:  # [anime, users], CSR
            with warnings.catch_warnings():  # "sparse CSR support is in beta"
                warnings.simplefilter("ignore", UserWarning)
                return torch.sparse_coo_tensor(torch.stack([i, u]), values, (n_anime, n_users),
                                               check_invariants=False).coalesce().to_sparse_csr()

        e, ones, e2 = sparse(resid), sparse(torch.ones_like(resid)), sparse(resid ** 2)
        block = max(1, min(n_anime, (1 << 24) // max(n_users, n_anime, 1)))
        for start in range(0, n_anime, block):
            stop = min(start + block, n_anime)
            lo, hi = int(ptr[start]), int(ptr[stop])
            cols_e = torch.zeros(n_users, stop - start)                  # residuals of this block, [users, block]
            cols_e[u[lo:hi], i[lo:hi] - start] = resid[lo:hi]
            cols_1 = torch.zeros(n_users, stop - start)
            cols_1[u[lo:hi], i[lo:hi] - start] = 1.0
            dot = e @ cols_e                                             # [anime, block]
            common = ones @ cols_1                                       # users who rated both
            sq_i = e2 @ cols_1                                           # sum of e_ui^2 over the common users
            sq_j = ones @ cols_e.pow(2)                                  # sum of e_uj^2 over the common users
            sim = dot / (sq_i * sq_j).sqrt().clamp(min=1e-12) * common / (common + self.config.shrinkage)
            sim[common < self.config.min_support] = 0.0
            sim[torch.arange(start, stop), torch.arange(stop - start)] = 0.0  # not its own neighbour
            sim[0] = 0.0                                                 # padding anime
            top = sim.topk(m, dim=0)                                     # [m, block], most similar first
            keep = top.values > 0
            self.nbr_sim[start:stop] = torch.where(keep, top.values, 0.0).t()
            self.nbr_idx[start:stop] = torch.where(keep, top.indices, 0).t()
        self.nbr_sim[0], self.nbr_idx[0] = 0.0, 0

    def _aggregate(self, sim: torch.Tensor, resid: torch.Tensor, hit: torch.Tensor) -> torch.Tensor:
        """Similarity-weighted mean residual of the first ``k`` hits (lists are sorted by similarity)."""
        keep = hit & (hit.cumsum(1) <= self.config.k) & (sim > 0)
        w = torch.where(keep, sim, 0.0)
        den = w.sum(1)
        return torch.where(den > 0, (w * resid).sum(1) / (den + self.config.neighbor_reg).clamp(min=1e-12), 0.0)

    def _known(self, user: torch.Tensor, anime: torch.Tensor) -> torch.Tensor:
        nbr, sim = self.nbr_idx[anime], self.nbr_sim[anime]                 # [B, m]
        base = self.user_bias[user] + self.item_bias[anime]
        if len(self.train_keys) == 0:
            return base
        keys = user[:, None] * self.n_anime + nbr
        pos = torch.searchsorted(self.train_keys, keys).clamp(max=len(self.train_keys) - 1)
        hit = (self.train_keys[pos] == keys) & (nbr > 0)
        return base + self._aggregate(sim, self.train_resid[pos], hit)

    def _from_history(self, batch: Batch) -> torch.Tensor:
        mask = history_mask(batch)
        hist_bias = self.item_bias[batch.hist_anime]
        maskf = mask.float()
        b_u = ((batch.hist_rating - hist_bias) * maskf).sum(1) / (maskf.sum(1) + self.config.reg_user)
        if self.config.bias_iters == 0:  # no baseline: known users have no bias either
            b_u = torch.zeros_like(b_u)
        resid = batch.hist_rating - b_u[:, None] - hist_bias                  # [B, L]
        nbr, sim = self.nbr_idx[batch.anime], self.nbr_sim[batch.anime]      # [B, m]
        match = (nbr[:, None, :] == batch.hist_anime[:, :, None]) & mask[..., None] & (nbr[:, None, :] > 0)
        count = match.sum(1)                                                 # [B, m]; repeats are averaged
        nbr_resid = (match * resid[..., None]).sum(1) / count.clamp(min=1)
        return b_u + self.item_bias[batch.anime] + self._aggregate(sim, nbr_resid, count > 0)

    def _catalog_row(self, rated: torch.Tensor, resid: torch.Tensor, b_u: torch.Tensor) -> torch.Tensor:
        """Normalized predictions ``[n_anime]`` for one user: their residuals spread over the catalog once, so
        the neighbour lookups are ``[n_anime, m]`` gathers (a repeated anime counts with its mean residual)."""
        total = torch.zeros(self.n_anime, device=resid.device).index_add_(0, rated, resid)
        count = torch.zeros(self.n_anime, device=resid.device).index_add_(0, rated, torch.ones_like(resid))
        hit = (count > 0)[self.nbr_idx] & (self.nbr_idx > 0)
        mean = total / count.clamp(min=1)
        return b_u + self.item_bias + self._aggregate(self.nbr_sim, mean[self.nbr_idx], hit)

    @torch.no_grad()
    def score_catalog(self, query: UserQuery, chunk: int = 65536) -> torch.Tensor:
        """The default's predicted ratings, one user at a time (:meth:`_catalog_row`), same numbers as :meth:`forward`."""
        out = torch.full((len(query), self.n_anime), -math.inf, device=self.item_bias.device)
        bounds = torch.searchsorted(self.train_keys, torch.stack([query.user * self.n_anime,
                                                                  (query.user + 1) * self.n_anime], 1)).tolist()
        for row, user in enumerate(query.user.tolist()):
            if user > 0:
                lo, hi = bounds[row]
                rated, z, b_u = self.train_keys[lo:hi] % self.n_anime, self.train_resid[lo:hi], self.user_bias[user]
            else:  # the fold-in of _from_history, with no target left out (rescored below)
                keep = query.hist_anime[row] > 0
                rated, z = query.hist_anime[row][keep], query.hist_rating[row][keep] - self.item_bias[query.hist_anime[row][keep]]
                b_u = z.sum() / (len(z) + self.config.reg_user) if self.config.bias_iters else torch.zeros(())
                z = z - b_u
            out[row, 1:] = self.denormalize(self._catalog_row(rated, z, b_u)[1:])
        rescore_history(self, out, query, query.user == 0)
        return out

    def forward(self, batch: Batch) -> torch.Tensor:
        history = batch.use_history is not None and bool(batch.use_history.any())
        width = self.nbr_idx.shape[1] * (batch.hist_anime.shape[1] if history else 1)  # type: ignore[union-attr]
        rows = max(1, min(16384, (1 << 22) // max(width, 1)))  # bounds the [rows, L, neighbours] temporaries
        out = []
        for s in range(0, len(batch.anime), rows):
            part = Batch(**{k: (v[s:s + rows] if v is not None else None) for k, v in batch.__dict__.items()})
            pred = self._known(part.user, part.anime)
            if history and part.use_history.any():  # type: ignore[union-attr]
                pred = torch.where(part.use_history, self._from_history(part), pred)  # type: ignore[arg-type]
            out.append(pred)
        return torch.cat(out) if out else torch.zeros(0)
