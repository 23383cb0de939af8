"""The GNN recommender: a user is their ratings, read through the graph in the light of each anime scored.

Named stages (as in PyG's ``bipartite_sage`` example):

1. **item encoder** (:class:`gnn.models.encoder.GraphEncoder`): message passing over the catalog graph
   joined to the user-anime rating graph gives every catalog anime a vector :math:`h_a` (128-d), rated
   or not; an anime nobody rated gets its vector from the graph alone (DropoutNet-style training).
   The item vector of the rating head (:mod:`gnn.models.item`) adds genre, tag and studio pools and a relation pool:
   ``[h_a 128 || genre 32 || tag 32 || studio 16 || relationship 32]`` (240-d).
2. **user encoder** (:mod:`gnn.models.user`): the (anime, rating) history -> entries; a taste vector
   for the whole catalog, and per scored anime a 64-d user vector from attention over the entries
   biased by how the catalog relates each rated anime to it (:mod:`gnn.models.pairs`). The same
   computation serves a training user (the target masked out), a held-out user, ``recommend`` and the
   web page; there is no user ID anywhere.
3. **decoders**: the rating head ``b(h_a) + w . u + o + MLP(304 -> 256 -> 128 -> 64 -> 32 -> 1)`` on
   ``[user 64 || item 240]`` ("will like"; ``b`` is the anime's bias, which the user encoder also
   subtracts from each rated anime to see where the user differs from everyone; ``w . u`` an optional
   linear path from the user vector, ``user_skip``, off by default; ``o`` the shrunk offset of the
   user's ratings over those biases, faded for long histories, ``history_offset`` and ``offset_fade``,
   :class:`gnn.models.user.ShrunkOffset`) and :class:`gnn.models.watch.WatchScore` over the catalog
   ("will watch"). The list is ordered by ``watch + like_weight * log P(rating >= like_threshold)``
   (:meth:`GNNRecommender.rank_score`), the predicted rating is shown.

Training (:meth:`GNNRecommender.loss` on :class:`TaskBatch` es from :mod:`gnn.train.tasks`): squared error
of the held-out ratings of each task plus ``watch_weight`` times the softmax cross-entropy of which
anime they are, over every catalog anime the user has not rated.
"""

from __future__ import annotations

import math
from dataclasses import fields

import torch
import torch.nn.functional as F
from torch import nn

from gnn.data.history_key import cap_history
from gnn.graph.hops import two_hop_table
from gnn.models.base import LOSSES, Batch, ModelContext, RatingModel, TaskBatch, UserQuery
from gnn.models.corated_lists import CoratedLists
from gnn.models.encoder import GraphEncoder
from gnn.models.gnn_config import GNNConfig
from gnn.models.item import ItemVectors
from gnn.models.layers import make_mlp, rows_of
from gnn.models.pairs import N_PAIR_FEATURES, AnimeTables, PairFeatures
from gnn.models.registry import register
from gnn.models.user import HistoryEntries, ShrunkOffset, TargetAttention, TasteVector
from gnn.models.watch import WatchScore, catalog_softmax_loss


@register("gnn", GNNConfig)
class GNNRecommender(RatingModel):
    r"""Inductive graph recommender: rating head ("will like") and catalog softmax ("will watch") on one graph.

    Shapes:
        - :meth:`item_state`: :math:`[n_{anime}, 128]` (row 0 = padding)
        - :meth:`rate`: targets ``[B, T]``, history ``[B, H]`` -> normalized ratings ``[B, T]``
        - :meth:`forward`: :class:`Batch` (each row with its history) -> ``[B]``
        - :meth:`score_catalog`: :class:`UserQuery` -> ranking scores ``[U, n_anime]``
    """

    inductive = True
    trains_on = "tasks"
    # The encoder runs over the whole graph once per step: 4,096 ratings (128 tasks) per step halve the
    # epoch time of 2,048 on the MAL data (measured 107 s vs 200 s per epoch, 2 CPU threads).
    # Epochs: the trainer's 20 OneCycle epochs with early stopping. On MAL every run peaked near epoch 5
    # (8 epochs: test RMSE 1.1140), but on the small genres-only sample 8 epochs under-trained
    # (test 1.1579, best epoch 8 of 8) where 20 with early stopping gave 1.1367: 8 was a MAL choice.
    train_defaults = {"batch_size": 4096}
    # Weights renamed after checkpoints were written (old name -> today's; gnn.train.checkpoint.load_state).
    RENAMED = {"unrated_offset": "watch.unrated_offset"}   # moved into WatchScore (ed355bf)

    def __init__(self, ctx: ModelContext, config: GNNConfig = GNNConfig()) -> None:
        super().__init__(ctx)
        c, t = config, ctx.tables
        self.config = config
        warm = ctx.train_count > 0 if ctx.train_count is not None else torch.ones(ctx.n_anime, dtype=torch.bool)
        self.encoder = GraphEncoder(ctx.graph, ctx.ratings, warm, ctx.n_relation_types, c.encoder_hidden,
                                    c.anime_dim, c.encoder_layers, c.encoder_dropout, c.id_dim, c.negative_slope,
                                    c.catalog_support, c.rated_popularity)
        self.item = ItemVectors(
            c.anime_dim, {"genres": ctx.n_genres, "tags": ctx.n_tags, "studios": ctx.n_studios,
                          "relation_types": ctx.n_relation_types},
            {"genre": c.genre_dim, "tag": c.tag_dim, "studio": c.studio_dim, "rel": c.rel_dim},
            {"genre": c.genre_heads, "tag": c.tag_heads, "studio": c.studio_heads, "rel": c.rel_heads})
        count = ctx.train_count if ctx.train_count is not None else (
            torch.bincount(ctx.ratings.anime, minlength=ctx.n_anime) if ctx.ratings is not None
            else torch.zeros(ctx.n_anime, dtype=torch.long))
        self.register_buffer("train_count", count.float(), persistent=False)
        r = ctx.ratings
        self.corated, corated = CoratedLists.fit(None if r is None else r.user, None if r is None else r.anime,
                                                 ctx.n_anime, c.corated_kind, c.corated_width, c.corated_min_common,
                                                 c.corated_shrink, c.ease_reg)
        tables = AnimeTables.build(t, two_hop_table(t.rel_idx.long(), t.rel_w.float(), c.two_hop_width), corated)
        for f in fields(AnimeTables):  # buffers, so that .to(device) moves them
            self.register_buffer(f"table_{f.name}", getattr(tables, f.name), persistent=False)
        self.pairs = PairFeatures(ctx.n_tags, ctx.n_genres)
        self.entries = HistoryEntries(c.anime_dim, c.history_hidden, c.negative_slope)
        self.taste = TasteVector(c.history_hidden, c.anime_dim, c.history_heads, c.negative_slope)
        self.attention = TargetAttention(c.anime_dim, c.history_hidden, c.history_heads, ctx.n_relation_types,
                                         N_PAIR_FEATURES, c.user_dim)
        self.item_dim = self.item.dim
        self.item_bias = nn.Linear(c.anime_dim, 1)   # an anime's own bias, from its graph vector
        # The user's linear part (their bias, what they thought of the anime that matter for this target,
        # as in item-kNN), outside the MLP's dropout and normalization; starts at zero.
        self.user_skip = nn.Linear(c.user_dim, 1, bias=False) if c.user_skip else None
        if self.user_skip is not None:
            nn.init.zeros_(self.user_skip.weight)
        self.offset = ShrunkOffset(fade=c.offset_fade) if c.history_offset else None
        # LayerNorm: the head computes the same in training and evaluation (measured: BatchNorm's running
        # statistics, gathered under dropout and hidden anime, put the eval RMSE 0.05 above batch statistics).
        self.mlp = make_mlp(c.user_dim + self.item_dim, c.hidden, c.dropout, c.negative_slope, norm="layer")
        unrated = (count == 0) & (torch.arange(ctx.n_anime) > 0)      # the padding anime 0 is none
        self.watch = WatchScore(c.anime_dim, ctx.n_relation_types, c.corated_scale,
                                unrated if c.unrated_watch_offset else None)
        # Residual spread of ratings around the prediction (original scale), for P(liked); tracked in training.
        self.register_buffer("residual_std", torch.tensor(1.0))
        self.like_at = ctx.rating_low + c.like_threshold * (ctx.rating_high - ctx.rating_low)
        self._state_cache: tuple[tuple, torch.Tensor] | None = None

    @property
    def scoring_history(self) -> int:
        """Ratings a scored history holds (``config.scoring_history``; training tasks hold ``max_history``)."""
        return self.config.scoring_history

    @property
    def tables(self) -> AnimeTables:
        return AnimeTables(**{f.name: getattr(self, f"table_{f.name}") for f in fields(AnimeTables)})

    def _content_vectors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every anime's unit tag and genre vectors, built once from the model's own tables."""
        key = (self.table_tag_idx.data_ptr(), self.table_tag_idx.device)
        if getattr(self, "_content_key", None) != key:
            self._content_key, self._content = key, self.pairs.content_vectors(self.tables)
        return self._content

    # -- item side ---------------------------------------------------------------------------------

    def item_state(self, edge_keep: torch.Tensor | None = None, id_keep: torch.Tensor | None = None) -> torch.Tensor:
        """Encoder output ``[n_anime, anime_dim]``; cached in eval mode without autograd until a weight changes."""
        if self.training or torch.is_grad_enabled() or edge_keep is not None or id_keep is not None:
            self._state_cache = None
            return self.encoder(edge_keep, id_keep)
        key = tuple((p.data_ptr(), p._version, p.dtype) for p in (*self.encoder.parameters(), *self.encoder.buffers()))
        if self._state_cache is None or self._state_cache[0] != key:
            self._state_cache = (key, self.encoder())
        return self._state_cache[1]

    def item_vectors(self, anime: torch.Tensor, h: torch.Tensor, t: AnimeTables | None = None) -> torch.Tensor:
        """``[..., 240]`` for anime indices ``[...]``, from the encoder output ``h`` (:class:`ItemVectors`)."""
        return self.item(anime, h, t or self.tables)

    # -- user side and heads ------------------------------------------------------------------------

    def rate(self, target: torch.Tensor, hist: torch.Tensor, hist_z: torch.Tensor, h: torch.Tensor,
             t: AnimeTables | None = None, corated: torch.Tensor | None = None) -> torch.Tensor:
        """Normalized ratings ``[B, T]`` of ``target`` for the histories ``hist``/``hist_z`` ``[B, H]``.

        A history entry equal to the target is masked, so a rating never predicts itself. ``corated``:
        the pairs' co-rated weights ``[B, T, H]`` where training adjusts them (:meth:`_training_corated`).
        """
        own = t is None
        t = t or self.tables
        mask = (hist > 0).unsqueeze(1) & (hist.unsqueeze(1) != target.unsqueeze(2))     # [B, T, H]
        h_hist, h_target = rows_of(h, hist), rows_of(h, target)
        entries = self.entries(h_hist, hist_z)
        dev = (hist_z - self.item_bias(h_hist).squeeze(-1)) * (hist > 0)               # beyond the anime's bias
        relation, feats = self.pairs(t, target, hist, self._content_vectors() if own else None, corated)
        user = self.attention(h_target, entries, hist_z, dev, mask, relation, feats)    # [B, T, user_dim]
        bias = self.item_bias(h_target).squeeze(-1)                                     # [B, T]
        if self.user_skip is not None:
            bias = bias + self.user_skip(user).squeeze(-1)
        if self.offset is not None:
            bias = bias + self.offset(dev, mask)
        x = torch.cat([user, self.item_vectors(target, h, t)], dim=-1).reshape(-1, user.shape[-1] + self.item_dim)
        if not self.training:
            return bias + self.mlp(x).view(target.shape)
        valid = (target > 0).reshape(-1)              # padding targets stay out of the head
        out = self.mlp(x[valid]).squeeze(-1)
        return bias + torch.zeros(valid.shape, dtype=x.dtype, device=x.device).masked_scatter(valid, out).view(target.shape)

    def taste_vector(self, hist: torch.Tensor, hist_z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``[B, anime_dim]``: the target-free user vector the watch score reads."""
        return self.taste(self.entries(rows_of(h, hist), hist_z), hist_z, hist > 0)

    def watch_logits(self, hist: torch.Tensor, hist_z: torch.Tensor, h: torch.Tensor,
                     keep: torch.Tensor | None = None) -> torch.Tensor:
        """``[B, n_anime]`` "will watch" logits (column 0, the padding anime, is not a candidate)."""
        return self.watch(self.tables, self.taste_vector(hist, hist_z, h), h, hist, hist_z, keep)

    def like_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        r"""``log P(rating >= like threshold)`` under a normal residual around the predicted rating.

        The normal CDF as the logistic :math:`\sigma(1.702\,x)` (within 0.01 everywhere), whose log is a
        numerically stable ``-softplus(-1.702 x)`` in float32, in PyTorch and ONNX alike (``1 + erf(x)``
        loses every digit in the lower tail).
        """
        x = (self.denormalize(z) - self.like_at) / self.residual_std.clamp_min(1e-3)
        return -F.softplus(-1.702 * x)

    def rank_score(self, watch: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The ranking score ``watch + like_weight * log P(liked)`` of anime with watch logits ``watch`` and
        normalized predicted ratings ``z`` (same shape). Never above the watch logit (``log P <= 0``)."""
        return watch + self.config.like_weight * self.like_log_prob(z)

    # -- the RatingModel interface ------------------------------------------------------------------

    def forward(self, batch: Batch) -> torch.Tensor:
        """Normalized ratings ``[B]``: each row is one target anime scored from that row's history."""
        assert batch.hist_anime is not None and batch.hist_rating is not None, \
            "the gnn model scores users from their ratings: the batch needs hist_anime/hist_rating"
        hist, z = cap_history(batch.hist_anime, batch.hist_rating, self.scoring_history)
        return self.rate(batch.anime.view(-1, 1), hist, z, self.item_state()).view(-1)

    @torch.no_grad()
    def predict_users(self, hist_anime: torch.Tensor, hist_rating: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """``[U, T]`` ratings of each user's targets; each user's history is read once."""
        hist, z = cap_history(hist_anime, hist_rating, self.scoring_history)
        return self.denormalize(self.rate(targets, hist, z, self.item_state()))

    def loss(self, batch: TaskBatch, kind: str = "mse") -> torch.Tensor:  # type: ignore[override]
        """Squared error of the targets' ratings + ``watch_weight`` x softmax cross-entropy of which they are.

        The targets' rating edges are hidden from the encoder for this step (their ratings never
        reach their own prediction through the graph), and a ``cold_drop`` share of the rated anime
        lose their ID embedding and incoming rating edges, so the graph-only path trains on them.
        """
        edge_keep, id_keep = self._step_masks(batch)
        h = self.item_state(edge_keep, id_keep)
        valid = batch.target > 0
        corated, correction = self._training_corated(batch, id_keep, h)
        z = self.rate(batch.target, batch.hist, batch.hist_z, h, corated=corated)
        err = (z - batch.target_z)[valid]
        loss = LOSSES[kind](z[valid], batch.target_z[valid])
        with torch.no_grad():  # residual spread on the original scale, for P(liked)
            self.residual_std.mul_(0.99).add_(0.01 * float(err.pow(2).mean().sqrt() * self.rating_std))
        if self.config.watch_weight > 0:
            logits = self.watch_logits(batch.hist, batch.hist_z, h, id_keep).scatter_add(1, batch.target, correction)
            loss = loss + self.config.watch_weight * catalog_softmax_loss(logits, batch.target, batch.rated)
        return loss

    def _training_corated(self, batch: TaskBatch, keep: torch.Tensor,
                          h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(pair weights [B, T, H], watch-logit correction [B, T])`` of the co-rated graph for training pairs.

        Every (target, history entry) pair of a training task was rated by that user, whose own ratings
        are in the lists' fit: the pairs weigh what they would without them
        (:meth:`CoratedLists.without_user`), as for a held-out rating; anime trained as if nobody had
        rated them (``keep`` False) have no co-rated weight.
        """
        target, hist = batch.target, batch.hist
        from_target, from_entry = self.pairs.corated_pairs(self.tables, target, hist)
        kept = (keep[target].unsqueeze(-1) & keep[hist].unsqueeze(1)).to(from_entry.dtype)    # [B, T, H]
        adj_target, adj_entry = self.corated.without_user(from_target, from_entry, batch.user, batch.rated, target,
                                                          hist, self.train_count, (self.table_co_idx, self.table_co_w))
        pairs = torch.maximum(adj_target, adj_entry) * kept
        # The watch logit of a target got from_entry pushed from each entry; it should have got adj_entry.
        delta = ((adj_entry - from_entry) * kept).transpose(1, 2)                                # [B, H, T]
        return pairs, self.watch.scale_corated(self.watch.corated_values(delta, batch.hist_z, hist).sum(1), h, target)

    def _step_masks(self, batch: TaskBatch) -> tuple[torch.Tensor | None, torch.Tensor]:
        """``(edge_keep, id_keep)`` for one training step: a ``cold_drop`` share of the anime lose their ID
        embedding and rating edges, and the step's targets their own edges (:meth:`GraphEncoder.step_edges`)."""
        id_keep = torch.rand(self.n_anime, device=self.device) >= self.config.cold_drop
        hidden = batch.target_edge[batch.target_edge >= 0]
        return self.encoder.step_edges(hidden, id_keep, self.config.encoder_rating_edges), id_keep

    # -- ranking ------------------------------------------------------------------------------------

    @torch.no_grad()
    def score_catalog(self, query: UserQuery, chunk: int = 64) -> torch.Tensor:
        """Ranking scores ``[U, n_anime]``: ``watch + log P(liked)`` for each user's ``rank_candidates``
        best anime by watch score, ``-inf`` for the rest and for the padding column.

        The score never exceeds the watch logit (``log P <= 0``), so whenever the k-th best score is
        at least the best watch logit left out, the top k equals full scoring (:meth:`rank`).
        """
        return self.rank(query, chunk)[0]

    @torch.no_grad()
    def rank(self, query: UserQuery, chunk: int = 64, k: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
        """``(scores [U, n_anime], exact [U] bool)``: scores as :meth:`score_catalog`; ``exact``: the top ``k``
        is provably what scoring every anime with the rating head would give. The history's anime and
        ``query.exclude`` are no candidates (-inf)."""
        self.eval()
        h = self.item_state()
        out = torch.full((len(query), self.n_anime), -math.inf, device=self.device)
        exact = torch.zeros(len(query), dtype=torch.bool, device=self.device)
        C = min(self.config.rank_candidates, self.n_anime - 1)
        for i in range(0, len(query), chunk):
            q = query.rows(i, i + chunk)
            excluded = q.hist_anime if q.exclude is None else torch.cat([q.hist_anime, q.exclude], dim=1)
            q = UserQuery(q.user, *cap_history(q.hist_anime, q.hist_rating, self.scoring_history))
            watch = self.watch_logits(q.hist_anime, q.hist_rating, h)
            # Rated (and otherwise excluded) anime are no candidates; the padding anime never is.
            watch = watch.masked_fill(torch.zeros_like(watch, dtype=torch.bool).scatter_(1, excluded, True), -math.inf)
            watch[:, 0] = -math.inf
            top = watch.topk(C + 1, dim=1)
            cand = top.indices[:, :C]
            z = self.rate(cand, q.hist_anime, q.hist_rating, h)
            score = self.rank_score(top.values[:, :C], z)
            out[i:i + len(q)].scatter_(1, cand, score)
            kth = score.topk(min(k, C), dim=1).values[:, -1]
            exact[i:i + len(q)] = kth >= top.values[:, C]
        return out, exact

    def score_candidates(self, hist: torch.Tensor, hist_z: torch.Tensor, anime: torch.Tensor,
                         h: torch.Tensor | None = None, t: AnimeTables | None = None
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(score [M], rating [M])`` of the candidates ``anime [M]`` for one history ``[1, H]``.

        The exported model's computation (:mod:`gnn.export.gnn_scorer`): watch logits of every
        candidate (relation terms pushed from the history), the rating head for the ``rank_candidates``
        best; the others get ``score = -inf`` and ``rating = NaN``.
        """
        h = self.item_state() if h is None else h
        t = t or self.tables
        C = self.config.rank_candidates
        watch = self.watch.one(t, self.taste_vector(hist, hist_z, h)[0], rows_of(h, anime), hist[0], hist_z[0], anime)
        top = torch.topk(torch.cat([watch, torch.full((C,), float("-inf"), device=h.device)]), C)
        valid = top.indices < anime.shape[0]
        cand = torch.where(valid, rows_of(anime, top.indices.clamp(max=anime.shape[0] - 1)), torch.zeros_like(top.indices))
        z = self.rate(cand.unsqueeze(0), hist, hist_z, h, t)[0]                        # [C]
        M = anime.shape[0]
        slot = torch.where(valid, top.indices, torch.full_like(top.indices, M))       # padding -> a spill slot
        score = torch.full((M + 1,), float("-inf"), device=h.device).scatter(0, slot, self.rank_score(top.values, z))
        rating = torch.full((M + 1,), float("nan"), device=h.device).scatter(0, slot, self.denormalize(z))
        return score[:M], rating[:M]
