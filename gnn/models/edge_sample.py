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

    At or above half the edges, a permutation (O(n_edges), which is O(cap) there). Below, draws with
    replacement until ``cap`` distinct ids (each round draws the shortfall again, plus a margin), then
    a random ``cap`` of them: the procedure treats every id alike, so the subset is uniform.
    """
    if not 0 < cap < n_edges:
        raise ValueError(f"cap must be in 1..{n_edges - 1}, got {cap}")
    if 2 * cap >= n_edges:
        return torch.randperm(n_edges, device=device)[:cap].sort().values
    ids = torch.empty(0, dtype=torch.long, device=device)
    while len(ids) < cap:
        missing = cap - len(ids)
        draws = torch.randint(n_edges, (missing + missing // 4 + 16,), device=device)
        ids = torch.cat([ids, draws]).unique()
    return ids[torch.randperm(len(ids), device=device)[:cap]].sort().values


def step_edge_ids(n_edges: int, cap: int, hidden: torch.Tensor, edge_anime: torch.Tensor,
                  anime_keep: torch.Tensor) -> torch.Tensor:
    """The rating edges one training step's encoder sees when the graph holds more than ``cap``.

    ``hidden`` ``[T]`` edge ids (the step's targets), ``edge_anime`` ``[n_edges]`` each edge's anime,
    ``anime_keep`` ``[n_anime]`` bool (anime whose rating edges are kept) -> sorted edge ids ``[K]``,
    ``K <= cap``: a uniform ``cap``-sample less the hidden edges and those of dropped anime.
    """
    ids = sample_edge_ids(n_edges, cap, hidden.device)
    ids = ids[~torch.isin(ids, hidden)]
    return ids[anime_keep[edge_anime[ids]]]
