"""A bounded rating graph for one training step: a uniform random sample of users, with all their edges.

Over every training rating, the item encoder's step costs O(E) time and memory, and its user side
grows with the users. Above a cap, a training step's encoder sees the rating edges of a uniform
random set of users whose ratings add up to at most ``cap`` (less the step's hidden edges): each
sampled user keeps their whole history (a user vector as good as in the full graph), each anime
averages over its sampled raters (GraphSAGE-style), and a step's users and edges stay bounded
however large the data grows (GraphSAINT's node sampling). Evaluation keeps the full graph.
"""

from __future__ import annotations

import torch


def sample_user_edge_ids(crow: torch.Tensor, order: torch.Tensor | None, cap: int) -> torch.Tensor:
    """Sorted edge ids ``[K]`` of every rating of a uniform random set of users, ``K <= cap``.

    ``crow`` ``[n_users + 1]`` and ``order`` (None: the edges are stored by user) are the rating graph's
    user-major CSR (:class:`gnn.models.rating_graph.RatingGraph`): user ``u``'s edges are
    ``order[crow[u]:crow[u + 1]]``. Users with ratings are taken in a random order while their edges
    fit under ``cap`` (at least one user, whose edges may exceed it). O(n_users + cap).
    """
    if cap < 1:
        raise ValueError(f"cap must be at least 1, got {cap}")
    degree = (crow[1:] - crow[:-1]).long()
    users = torch.nonzero(degree > 0).squeeze(1)
    users = users[torch.randperm(len(users), device=crow.device)]
    total = degree[users].cumsum(0)
    users = users[:max(1, int(torch.searchsorted(total, cap, right=True)))]
    counts, starts = degree[users], crow[:-1].long()[users]
    first = (counts.cumsum(0) - counts).repeat_interleave(counts)
    pos = torch.arange(int(counts.sum()), device=crow.device) - first + starts.repeat_interleave(counts)
    return (pos if order is None else order[pos].long()).sort().values


def step_edge_ids(ids: torch.Tensor, hidden: torch.Tensor, edge_anime: torch.Tensor,
                  anime_keep: torch.Tensor) -> torch.Tensor:
    """The sampled edges one training step's encoder sees: ``ids`` (sorted) less the hidden ones and those of dropped anime.

    ``hidden`` ``[T]`` edge ids (the step's targets), ``edge_anime`` ``[n_edges]`` each edge's anime,
    ``anime_keep`` ``[n_anime]`` bool (anime whose rating edges are kept) -> sorted edge ids ``[K]``.
    """
    if len(ids) == 0:
        return ids
    keep = anime_keep[edge_anime[ids]]
    at = torch.searchsorted(ids, hidden).clamp_max(len(ids) - 1)       # O(T log K), no pass over E
    keep[at[ids[at] == hidden]] = False
    return ids[keep]
