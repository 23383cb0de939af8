"""What one training step sees: rows of (user, anime, rating) or tasks of (history, ratings to predict).

The trainer asks :func:`batch_source` for the kind its model trains on (``RatingModel.trains_on``):

* ``"rows"`` (:class:`RowSource`): shuffled rating rows; a ``history_frac`` share of them also carry
  a history sampled from the user's training ratings (the ID models' new-user path);
* ``"tasks"`` (:class:`gnn.train.tasks.TaskSampler`): per user, chunks of ratings to predict from
  the user's other ratings (models that read a user from their ratings only).

Both split an epoch into equal shares per DDP rank and count the ratings a step trains on.
"""

from __future__ import annotations

from typing import Iterator, Protocol

import torch

from gnn.models.base import Batch, ModelContext, RatingModel
from gnn.processed import ProcessedData
from gnn.train.config import TrainConfig
from gnn.train.histories import UserHistories
from gnn.train.tasks import TaskSampler


class BatchSource(Protocol):
    def epoch(self, gen: torch.Generator, rank: int, world: int) -> Iterator: ...

    def steps(self, world: int) -> int: ...


class RowSource:
    """Shuffled training rows as :class:`Batch` es (``target`` = normalized rating)."""

    def __init__(self, data: ProcessedData, ctx: ModelContext, cfg: TrainConfig) -> None:
        self.train, self.cfg = data.train, cfg
        self.target = (self.train.rating - ctx.rating_mean) / ctx.rating_std
        self.histories = UserHistories(self.train, ctx.n_users, ctx.rating_mean, ctx.rating_std)

    def epoch(self, gen: torch.Generator, rank: int, world: int) -> Iterator[Batch]:
        n = len(self.train)
        perm = torch.randperm(n, generator=gen)
        shard = perm[rank: (n // world) * world: world]  # equal-length shards keep DDP steps in lockstep
        for idx in shard.split(self.cfg.batch_size):
            users = self.train.user[idx]
            hist_anime, hist_rating = self.histories.sample(users, self.cfg.history_len, gen)
            use_history = torch.rand(len(idx), generator=gen) < self.cfg.history_frac
            yield Batch(user=users, anime=self.train.anime[idx], target=self.target[idx], hist_anime=hist_anime,
                        hist_rating=hist_rating, use_history=use_history)

    def steps(self, world: int) -> int:
        return -(-(len(self.train) // world) // self.cfg.batch_size)


class TaskSource:
    """:class:`TaskSampler` batches of about ``batch_size`` target ratings (``targets_per_task`` per task)."""

    def __init__(self, data: ProcessedData, ctx: ModelContext, cfg: TrainConfig, max_history: int) -> None:
        self.sampler = TaskSampler(data.train, ctx.n_users, ctx.rating_mean, ctx.rating_std,
                                   targets=cfg.targets_per_task, max_history=max_history,
                                   short_history=cfg.short_history)
        self.tasks_per_batch = max(1, cfg.batch_size // cfg.targets_per_task)

    def epoch(self, gen: torch.Generator, rank: int, world: int) -> Iterator:
        return self.sampler.epoch(self.tasks_per_batch, gen, rank, world)

    def steps(self, world: int) -> int:
        return self.sampler.n_batches(self.tasks_per_batch, world)


def batch_source(model: RatingModel, data: ProcessedData, ctx: ModelContext, cfg: TrainConfig) -> BatchSource:
    if model.trains_on == "tasks":
        return TaskSource(data, ctx, cfg, int(model.config.max_history))  # type: ignore[attr-defined]
    return RowSource(data, ctx, cfg)


def batch_size(batch) -> int:
    """Ratings a batch trains on (padding excluded)."""
    return int(batch.target.shape[0]) if isinstance(batch, Batch) else batch.n_targets
