"""One interface for every recommender (GNN, baseline, classic references).

Every model predicts *normalized* ratings ``z = (r - rating_mean) / rating_std``
from a :class:`Batch`; :meth:`RatingModel.predict` maps back to the original
scale and clamps to it. A user is either a known user index (``Batch.user``)
or, where ``Batch.use_history`` is true, a vector built from a history of
(anime, normalized rating) pairs, so new users are scored without retraining.
One trainer (:mod:`gnn.train.trainer`) and one evaluator
(:mod:`gnn.train.evaluate`) serve all models through this interface.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import HeteroData

from gnn.graph.builder import ItemTables, graph_from_dict, graph_to_dict

if TYPE_CHECKING:
    from gnn.processed import ProcessedData


@dataclass(frozen=True)
class Batch:
    """A batch of (user, anime) pairs, tensors of leading size ``B``.

    ``hist_anime``/``hist_rating`` (``[B, L]``) hold each row's user history
    (anime index, normalized rating), padded with anime index 0; rows whose
    ``use_history`` is true are scored from the history instead of the user's
    ID embedding. A history entry equal to the row's target anime is ignored
    by the models, so a rating never leaks into its own prediction.
    """

    user: torch.Tensor                       # [B] long
    anime: torch.Tensor                      # [B] long
    target: torch.Tensor | None = None       # [B] float, normalized rating
    hist_anime: torch.Tensor | None = None   # [B, L] long, 0 = padding
    hist_rating: torch.Tensor | None = None  # [B, L] float, normalized, 0 at padding
    use_history: torch.Tensor | None = None  # [B] bool

    def to(self, device: torch.device | str) -> "Batch":
        return replace(self, **{k: v.to(device) for k, v in self.__dict__.items() if v is not None})


@dataclass(frozen=True)
class TaskBatch:
    """``B`` training tasks: one user's history and a chunk of their other ratings to predict.

    ``target_edge`` holds each target's position in the training ratings (its graph edge, hidden
    from the encoder for this step); ``rated`` every training anime of the user (never a negative
    of the softmax); ``user`` the training user each task comes from. Padding: anime 0, edge -1.
    """

    hist: torch.Tensor          # [B, H] long
    hist_z: torch.Tensor        # [B, H] normalized ratings, 0 at padding
    target: torch.Tensor        # [B, T] long
    target_z: torch.Tensor      # [B, T] normalized ratings
    target_edge: torch.Tensor   # [B, T] long
    rated: torch.Tensor         # [B, R] long
    user: torch.Tensor          # [B] long, whose task

    def to(self, device: torch.device | str) -> "TaskBatch":
        return TaskBatch(**{k: v.to(device) for k, v in self.__dict__.items()})

    @property
    def n_targets(self) -> int:
        return int((self.target > 0).sum())


@dataclass(frozen=True)
class UserQuery:
    """Users to rank the whole catalog for (:meth:`RatingModel.score_catalog`), tensors of leading size ``U``.

    A known (training) user has ``user > 0`` and, as history, their training ratings; a new user
    has ``user == 0`` and only the history. ``hist_rating`` is normalized like :attr:`Batch.hist_rating`.
    Each model reads what it needs: an ID model the index, an inductive model the history.
    """

    user: torch.Tensor          # [U] long, 0 = not a training user
    hist_anime: torch.Tensor    # [U, L] long, 0 = padding
    hist_rating: torch.Tensor   # [U, L] float, normalized, 0 at padding
    exclude: torch.Tensor | None = None  # [U, R] long: anime not to rank (e.g. every rated one), 0 = padding

    def __len__(self) -> int:
        return int(self.user.shape[0])

    def rows(self, start: int, stop: int) -> "UserQuery":
        return UserQuery(self.user[start:stop], self.hist_anime[start:stop], self.hist_rating[start:stop],
                         None if self.exclude is None else self.exclude[start:stop])


@dataclass(frozen=True)
class RatingEdges:
    """Training ratings as graph edges: ``user``, ``anime`` (indices) and ``z`` (normalized rating), ``[E]`` each."""

    user: torch.Tensor
    anime: torch.Tensor
    z: torch.Tensor
    n_users: int

    def to_dict(self) -> dict:
        """Indices stored as int32 (they fit: ids < 2^31), which keeps a checkpoint of 45M training
        ratings at 12 bytes a rating instead of 20; :meth:`from_dict` widens them back."""
        return {"user": self.user.to(torch.int32), "anime": self.anime.to(torch.int32), "z": self.z,
                "n_users": self.n_users}

    @classmethod
    def from_dict(cls, d: dict) -> "RatingEdges":
        return cls(d["user"].long(), d["anime"].long(), d["z"].float(), int(d["n_users"]))


@dataclass(frozen=True)
class ModelContext:
    """What a model needs to know about the data: sizes, rating stats, the graph and tables.

    Built from :class:`gnn.processed.ProcessedData` for training, and from a
    checkpoint's ``context`` blob when a model is rebuilt from a checkpoint alone.
    Vocabulary sizes include the padding row 0.
    """

    n_users: int
    n_anime: int
    n_genres: int
    n_tags: int
    n_studios: int
    n_relation_types: int
    rating_mean: float
    rating_std: float
    rating_low: float
    rating_high: float
    tables: ItemTables
    graph: HeteroData
    train_count: torch.Tensor | None = None   # [n_anime] training ratings per anime (0 = cold)
    ratings: RatingEdges | None = None        # the training ratings, for models that pass messages over them

    @classmethod
    def from_processed(cls, data: "ProcessedData") -> "ModelContext":
        c = data.stats
        t = data.train
        z = (t.rating - c["rating_mean"]) / c["rating_std"]
        return cls(n_users=c["n_users"], n_anime=c["n_anime"], n_genres=c["n_genres"], n_tags=c["n_tags"],
                   n_studios=c["n_studios"], n_relation_types=c["n_relation_types"],
                   rating_mean=c["rating_mean"], rating_std=c["rating_std"],
                   rating_low=c["rating_scale"]["low"], rating_high=c["rating_scale"]["high"],
                   tables=data.tables, graph=data.graph, train_count=data.anime_train_count,
                   ratings=RatingEdges(t.user, t.anime, z.float(), int(c["n_users"])))

    def to_blob(self) -> dict:
        """Plain tensors and numbers, for a ``weights_only`` checkpoint."""
        blob = {k: v for k, v in self.__dict__.items() if k not in ("tables", "graph", "ratings")}
        return {**blob, "tables": self.tables.to_dict(), "graph": graph_to_dict(self.graph),
                "ratings": self.ratings.to_dict() if self.ratings is not None else None}

    @classmethod
    def from_blob(cls, blob: dict) -> "ModelContext":
        ratings = blob.get("ratings")
        return cls(**{**blob, "tables": ItemTables.from_dict(blob["tables"]),
                      "graph": graph_from_dict(blob["graph"]),
                      "ratings": RatingEdges.from_dict(ratings) if ratings is not None else None})


LOSSES = {"mse": F.mse_loss, "huber": F.smooth_l1_loss, "l1": F.l1_loss}


class RatingModel(nn.Module, ABC):
    """Base class: subclasses implement :meth:`forward` (normalized predictions)."""

    name: ClassVar[str]
    predicts_ratings: ClassVar[bool] = True  # False: a ranking-only reference (no rating, no RMSE)
    inductive: ClassVar[bool] = False        # True: known users too are scored from their history
    trains_on: ClassVar[str] = "rows"        # "rows": Batch es of ratings; "tasks": TaskBatch es (history -> ratings)
    train_defaults: ClassVar[dict[str, Any]] = {}  # TrainConfig values this model trains best with (unless given)
    _SIZED: ClassVar[tuple[str, ...]] = ()   # buffers whose shape is only known after a closed-form fit

    @property
    def scoring_history(self) -> int:
        """How many of a user's ratings an :attr:`inductive` model reads when it scores them."""
        return 256

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:  # type: ignore[override]
        for name in self._SIZED:  # resize before loading: their shape is the training set's
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name]))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def __init__(self, ctx: ModelContext) -> None:
        super().__init__()
        self.n_anime = int(ctx.n_anime)
        self.register_buffer("rating_mean", torch.tensor(float(ctx.rating_mean)))
        self.register_buffer("rating_std", torch.tensor(float(ctx.rating_std)))
        self.rating_low, self.rating_high = float(ctx.rating_low), float(ctx.rating_high)

    @abstractmethod
    def forward(self, batch: Batch) -> torch.Tensor:
        """Normalized rating predictions, ``[B]``."""

    def loss(self, batch: Batch, kind: str = "mse") -> torch.Tensor:
        """The training objective of one step (what the trainer minimizes)."""
        assert batch.target is not None, "loss needs batch.target"
        return LOSSES[kind](self(batch), batch.target) + self.regularization(batch)

    def optimizer_groups(self, weight_decay: float) -> list[dict]:
        """AdamW parameter groups: weight decay on weight matrices only (not embeddings, biases, norms)."""
        decay, no_decay = [], []
        for module_name, module in self.named_modules():
            for name, p in module.named_parameters(recurse=False):
                if not p.requires_grad:
                    continue
                matrix = p.dim() >= 2 and not isinstance(module, nn.Embedding)
                (decay if matrix else no_decay).append(p)
        return [g for g in ({"params": decay, "weight_decay": weight_decay},
                            {"params": no_decay, "weight_decay": 0.0}) if g["params"]]

    def regularization(self, batch: Batch) -> torch.Tensor:
        """Extra penalty added to the loss (e.g. L2 on the batch's factors); 0 by default."""
        return torch.zeros(())

    @property
    def device(self) -> torch.device:
        return self.rating_mean.device

    def normalize(self, rating: torch.Tensor) -> torch.Tensor:
        return (rating - self.rating_mean) / self.rating_std

    def denormalize(self, z: torch.Tensor) -> torch.Tensor:
        return (z * self.rating_std + self.rating_mean).clamp(self.rating_low, self.rating_high)

    @torch.no_grad()
    def predict(self, batch: Batch) -> torch.Tensor:
        """Ratings on the original scale, ``[B]``."""
        return self.denormalize(self(batch))

    @torch.no_grad()
    def predict_users(self, hist_anime: torch.Tensor, hist_rating: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Ratings (original scale) ``[U, T]`` of ``targets`` (0 = padding) for users given by histories ``[U, L]``."""
        U, T = targets.shape
        batch = Batch(user=torch.zeros(U * T, dtype=torch.long, device=targets.device), anime=targets.reshape(-1),
                      hist_anime=hist_anime.repeat_interleave(T, 0), hist_rating=hist_rating.repeat_interleave(T, 0),
                      use_history=torch.ones(U * T, dtype=torch.bool, device=targets.device))
        return self.predict(batch).view(U, T)

    @torch.no_grad()
    def score_catalog(self, query: UserQuery, chunk: int = 65536) -> torch.Tensor:
        """Ranking scores ``[U, n_anime]`` over the whole catalog, higher first; column 0 (padding) is -inf.

        By default the predicted rating of every anime (what a rating model ranks by); ranking
        models override it. Known users are scored by ID unless the model is :attr:`inductive`.
        ``query.exclude`` may be left to the caller (which drops those anime anyway); a model that
        only scores its best candidates must keep them out of the candidates.
        """
        self.eval()
        anime = torch.arange(1, self.n_anime, device=self.device)
        out = torch.full((len(query), self.n_anime), -math.inf, device=self.device)
        per = max(1, chunk // max(len(anime), 1))
        for i in range(0, len(query), per):
            q = query.rows(i, i + per)
            n = len(q)
            hist = self.inductive | (q.user == 0)
            batch = Batch(user=q.user.repeat_interleave(len(anime)), anime=anime.repeat(n))
            if bool(hist.any()):  # rows scored by ID alone skip the [pairs, L] history copies
                batch = replace(batch, hist_anime=q.hist_anime.repeat_interleave(len(anime), 0),
                                hist_rating=q.hist_rating.repeat_interleave(len(anime), 0),
                                use_history=hist.repeat_interleave(len(anime)))
            out[i:i + n, 1:] = self.predict(batch).view(n, -1)
        return out

    def fit_closed_form(self, train: Any) -> bool:
        """Models with a closed-form (non-gradient) fit do it here and return True."""
        return False
