"""The GNN recommender's settings (:class:`GNNConfig`), with the validation measurements behind its defaults.

The model itself is :class:`gnn.models.recommender.GNNRecommender`; a checkpoint stores these fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class GNNConfig:
    user_dim: int = 64
    anime_dim: int = 128          # encoder output h_a
    genre_dim: int = 32
    tag_dim: int = 32
    studio_dim: int = 16
    rel_dim: int = 32
    genre_heads: int = 4
    tag_heads: int = 4
    studio_heads: int = 2
    rel_heads: int = 4
    encoder_hidden: int = 64
    encoder_layers: int = 2
    encoder_dropout: float = 0.0
    # Rating edges the encoder sees in one training step: above this, the ratings of a uniform sample of
    # users holding at most this many (gnn.models.edge_sample), so a step's cost stops growing with the
    # data; MAL (480k) is below it.
    encoder_rating_edges: int = 1_000_000
    id_dim: int = 64              # per-anime ID embedding inside the encoder (anime with ratings only)
    # Share of rated anime trained as if nobody had rated them, per step. 0.5, seed 0, 8 epochs: on a second
    # cold split (validation: preprocess --cold-anime 0.1 --seed 1) cold RMSE 1.0838 vs 1.0845; on the MAL
    # split test RMSE 1.0759 vs 1.0793 but NDCG@10 0.2763 vs 0.2827 (benchmarks/README "Cold anime"): not kept.
    cold_drop: float = 0.25
    history_hidden: int = 64      # entry size of the user encoder
    history_heads: int = 4
    hidden: tuple[int, ...] = (256, 128, 64, 32)
    dropout: float = 0.2
    negative_slope: float = 0.01
    # Weight of the "which anime" softmax next to the rating error. MAL validation NDCG@10 (val RMSE), seed 0,
    # 8 epochs: 0.03 -> 0.2635 (1.1192), 0.1 -> 0.2736 (1.1168); at the 20-epoch defaults with early stopping
    # (older optimizer) 0.1 / 0.3 / 1.0 -> 0.2668 / 0.2309 / 0.2409 (1.1240 / 1.1255 / 1.1321).
    watch_weight: float = 0.1
    # "Liked" = rating at or above this share of the scale (7.5 on 1-10). MAL validation NDCG@10 at
    # like_weight 1.5 by threshold 0.67 / 0.72 / 0.78 / 0.83: 0.2708 / 0.2736 / 0.2729 / 0.2701.
    like_threshold: float = 0.72
    # Weight of log P(liked) next to the watch logit in the ranking score. Validation NDCG@10 by weight
    # 0 / 0.5 / 1 / 1.5 / 2 / 3: MAL 0.254 / 0.264 / 0.269 / 0.271 / 0.271 / 0.269, the synthetic sample
    # 0.289 / 0.327 / 0.334 / 0.333 / 0.331 / 0.323: 1.5 is within 0.3 % of the best on both.
    like_weight: float = 1.5
    # Ratings a training task's history holds (beyond it, the entries with the highest fixed key,
    # gnn.data.history_key; scoring reads up to score_history). On MAL a quarter of the training users rated more than 128 anime
    # (66 % of the ratings); 8 epochs, validation RMSE by cap 128 / 256: seed 0 1.1152 / 1.0955, seed 1
    # 1.1221 / 1.0969, at 1.6x the time per step (the genres-only sample: 4 % of its users above 128).
    max_history: int = 256
    # Ratings a history holds when it is scored (evaluation, recommend, the export), at least max_history;
    # 0 = max_history. Reading more than training did helps: the seed-0 MAL model trained at 256, by
    # scoring cap 256 / 512 / 1024: validation RMSE 1.0955 / 1.0860 / 1.0837, NDCG@10 0.2802 / 0.2805 /
    # 0.2802 (14 training users rated more than 1,024). Test, the 3 MAL trainings at 256 scored at 256 / 1024:
    # RMSE 1.0928 / 1.0806, NDCG@10 0.2801 / 0.2822. The export's history length is free, so a short
    # history costs no more than before.
    score_history: int = 1024
    rank_candidates: int = 256    # anime the rating head scores per ranking (the best by watch score)
    two_hop_width: int = 16
    # Most co-rated anime kept per anime (gnn.graph.corated); 0 = none. MAL validation NDCG@10 (val RMSE),
    # seed 0, 8 epochs, by width 5 / 10 / 15 / 25: 0.2695 (1.1171) / 0.2736 (1.1168) / 0.2701 (1.1171) /
    # 0.2602 (1.1187): 10 is best on both. With the EASE lists, 30 vs 10: 0.2935 (1.0837) vs 0.2953 (1.0833).
    corated_width: int = 10
    corated_min_common: int = 2   # users two anime must share to be listed (4: val NDCG@10 0.2727 vs 0.2736)
    # Which anime a row lists: 0 = the highest cosine; s > 0 = the highest share of the other anime's raters
    # (c_ab / (n_b + s)), less drawn to the most rated anime (gnn.graph.corated.corated_table). MAL seed 0,
    # s = 50 vs 0: validation RMSE 1.0815 vs 1.0809, test NDCG@10 0.2731 vs 0.2859, new users given 5 orphan
    # share 0.200 vs 0.216 (benchmarks/README "Co-rated lists by share").
    corated_shrink: float = 0.0
    # A learned factor exp(v . h_a) on the co-rated watch term at each receiving anime (gnn.models.watch).
    # Test, 3 seeds, on vs off: MAL NDCG@10 0.2737 +- 0.0029 vs 0.2719 +- 0.0045 (off: the committed rows,
    # older code), RMSE 1.1145 both, new users k = 10 NDCG@10 0.5925 vs 0.5786; the genres-only sample
    # (no relations, studios or tags) NDCG@10 0.3269 vs 0.2004, RMSE 1.1376 vs 1.1406; the full sample
    # NDCG@10 0.3599 vs 0.3130, RMSE 1.1369 vs 1.1284 (+0.8 %: the one place it costs rating accuracy).
    corated_scale: bool = True
    # What the co-rated lists hold: "cosine" (the anime-user-anime paths, above) or "ease": each anime's
    # corated_width highest EASE weights (gnn.graph.ease, regularization ease_reg; the lists' weights scaled
    # to a cosine's size), a training user's own pairs weighed as if they had not been in the fit
    # (gnn.models.corated_lists). MAL, ease vs cosine, validation: NDCG@10 0.2953 vs 0.2807 (seed 0), RMSE
    # 1.0823 vs 1.0818 (3 seeds); test, 3 seeds: NDCG@10 0.2959 vs 0.2861 (EASE itself 0.2754), RMSE 1.0784 vs
    # 1.0779, new users' orphan-sequel share given 5 / 10 / 20 ratings 0.192 / 0.163 / 0.126 vs 0.210 / 0.180 /
    # 0.144 (most-popular 0.193 / 0.186 / 0.173). The genres-only sample, 3 seeds: test RMSE 1.1361 vs 1.1396,
    # NDCG@10 0.3783 vs 0.3306; the full sample: RMSE 1.1422 vs 1.1375 (+0.4 %), NDCG@10 0.3426 vs 0.3372.
    # benchmarks/README "EASE weights as the co-rated lists".
    corated_kind: str = "ease"
    # EASE's regularization for the lists (EASE's own tuned value). MAL seed 0, validation NDCG@10 by 30 / 100 / 300:
    # 0.2941 / 0.2953 / 0.2943 (benchmarks/README "The lists' EASE regularization").
    ease_reg: float = 100.0
    # A linear path from the user vector to the rating, beside the MLP. Off: on the genres-only sample it
    # lowered test RMSE 1.1464 -> 1.1291 (3 seeds; tuned item-kNN 1.1405) with NDCG@10 unchanged, but on MAL it
    # left RMSE as it was (1.1113) and cut NDCG@10 0.2750 -> 0.1845 (the joint watch score trained worse).
    user_skip: bool = False
    # The user's offset over the anime's biases, shrunk by a learned prior count, added to the rating
    # (gnn.models.user.ShrunkOffset): without it, given 5 ratings the model follows how high or low a user
    # rates too little (benchmarks/error_floors.py: the error's slope on that offset 0.27 at k = 5). Alone
    # (offset_fade off) it helps MAL (seed 0: validation RMSE 1.0750 vs 1.0809) but overfits the synthetic
    # sample (3 seeds: validation 1.1640 vs 1.1323, genres only 1.1512 vs 1.1302).
    history_offset: bool = True
    # With history_offset, the offset scaled by kappa / (n + kappa) (kappa learned from 16): it speaks for
    # short histories, where the user vector knows least. On, with history_offset (benchmarks/README "The
    # user's offset"), 3 seeds each: MAL validation RMSE 1.0818 vs 1.0822, new users k = 5 / 10 / 20
    # 1.3430 / 1.2851 / 1.2439 vs 1.3552 / 1.2954 / 1.2520; the sample 1.1265 vs 1.1323; genres only 1.1316
    # vs 1.1302 (test 1.1396 vs 1.1385, tuned item-kNN 1.1405: a tie).
    offset_fade: bool = True
    # A learned offset on the watch logit of every anime with no training rating (starting at -10). Those
    # anime are negatives of the watch softmax in every step and never a positive; without the offset
    # the softmax ranks them down by moving their graph vectors, which the rating head reads too: the
    # cold-anime split's held-out anime (benchmarks/results/mal_cold) were rated 0.125 too low on average
    # (cold RMSE 1.1394); with it, +0.026 (1.1029). Keeping the softmax's gradient off those vectors instead
    # (detached, no offset) diverged (validation RMSE 2.23 after one epoch, 1.20 with the gradient).
    # MAL, 3 seeds, with / without: validation RMSE 1.0826 / 1.0841, test 1.0793 / 1.0806, NDCG@10 0.2846 /
    # 0.2822, new users k = 10 NDCG@10 0.591 / 0.581; new users' orphan-sequel share at k = 10 0.179 / 0.173
    # (most-popular 0.186). The genres-only sample, 3 seeds: RMSE 1.1350 / 1.1363. benchmarks/README "Cold anime".
    unrated_watch_offset: bool = True
    # The encoder reads an unknown popularity as the lowest known one and clamps years to the rated anime's
    # (gnn.graph.features.supported_features): with the unknown at the mean and 2023-2026 years
    # extrapolated, the MAL model's announced anime for a new user were 85 % of unknown popularity in the
    # top 20. The years of anime with no training rating only; the popularity of rated anime too unless
    # rated_popularity is off. benchmarks/README "Anime after the rating data".
    catalog_support: bool = True
    # With catalog_support, a *rated* anime's unknown popularity is read as the lowest known too. On MAL the
    # 14 rated anime without one are obscure (6-31 training ratings; the median rated anime has 30), and
    # seed 0 without it: validation RMSE 1.0816 vs 1.0809, NDCG@10 0.2824 vs 0.2859. The synthetic sample's
    # popularity is missing at random (58 of its 1,318 rated anime), and there off is better: test RMSE
    # 1.1419 vs 1.1454, 3 seeds (benchmarks/README "Results on the embedded sample").
    rated_popularity: bool = True

    # Options added after checkpoints were already written, with the value those checkpoints were made with
    # (a stored config without the key is read with it, not with today's default).
    BEFORE_ADDED: ClassVar[dict] = {"corated_scale": False, "score_history": 0, "unrated_watch_offset": False,
                                     "catalog_support": False, "rated_popularity": True,
                                     "history_offset": False, "offset_fade": False, "corated_kind": "cosine"}
    # Options that change only how a trained model scores (gnn.models.registry.scoring_only).
    SCORING_ONLY: ClassVar[frozenset] = frozenset({"score_history"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))  # a checkpoint may hold a list
        if self.max_history < 1 or not (self.score_history == 0 or self.score_history >= self.max_history):
            raise ValueError(f"max_history must be at least 1 and score_history 0 or at least max_history, "
                             f"got {self.max_history} and {self.score_history}")
        if self.encoder_rating_edges < 1:
            raise ValueError(f"encoder_rating_edges must be at least 1, got {self.encoder_rating_edges}")
        if self.corated_kind not in ("cosine", "ease"):
            raise ValueError(f"corated_kind must be 'cosine' or 'ease', got {self.corated_kind!r}")
        if not self.ease_reg > 0:   # also refuses NaN
            raise ValueError(f"ease_reg must be a number > 0, got {self.ease_reg}")
        if not self.corated_shrink >= 0:   # also refuses NaN
            raise ValueError(f"corated_shrink must be a number >= 0, got {self.corated_shrink}")
        if self.offset_fade and not self.history_offset:
            raise ValueError("offset_fade scales the history offset: with history_offset off, set offset_fade off too")

    @property
    def scoring_history(self) -> int:
        """The ratings a scored history holds: ``score_history``, or ``max_history`` where that is 0."""
        return self.score_history or self.max_history
