"""Build the heterogeneous catalog graph and the padded per-anime tables.

Node types ``anime``, ``studio``, ``tag``, ``genre``; node index 0 of every type
is an isolated padding node, so graph node ids equal vocabulary indices.

Edge types (each with an ``edge_weight`` float attribute of shape ``[E]``):

* ``(anime, related_to, anime)``: typed franchise relations, also carrying
  ``edge_type`` (``[E]`` long, position in :data:`RELATION_TYPES`); the weight is
  the type's weight from :class:`GraphConfig`. Missing inverse edges are added
  (A SEQUEL B implies B PREQUEL A), so this edge type is its own reverse.
* ``(anime, animated_by, studio)`` / ``(studio, animates, anime)``: the anime's
  animation studios (:attr:`gnn.data.schema.Studio.animates`), 1/k each;
  ``(anime, produced_by, studio)`` / ``(studio, produces, anime)``: every other
  company credited (producers, publishers, broadcasters), 1/k each. Both roles
  point at the same ``studio`` nodes (a company that animates one anime and
  produces another is one node); each role's weights sum to 1 per anime that has
  it, so the encoder learns how much each role says.
* ``(anime, has_tag, tag)`` / ``(tag, tag_of, anime)``: rank x category weight,
  normalized per anime.
* ``(anime, has_genre, genre)`` / ``(genre, genre_of, anime)``: 1/k per anime.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch
from torch_geometric.data import HeteroData

from gnn.data.schema import INVERSE_RELATION, RELATION_TYPES, Anime
from gnn.data.tally import Tally
from gnn.data.vocab import CatalogVocab
from gnn.graph.config import GraphConfig
from gnn.graph.features import anime_features

RELATED = ("anime", "related_to", "anime")
ANIMATED = ("anime", "animated_by", "studio")
PRODUCED = ("anime", "produced_by", "studio")
TAG = ("anime", "has_tag", "tag")
GENRE = ("anime", "has_genre", "genre")
REVERSE = {ANIMATED: ("studio", "animates", "anime"), PRODUCED: ("studio", "produces", "anime"),
           TAG: ("tag", "tag_of", "anime"), GENRE: ("genre", "genre_of", "anime")}


@dataclass(frozen=True)
class ItemTables:
    """Padded per-anime lists, row ``a`` for anime index ``a`` (row 0 = padding anime).

    Every ``*_idx`` is a ``[n_anime + 1, L]`` long tensor padded with 0; the
    matching ``*_w`` is a float tensor of the same shape with 0 at padding.
    ``studio_idx``/``studio_w`` list every company of the anime, animation studios
    and producers alike, animation studios weighted higher (``GraphConfig``).
    ``rel_type`` holds relation type ids (0 at padding too: read with the mask ``rel_idx > 0``).
    """

    genre_idx: torch.Tensor
    tag_idx: torch.Tensor
    tag_w: torch.Tensor
    studio_idx: torch.Tensor
    studio_w: torch.Tensor
    rel_idx: torch.Tensor
    rel_w: torch.Tensor
    rel_type: torch.Tensor

    def to_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict[str, torch.Tensor]) -> "ItemTables":
        return cls(**d)


@dataclass
class CatalogGraph:
    data: HeteroData
    tables: ItemTables
    relations: Tally          # every relation of the catalog: kept or dropped by reason
    truncated: Counter        # list entries beyond the padding length, by list name


def _norm(weights: list[float]) -> list[float]:
    total = sum(weights)
    return [w / total for w in weights] if total > 0 else [1.0 / len(weights)] * len(weights)


def _pad(rows: Sequence[Sequence[tuple]], n_fields: int, cap: int, name: str,
         truncated: Counter) -> tuple[torch.Tensor, ...]:
    """Pad lists of ``n_fields``-tuples to one ``[len(rows) + 1, L]`` tensor per field (row 0 = padding)."""
    width = max(1, min(cap, max((len(r) for r in rows), default=0)))
    cols = [torch.zeros(len(rows) + 1, width) for _ in range(n_fields)]
    for i, row in enumerate(rows, start=1):
        truncated[name] += max(0, len(row) - width)
        for j, entry in enumerate(row[:width]):
            for k, value in enumerate(entry):
                cols[k][i, j] = value
    return tuple(cols)


def company_roles(anime: Anime) -> dict[str, bool]:
    """Company name -> True if it animated ``anime`` (False: producer), in catalog order.

    A name listed twice counts once, as an animation studio if any of its entries says so.
    """
    roles: dict[str, bool] = {}
    for s in anime.studios:
        roles[s.name] = roles.get(s.name, False) or s.animates
    return roles


def _studio_rows(anime: Anime, vocab: CatalogVocab, config: GraphConfig
                 ) -> tuple[list[tuple[int, float]], list[tuple[int, float]], list[tuple[int, float]]]:
    """``(table row, animated_by row, produced_by row)`` of one anime, each ``[(studio index, weight)]``."""
    roles = company_roles(anime)
    table = _norm([config.animation_studio_weight if animates else config.producer_weight
                   for animates in roles.values()]) if roles else []
    by_role = [[vocab.studio.index[n] for n, animates in roles.items() if animates == want] for want in (True, False)]
    animated, produced = ([(i, 1.0 / len(ids)) for i in ids] for ids in by_role)
    return [(vocab.studio.index[n], w) for n, w in zip(roles, table)], animated, produced


def _collect_relations(anime: Sequence[Anime], vocab: CatalogVocab, catalog_ids: set[int],
                       config: GraphConfig, tally: Tally) -> dict[tuple[int, int], str]:
    """Resolve every catalog relation to an index pair, counting the ones dropped."""
    pairs: dict[tuple[int, int], str] = {}
    for a in anime:
        src = vocab.anime.index.get(a.id)
        for r in a.relations:
            tally.total += 1
            if src is None:
                tally.drop("source_not_in_graph")
            elif r.target == a.id:
                tally.drop("self_relation")
            elif r.target not in catalog_ids:
                tally.drop("target_not_in_catalog")
            elif r.target not in vocab.anime:
                tally.drop("target_not_in_graph")
            elif (src, vocab.anime.index[r.target]) in pairs:
                tally.drop("duplicate_pair")
            else:
                pairs[(src, vocab.anime.index[r.target])] = r.type
    inverse = {(t, s): INVERSE_RELATION[rtype] for (s, t), rtype in pairs.items() if (t, s) not in pairs}
    tally.note("inverse_edges_added", len(inverse))
    pairs.update(inverse)
    return pairs


def _edges(data: HeteroData, edge: tuple, rows: list[list[tuple[int, float]]]) -> None:
    src = [i for i, row in enumerate(rows, start=1) for _ in row]
    dst = [j for row in rows for j, _ in row]
    w = [w for row in rows for _, w in row]
    data[edge].edge_index = torch.tensor([src, dst], dtype=torch.long).reshape(2, -1)
    data[edge].edge_weight = torch.tensor(w, dtype=torch.float32)
    if edge in REVERSE:
        data[REVERSE[edge]].edge_index = data[edge].edge_index.flip(0)
        data[REVERSE[edge]].edge_weight = data[edge].edge_weight.clone()


def build_catalog_graph(anime: Sequence[Anime], vocab: CatalogVocab,
                        config: GraphConfig = GraphConfig(),
                        all_anime: Iterable[Anime] | None = None) -> CatalogGraph:
    """Build the graph over ``anime`` (the anime kept, in vocabulary order).

    ``all_anime`` is the whole catalog (defaults to ``anime``): relations of
    anime outside the graph, and relations to them, are counted as dropped.
    """
    all_anime = list(anime) if all_anime is None else list(all_anime)
    catalog_ids = {a.id for a in all_anime}
    relations = Tally()
    pairs = _collect_relations(all_anime, vocab, catalog_ids, config, relations)

    rel_rows: list[list[tuple[int, float, int]]] = [[] for _ in anime]
    for (s, t), rtype in sorted(pairs.items()):
        rel_rows[s - 1].append((t, config.relation_weight(rtype), RELATION_TYPES.index(rtype)))
    studio_rows, animated_rows, produced_rows, tag_rows, genre_rows = [], [], [], [], []
    for a in anime:
        table, animated, produced = _studio_rows(a, vocab, config)
        studio_rows.append(table)
        animated_rows.append(animated)
        produced_rows.append(produced)
        tags = {t.name: config.tag_weight(t.rank, t.category) for t in a.tags}
        tw = _norm(list(tags.values())) if tags else []
        tag_rows.append([(vocab.tag.index[n], w) for n, w in zip(tags, tw)])
        genre_rows.append([(vocab.genre.index[g], 1.0 / len(a.genres)) for g in a.genres])
    # Highest weight first, so truncation to the padding length keeps the strongest entries.
    for rows in (rel_rows, studio_rows, tag_rows):
        for row in rows:
            row.sort(key=lambda e: (-e[1], e[0]))

    data = HeteroData()
    data["anime"].x = anime_features(anime)
    data["anime"].num_nodes = len(vocab.anime)
    for node, v in (("studio", vocab.studio), ("tag", vocab.tag), ("genre", vocab.genre)):
        data[node].num_nodes = len(v)
    _edges(data, RELATED, [[(t, w) for t, w, _ in row] for row in rel_rows])
    data[RELATED].edge_type = torch.tensor([k for row in rel_rows for *_, k in row], dtype=torch.long)
    _edges(data, ANIMATED, animated_rows)
    _edges(data, PRODUCED, produced_rows)
    _edges(data, TAG, tag_rows)
    _edges(data, GENRE, genre_rows)
    data.validate(raise_on_error=True)

    truncated: Counter = Counter()
    rel_idx, rel_w, rel_type = _pad(rel_rows, 3, config.max_relations, "relations", truncated)
    studio_idx, studio_w = _pad(studio_rows, 2, config.max_studios, "studios", truncated)
    tag_idx, tag_w = _pad(tag_rows, 2, config.max_tags, "tags", truncated)
    (genre_idx, _) = _pad(genre_rows, 2, config.max_genres, "genres", truncated)
    tables = ItemTables(
        genre_idx=genre_idx.long(), tag_idx=tag_idx.long(), tag_w=tag_w,
        studio_idx=studio_idx.long(), studio_w=studio_w,
        rel_idx=rel_idx.long(), rel_w=rel_w, rel_type=rel_type.long())
    return CatalogGraph(data=data, tables=tables, relations=relations, truncated=truncated)


def relationship_adjacency(data: HeteroData) -> torch.Tensor:
    """Weighted sparse anime x anime matrix ``[n_anime + 1, n_anime + 1]`` (COO)."""
    n = data["anime"].num_nodes
    return torch.sparse_coo_tensor(data[RELATED].edge_index, data[RELATED].edge_weight, (n, n)).coalesce()


def studio_mapping(data: HeteroData, edge: tuple[str, str, str] = ANIMATED) -> torch.Tensor:
    """Sparse anime x studio matrix ``[n_anime + 1, n_studio + 1]`` of one role (``ANIMATED`` or
    ``PRODUCED``); the row of an anime with companies in that role sums to 1, others are empty."""
    if edge not in (ANIMATED, PRODUCED):
        raise ValueError(f"not a studio edge type: {edge}")
    shape = (data["anime"].num_nodes, data["studio"].num_nodes)
    return torch.sparse_coo_tensor(data[edge].edge_index, data[edge].edge_weight, shape).coalesce()


def graph_to_dict(data: HeteroData) -> dict:
    """Plain dict of tensors/ints for ``torch.save`` (loads with ``weights_only=True``)."""
    out: dict = {"nodes": {}, "edges": {}}
    for node in data.node_types:
        store = data[node]
        out["nodes"][node] = {"num_nodes": int(store.num_nodes),
                              **({"x": store.x} if "x" in store else {})}
    for edge in data.edge_types:
        out["edges"]["__".join(edge)] = {k: v for k, v in data[edge].items()}
    return out


def graph_from_dict(d: dict) -> HeteroData:
    data = HeteroData()
    for node, attrs in d["nodes"].items():
        for k, v in attrs.items():
            setattr(data[node], k, v)
    for key, attrs in d["edges"].items():
        edge = tuple(key.split("__"))
        for k, v in attrs.items():
            setattr(data[edge], k, v)
    return data
