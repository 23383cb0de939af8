"""A bounded rating graph for one training step: a uniform random sample of the rating edges.

Over every training rating, the item encoder's step costs O(E) time and memory. Above a cap, a
training step's encoder sees ``cap`` edges drawn uniformly at random instead (less the step's hidden
edges), each node averaging over its sampled neighbours (GraphSAGE-style), and the sample is drawn
in O(cap log cap) without touching the other edges. Evaluation keeps the full graph.
"""

from __future__ import annotations

import torch


def sample_edge_ids(n_edges: int, cap: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Sorted ids ``[cap]`` of a uniform random ``cap``-subset of ``range(n_edges)`` (``0 < cap < n_edges``).

    At or above half the edges, a random ``cap`` of them all (O(n_edges), which is O(cap) there).
    Below, draws with replacement until ``cap`` distinct ids (each round draws the shortfall again,
    plus a margin), then a random ``cap`` of those: every id is treated alike, so the subset is uniform.
    """
    if not 0 < cap < n_edges:
        raise ValueError(f"cap must be in 1..{n_edges - 1}, got {cap}")
    if 2 * cap >= n_edges:
        pool = torch.arange(n_edges, device=device)
    else:
        pool = torch.empty(0, dtype=torch.long, device=device)
        while len(pool) < cap:
            missing = cap - len(pool)
            draws = torch.randint(n_edges, (missing + missing // 4 + 16,), device=device)
            pool = torch.cat([pool, draws]).unique()                     # sorted
    keep = torch.zeros(len(pool), dtype=torch.bool, device=device)
    keep[torch.randperm(len(pool), device=device)[:cap]] = True
    return pool[keep]                                                   # still sorted


def step_edge_ids(n_edges: int, cap: int, hidden: torch.Tensor, edge_anime: torch.Tensor,
                  anime_keep: torch.Tensor) -> torch.Tensor:
    """The rating edges one training step's encoder sees when the graph holds more than ``cap``.

    ``hidden`` ``[T]`` edge ids (the step's targets), ``edge_anime`` ``[n_edges]`` each edge's anime,
    ``anime_keep`` ``[n_anime]`` bool (anime whose rating edges are kept) -> sorted edge ids ``[K]``,
    ``K <= cap``: a uniform ``cap``-sample less the hidden edges and those of dropped anime.
    """
    ids = sample_edge_ids(n_edges, cap, hidden.device)
    keep = anime_keep[edge_anime[ids]]
    at = torch.searchsorted(ids, hidden).clamp_max(cap - 1)            # O(T log cap), no pass over E
    keep[at[ids[at] == hidden]] = False
    return ids[keep]
