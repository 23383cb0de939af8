"""Heterogeneous message passing over the catalog graph joined to the user-anime rating graph.

Full-graph only (no neighbour sampling, no torch-scatter/torch-sparse/pyg-lib): the graph comes as a
PyG :class:`~torch_geometric.data.HeteroData`; every edge type becomes a ``torch.sparse`` CSR matrix
(with its transpose, so a backward pass is one more sparse product rather than a sort of every edge),
and each edge type's weight matrix is applied on whichever side of the adjacency is smaller
(``A (X W)`` or ``(A X) W``, the same linear map).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch_geometric.data import HeteroData

from gnn.graph.builder import RELATED
from gnn.graph.csr import index_dtype
from gnn.graph.features import supported_features
from gnn.models.base import RatingEdges
from gnn.models.edge_sample import sample_user_edge_ids, step_edge_ids
from gnn.models.layers import init_embedding
from gnn.models.rating_graph import RATING_EDGE_TYPES, RatingGraph
from gnn.models.sparse import Adjacency

# Nodes of these types receive messages from many anime (a big studio, a common genre): a weighted
# mean keeps their scale independent of their degree; so do franchise relations. Anime receive from
# studios/tags/genres with weights that already sum to 1 per anime (a weighted mean already).
_MEAN_DST = ("studio", "tag", "genre")


def _edge_adjacency(graph: HeteroData, edge: tuple[str, str, str]) -> Adjacency:
    src, dst = graph[edge].edge_index
    w = graph[edge].edge_weight.float()
    n_dst, n_src = int(graph[edge[2]].num_nodes), int(graph[edge[0]].num_nodes)
    if edge[2] in _MEAN_DST or edge == RELATED:
        w = w / torch.bincount(dst, minlength=n_dst).clamp_min(1).float()[dst]
    edge_type = graph[edge].edge_type.long() if edge == RELATED else None
    return Adjacency(dst, src, w, (n_dst, n_src), edge_type)


class TypedLayer(nn.Module):
    r"""One heterogeneous layer: ``x'_t = W_t x_t + b_t + \sum_{e: s \to t} A_e x_s W_e`` for the updated types.

    ``A_e`` is the (weighted) adjacency of edge type ``e``; ``W_e`` is applied before the
    aggregation when the source type has fewer nodes than the destination, after it otherwise.
    """

    def __init__(self, edge_types: list[tuple[str, str, str]], updated: list[str], num_nodes: dict[str, int],
                 hidden: int) -> None:
        super().__init__()
        self.edge_types, self.updated, self.num_nodes = edge_types, updated, num_nodes
        self.lin = nn.ModuleDict({"__".join(e): nn.Linear(hidden, hidden, bias=False) for e in edge_types})
        self.root = nn.ModuleDict({t: nn.Linear(hidden, hidden) for t in updated})

    def forward(self, x: dict[str, torch.Tensor], adj: dict[tuple[str, str, str], Any]) -> dict[str, torch.Tensor]:
        """``adj[e] @ x[src]`` aggregates edge type ``e`` (a :class:`SparseAdjacency` or :class:`TypedAdjacency`)."""
        out = {t: self.root[t](x[t]) for t in self.updated}
        for e in self.edge_types:
            src, _, dst = e
            lin = self.lin["__".join(e)]
            if self.num_nodes[src] < self.num_nodes[dst]:
                out[dst] = out[dst] + _aggregate(adj[e], lin(x[src]))
            else:
                out[dst] = out[dst] + lin(_aggregate(adj[e], x[src]))
        return out


def _aggregate(adj: Any, x: torch.Tensor) -> torch.Tensor:
    return adj @ x


class GraphEncoder(nn.Module):
    r"""Heterogeneous GNN over the catalog graph and the user-anime rating graph -> one vector per anime.

    Node inputs: anime use a linear projection of ``graph['anime'].x`` (catalog facts: popularity,
    score, year, episodes, format) plus, for anime with training ratings, a learned per-anime ID
    embedding (DropoutNet: :meth:`forward` takes which anime may use theirs, so training can hide it
    and the graph-only path learns to stand alone); studios, tags and genres use learned
    embeddings; users start at zero and are built from the anime they rated and how (layer 1), so a
    user is their ratings, never an ID. Franchise relations are split by type, each type with a
    learned positive scale per layer (initialised to 1, so the configured type weights are the
    prior). Residual connections throughout. After two layers an anime's vector reflects its
    catalog neighbourhood and who rated it how. ``catalog_support``: the catalog facts are read as
    :func:`gnn.graph.features.supported_features` gives them (an unknown popularity as the lowest known,
    a rated anime's too unless ``rated_popularity`` is off; years clamped to the rated anime's).

    Shapes:
        - **input:** ``edge_keep`` :math:`[E]` bool (rating edges used this step; None = all) or
          :math:`[K]` long (the ids of the only rating edges this step sees: a sampled graph),
          ``id_keep`` :math:`[n_{anime}]` bool (anime whose ID embedding is used; None = every
          anime with training ratings)
        - **output:** :math:`[n_{anime}, \text{out\_dim}]` (row 0 = the padding anime)

    Cost: per layer :math:`O(E \cdot d + N \cdot d^2)` (:math:`K` for ``E`` with sampled edges). At inference the output is constant: the
    exporter stores it, so no graph code runs at request time.
    """

    def __init__(self, graph: HeteroData, ratings: RatingEdges | None, warm: torch.Tensor, n_relation_types: int,
                 hidden: int = 64, out_dim: int = 128, num_layers: int = 2, dropout: float = 0.0, id_dim: int = 64,
                 negative_slope: float = 0.01, catalog_support: bool = True,
                 rated_popularity: bool = True) -> None:
        super().__init__()
        self.num_nodes = {t: int(graph[t].num_nodes) for t in graph.node_types}
        n_anime, n_features = graph["anime"].x.shape
        x = graph["anime"].x.float()
        x = supported_features(x, warm, rated_popularity) if catalog_support else x
        self.register_buffer("anime_x", x, persistent=False)
        self.register_buffer("warm", warm.bool(), persistent=False)
        self.adj = nn.ModuleDict({"__".join(e): _edge_adjacency(graph, e) for e in graph.edge_types if e != RELATED})
        self.related = _edge_adjacency(graph, RELATED) if RELATED in graph.edge_types else None
        self.n_rating_edges = 0
        if ratings is not None:
            self.num_nodes["user"] = ratings.n_users
            self.rating_graph = RatingGraph(ratings, n_anime)
            self.n_rating_edges = len(ratings.anime)
            dtype = index_dtype(ratings.n_users, n_anime)   # what edge sampling reads (int32: half the memory)
            for name, t in (("user", ratings.user.to(dtype)), ("anime", ratings.anime.to(dtype)),
                            ("z", ratings.z.float())):
                self.register_buffer("rating_" + name, t, persistent=False)
        edge_types = ([tuple(k.split("__")) for k in self.adj] + (list(RATING_EDGE_TYPES) if ratings is not None else [])
                      + ([RELATED] if self.related is not None else []))

        self.anime_in = nn.Linear(n_features, hidden)
        self.anime_id = init_embedding(nn.Embedding(n_anime, id_dim, padding_idx=0)) if id_dim > 0 else None
        self.anime_id_proj = nn.Linear(id_dim, hidden, bias=False) if id_dim > 0 else None
        self.node_emb = nn.ModuleDict({t: init_embedding(nn.Embedding(n, hidden, padding_idx=0))
                                       for t, n in self.num_nodes.items() if t not in ("anime", "user")})
        layers = []
        for i in range(num_layers):
            last = i == num_layers - 1
            # The last layer only updates anime; users are zero before layer 1, so no user -> anime there.
            edges = [e for e in edge_types if (not last or e[2] == "anime") and not (i == 0 and e[0] == "user")]
            layers.append(TypedLayer(edges, sorted({e[2] for e in edges} | {"anime"}), self.num_nodes, hidden))
        self.layers = nn.ModuleList(layers)
        self.rel_log_scale = nn.Parameter(torch.zeros(num_layers, max(1, n_relation_types)))
        self.act = nn.LeakyReLU(negative_slope)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, out_dim)

    def _inputs(self, id_keep: torch.Tensor | None, n_users: int | None = None) -> dict[str, torch.Tensor]:
        anime = self.anime_in(self.anime_x)
        if self.anime_id is not None and self.anime_id_proj is not None:
            keep = self.warm if id_keep is None else id_keep & self.warm
            anime = anime + self.anime_id_proj(self.anime_id.weight) * keep.unsqueeze(1).to(anime.dtype)
        x = {"anime": anime, **{t: emb.weight for t, emb in self.node_emb.items()}}
        if "user" in self.num_nodes:
            x["user"] = anime.new_zeros(self.num_nodes["user"] if n_users is None else n_users, anime.shape[1])
        return x

    def step_edges(self, hidden: torch.Tensor, id_keep: torch.Tensor, cap: int) -> torch.Tensor | None:
        """The rating edges one training step's encoder sees (``edge_keep`` of :meth:`forward`; None: no rating edges).

        ``hidden`` ``[T]``: edge ids the step hides (its targets); ``id_keep`` ``[n_anime]`` bool: anime keeping
        their incoming rating edges (the others train as if nobody had rated them). Up to ``cap`` edges, a
        ``[E]`` bool mask over all of them; above it, the ids ``[K]`` of the ratings of a uniform sample of
        users holding at most ``cap`` (:func:`gnn.models.edge_sample.sample_user_edge_ids`).
        """
        if "user" not in self.num_nodes:
            return None
        if self.n_rating_edges > cap:
            ids = sample_user_edge_ids(self.rating_graph.user_crow, self.rating_graph.user_order, cap)
            return step_edge_ids(ids, hidden, self.rating_anime, id_keep)
        keep = torch.ones(self.n_rating_edges, dtype=torch.bool, device=id_keep.device)
        keep[hidden] = False
        return keep & id_keep[self.rating_anime]

    def _step_adjacencies(self, edge_keep: torch.Tensor | None) -> tuple[dict, int | None]:
        """``(adjacency per edge type, users)`` for one forward pass; the rating edges are those ``edge_keep`` says.

        ``edge_keep`` ``[E]`` bool masks the full rating graph (hidden edges weigh 0, degrees stay the
        full graph's; users: None, all of them); ``[K]`` long edge ids build the graph of those edges
        alone (O(K log K)), each node's messages a mean over its neighbours there, over only the users
        with an edge among them (renumbered; the others start at zero and would send nothing).
        """
        adj: dict = {tuple(key.split("__")): a() for key, a in self.adj.items()}
        n_users = None
        if "user" not in self.num_nodes:
            return adj, n_users
        if edge_keep is not None and edge_keep.dtype != torch.bool:
            present = torch.bincount(self.rating_user[edge_keep], minlength=self.num_nodes["user"]) > 0
            n_users = int(present.sum())
            user = (present.cumsum(0) - 1)[self.rating_user[edge_keep]]
            sub = RatingEdges(user, self.rating_anime[edge_keep], self.rating_z[edge_keep], n_users)
            adj.update(RatingGraph(sub, self.num_nodes["anime"])())
        else:
            adj.update(self.rating_graph(edge_keep))
        return adj, n_users

    def _adjacencies(self, layer: int, step: dict) -> dict:
        adj = dict(step)
        if self.related is not None:
            adj[RELATED] = self.related.scaled(self.rel_log_scale[layer].exp())
        return adj

    def forward(self, edge_keep: torch.Tensor | None = None, id_keep: torch.Tensor | None = None) -> torch.Tensor:
        step, n_users = self._step_adjacencies(edge_keep)
        x = self._inputs(id_keep, n_users)
        for i, layer in enumerate(self.layers):
            out = layer(x, self._adjacencies(i, step))
            # Residual: a node keeps its own input, which also covers node types (and the isolated
            # padding nodes) that a layer does not update.
            x = {t: x[t] + self.dropout(self.act(out[t])) if t in out else x[t] for t in x}
        return self.out(x["anime"])
