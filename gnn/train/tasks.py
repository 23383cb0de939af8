"""Training tasks for a model that reads users from their ratings: a history and ratings to predict.

Each epoch, every training user's ratings are shuffled and cut into chunks of at most ``targets``
ratings (and at most half of the user's ratings, so a history always remains); each chunk is one
task whose history is drawn from the user's *other* training ratings, so a target never sits in its
own history. Half of the histories hold everything else (up to
``max_history``, the known-user case), the other half a drawn number of entries (1 up to that), so
short histories (a new user with 5 ratings, the web page) are trained as well: ``"uniform"`` draws
every length alike, ``"log"`` draws its logarithm uniformly (as many histories of 1-16 entries as of
16-256: a new user's few ratings are trained more often). Every
training rating is a target exactly once per epoch, so the loss weighs users as the per-rating
test metrics do.
"""

from __future__ import annotations

import math
from typing import Iterator

import torch

from gnn.graph.csr import index_dtype
from gnn.models.base import TaskBatch
from gnn.processed import RatingSplit
from gnn.train.config import SHORT_HISTORY


def draw_length(most: int, kind: str, gen: torch.Generator) -> int:
    """A shortened history's length in ``1..most``: uniform, or log-uniform (``exp`` of a uniform
    ``0..ln(most + 1)``, rounded down)."""
    if kind == "uniform":
        return int(torch.randint(1, most + 1, (1,), generator=gen))
    u = float(torch.rand(1, generator=gen))
    return min(most, max(1, int(math.exp(u * math.log(most + 1)))))


class TaskSampler:
    """Builds :class:`TaskBatch` es from the training split (ratings normalized with ``mean``/``std``)."""

    def __init__(self, train: RatingSplit, n_users: int, mean: float, std: float, targets: int = 32,
                 max_history: int = 128, max_rated: int = 4096, short_history: str = "uniform") -> None:
        if short_history not in SHORT_HISTORY:
            raise ValueError(f"short_history must be one of {', '.join(SHORT_HISTORY)}, got {short_history!r}")
        order = torch.argsort(train.user * (int(train.anime.max()) + 1 if len(train) else 1) + train.anime)
        small = index_dtype(len(train), n_users, int(train.anime.max()) + 1 if len(train) else 0)
        self.edge = order.to(small)                      # position of each sorted rating in the split
        self.anime = train.anime[order].to(small)        # int32 where it fits: 8 bytes per rating, not 16
        self.z = ((train.rating[order] - mean) / std).float()
        counts = torch.bincount(train.user[order], minlength=n_users)
        self.ptr = torch.zeros(n_users + 1, dtype=torch.long)
        self.ptr[1:] = counts.cumsum(0)
        self.users = torch.nonzero(counts > 0).squeeze(1)
        self.targets, self.max_history, self.max_rated = targets, max_history, max_rated
        self.short_history = short_history

    def chunk_size(self, n: int) -> int:
        """Targets per task for a user with ``n`` ratings: at most ``targets``, and at most half of them,
        so every task keeps a history (a user with 2 ratings: one target, one history entry)."""
        return max(1, min(self.targets, n // 2))

    def _tasks(self, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Every chunk of every user, shuffled: ``(user [n], start [n], stop [n], positions [n_ratings])``;
        task ``i`` is user ``user[i]``'s ratings at ``positions[start[i]:stop[i]]`` (each user's block of
        ``positions`` a random order of their ratings). Tensors, not a list of ``(user, chunk)``: at 45M
        ratings that list is millions of Python objects, and each full garbage collection walked them
        (3.7 s, one every few steps: 0.35 s a step at 60M)."""
        perms, users, starts, stops = [], [], [], []
        for u in self.users.tolist():
            lo, hi = int(self.ptr[u]), int(self.ptr[u + 1])
            perms.append(torch.randperm(hi - lo, generator=gen) + lo)
            size = self.chunk_size(hi - lo)
            start = torch.arange(lo, hi, size)
            users.append(torch.full_like(start, u))
            starts.append(start)
            stops.append((start + size).clamp(max=hi))
        order = torch.randperm(sum(len(x) for x in starts), generator=gen)
        cat = lambda parts: torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long)  # noqa: E731
        return cat(users)[order], cat(starts)[order], cat(stops)[order], cat(perms).to(self.edge.dtype)

    def _history(self, user: int, chunk: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        lo, hi = int(self.ptr[user]), int(self.ptr[user + 1])
        others = torch.ones(hi - lo, dtype=torch.bool)
        others[chunk - lo] = False
        pool = torch.nonzero(others).squeeze(1) + lo
        if len(pool) == 0:
            return pool
        most = min(self.max_history, len(pool))
        n = most if float(torch.rand(1, generator=gen)) < 0.5 else draw_length(most, self.short_history, gen)
        return pool[torch.randperm(len(pool), generator=gen)[:n]]

    def batch(self, tasks: list[tuple[int, torch.Tensor]], gen: torch.Generator) -> TaskBatch:
        hists = [self._history(u, chunk, gen) for u, chunk in tasks]
        B = len(tasks)
        H = max(1, max(len(h) for h in hists))
        T = max(len(c) for _, c in tasks)
        R = max(1, min(self.max_rated, max(int(self.ptr[u + 1] - self.ptr[u]) for u, _ in tasks)))
        out = {"hist": torch.zeros(B, H, dtype=torch.long), "hist_z": torch.zeros(B, H),
               "target": torch.zeros(B, T, dtype=torch.long), "target_z": torch.zeros(B, T),
               "target_edge": torch.full((B, T), -1, dtype=torch.long), "rated": torch.zeros(B, R, dtype=torch.long),
               "user": torch.tensor([u for u, _ in tasks], dtype=torch.long)}
        for i, ((u, chunk), hist) in enumerate(zip(tasks, hists)):
            out["hist"][i, :len(hist)], out["hist_z"][i, :len(hist)] = self.anime[hist], self.z[hist]
            out["target"][i, :len(chunk)], out["target_z"][i, :len(chunk)] = self.anime[chunk], self.z[chunk]
            out["target_edge"][i, :len(chunk)] = self.edge[chunk]
            rated = self.anime[int(self.ptr[u]):int(self.ptr[u + 1])][:R]
            out["rated"][i, :len(rated)] = rated
        return TaskBatch(**out)

    def epoch(self, tasks_per_batch: int, gen: torch.Generator, rank: int = 0, world: int = 1
              ) -> Iterator[TaskBatch]:
        """One epoch of batches; under DDP each rank takes every ``world``-th batch (equal counts)."""
        user, start, stop, positions = self._tasks(gen)
        n_batches = self.n_batches(tasks_per_batch, world) * world   # all ranks' batches together
        # One seed per batch, drawn for all of them: every rank's generator advances alike.
        seeds = torch.randint(0, 2**62, (n_batches,), generator=gen).tolist()
        for b in range(rank, n_batches, world):
            rows = range(b * tasks_per_batch, min((b + 1) * tasks_per_batch, len(user)))
            tasks = [(int(user[i]), positions[int(start[i]):int(stop[i])].long()) for i in rows]
            yield self.batch(tasks, torch.Generator().manual_seed(seeds[b]))

    def n_batches(self, tasks_per_batch: int, world: int = 1) -> int:
        """Batches per epoch for one of ``world`` ranks (a partial last batch counts; under DDP the
        batches left over after an equal share each are dropped)."""
        counts = (self.ptr[1:] - self.ptr[:-1])[self.users].tolist()
        n = sum(-(-c // self.chunk_size(c)) for c in counts)
        batches = (n + tasks_per_batch - 1) // tasks_per_batch
        return batches // world if world > 1 else batches
