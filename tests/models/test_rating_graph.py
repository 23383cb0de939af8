"""The user-anime rating graph's four edge types over shared CSR structures (gnn.models.rating_graph)."""

from __future__ import annotations

import pytest
import torch

from gnn.models.base import RatingEdges
from gnn.models.rating_graph import RATED_BY, RATED_BY_Z, RATES, RATES_Z, RatingGraph

# 3 users x 4 anime (anime 0 is padding and unrated); stored by user, as the processed splits are.
USER = torch.tensor([0, 0, 1, 1, 1, 2])
ANIME = torch.tensor([1, 3, 1, 2, 3, 2])
Z = torch.tensor([1.0, -1.0, 0.5, 2.0, -0.5, 1.5])


def _dense(keep: torch.Tensor | None = None) -> dict:
    """Hand-built references: user rows average the anime they rated, anime rows the users who rated them."""
    deg_u = torch.tensor([2.0, 3.0, 1.0])
    deg_a = torch.tensor([1.0, 2.0, 2.0, 2.0])                 # anime 0: none (clamped to 1)
    k = torch.ones(6) if keep is None else keep.float()
    by_user = lambda w: torch.zeros(3, 4).index_put_((USER, ANIME), w * k)   # noqa: E731
    return {RATED_BY: by_user(1 / deg_u[USER]), RATED_BY_Z: by_user(Z / deg_u[USER]),
            RATES: by_user(1 / deg_a[ANIME]).T, RATES_Z: by_user(Z / deg_a[ANIME]).T}


@pytest.mark.parametrize("perm", [list(range(6)), [5, 2, 0, 4, 1, 3]])
@pytest.mark.parametrize("masked", [False, True])
def test_the_four_adjacencies_equal_their_dense_references(perm: list[int], masked: bool) -> None:
    """In any edge order; a mask zeroes hidden edges but keeps the full graph's degrees."""
    p = torch.tensor(perm)
    keep = torch.tensor([True, False, True, True, False, True])
    graph = RatingGraph(RatingEdges(USER[p], ANIME[p], Z[p], 3), n_anime=4)
    adj = graph(keep[p] if masked else None)
    for edge, dense in _dense(keep if masked else None).items():
        assert torch.allclose(adj[edge].a.to_dense(), dense), edge
        assert torch.allclose(adj[edge].a_t.to_dense(), dense.T), edge
    if not masked:
        assert torch.allclose(adj[RATED_BY].a.to_dense().sum(1), torch.ones(3))   # a mean per user


def test_the_structures_are_shared_and_int32() -> None:
    """Per rating at rest: 4 weights (float32) + 2 column indices + 1 permutation (int32) = 28 bytes,
    and no permutation at all for the user-major order of ratings stored by user."""
    n = 6
    graph = RatingGraph(RatingEdges(USER, ANIME, Z, 3), n_anime=4)
    per_edge = sum(b.numel() * b.element_size() for name, b in graph.named_buffers() if "crow" not in name)
    assert graph.user_order is None and graph.anime_col.dtype == torch.int32
    assert per_edge == n * (4 * 4 + 2 * 4 + 4)


def test_no_transposes_without_autograd() -> None:
    graph = RatingGraph(RatingEdges(USER, ANIME, Z, 3), n_anime=4)
    x = torch.randn(4, 2)
    with torch.no_grad():
        adj = graph()
        assert all(a.a_t is None for a in adj.values())
        assert torch.allclose(adj[RATED_BY] @ x, _dense()[RATED_BY] @ x)
    x.requires_grad_(True)
    (graph()[RATED_BY_Z] @ x).sum().backward()
    assert torch.allclose(x.grad, _dense()[RATED_BY_Z].sum(0).unsqueeze(1).expand(4, 2))
