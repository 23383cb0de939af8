"""gnn.graph.builder: typed relation edges, inverse completion, dangling relations, weights, tables."""

from __future__ import annotations

import io
import math
from typing import Sequence

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gnn.data.catalog import parse_anime, read_catalog
from gnn.data.schema import RELATION_TYPES, Anime, Relation, Studio, Tag
from gnn.data.vocab import PAD, CatalogVocab, Vocab
from gnn.graph.builder import (ANIMATED, GENRE, PRODUCED, RELATED, REVERSE, TAG, build_catalog_graph,
                               company_roles, graph_from_dict, graph_to_dict, relationship_adjacency,
                               studio_mapping)
from gnn.graph.config import DEFAULT_RELATION_WEIGHTS, GraphConfig
from gnn.graph.features import FEATURE_NAMES
from tests.builders import FIXTURES, raw_catalogs

GRAPH_IDS = [101, 102, 103, 104, 105, 106]   # 107 is never rated: outside the graph


def build(catalog, config: GraphConfig = GraphConfig(), ids: Sequence[int] = GRAPH_IDS):
    anime = [a for a in catalog.anime if a.id in ids]
    vocab = CatalogVocab.from_anime(anime)
    return build_catalog_graph(anime, vocab, config, all_anime=catalog.anime), vocab


def relation_edges(graph, vocab) -> list[tuple[int, int, str, float]]:
    store = graph.data[RELATED]
    ids = vocab.anime.items
    return sorted((ids[s], ids[t], RELATION_TYPES[k], round(w, 6)) for (s, t), k, w in zip(
        store.edge_index.t().tolist(), store.edge_type.tolist(), store.edge_weight.tolist()))


def weights_of(graph, vocab, edge, names: Vocab, anime_id: int) -> dict:
    store = graph.data[edge]
    src = vocab.anime.index[anime_id]
    return {names.items[t]: w for (s, t), w in zip(store.edge_index.t().tolist(), store.edge_weight.tolist())
            if s == src}


# ------------------------------------------------------------------ relations

def test_typed_relation_edges_and_inverse_completion(fixture_catalog):
    graph, vocab = build(fixture_catalog)
    w = DEFAULT_RELATION_WEIGHTS
    assert relation_edges(graph, vocab) == [
        (101, 102, "SEQUEL", w["SEQUEL"]),
        (101, 103, "SIDE_STORY", w["SIDE_STORY"]),
        (101, 106, "OTHER", w["OTHER"]),            # inverse of 106 OTHER 101
        (102, 101, "PREQUEL", w["PREQUEL"]),        # listed by 102 itself: not added twice
        (103, 101, "PARENT", w["PARENT"]),          # inverse of 101 SIDE_STORY 103
        (103, 106, "OTHER", w["OTHER"]),            # inverse of 106 ADAPTATION(-> OTHER) 103
        (104, 105, "ALTERNATIVE", w["ALTERNATIVE"]),
        (105, 104, "ALTERNATIVE", w["ALTERNATIVE"]),
        (106, 101, "OTHER", w["OTHER"]),
        (106, 103, "OTHER", w["OTHER"]),
    ]


def test_relation_tally_counts_every_relation_by_reason(fixture_catalog):
    graph, _ = build(fixture_catalog)
    assert graph.relations.as_dict() == {
        "total": 11, "kept": 6,
        "dropped": {"duplicate_pair": 1, "self_relation": 1, "source_not_in_graph": 1,
                    "target_not_in_catalog": 1, "target_not_in_graph": 1},
        "notes": {"inverse_edges_added": 4},
    }
    n_edges = graph.data[RELATED].edge_index.shape[1]
    assert n_edges == graph.relations.kept + graph.relations.notes["inverse_edges_added"]


def test_relation_weights_ordered_by_type_in_the_tables(fixture_catalog):
    graph, vocab = build(fixture_catalog)
    t, i = graph.tables, vocab.anime.index[101]
    keep = t.rel_idx[i] > 0
    assert [vocab.anime.items[j] for j in t.rel_idx[i][keep].tolist()] == [102, 103, 106]
    assert [RELATION_TYPES[k] for k in t.rel_type[i][keep].tolist()] == ["SEQUEL", "SIDE_STORY", "OTHER"]
    assert t.rel_w[i][keep].tolist() == pytest.approx([1.0, 0.6, 0.2])
    assert t.rel_w[i].tolist() == sorted(t.rel_w[i].tolist(), reverse=True)


def test_edge_type_ids_follow_relation_types(fixture_catalog):
    graph, _ = build(fixture_catalog)
    store = graph.data[RELATED]
    assert store.edge_type.dtype == torch.long
    for k, weight in zip(store.edge_type.tolist(), store.edge_weight.tolist()):
        assert weight == pytest.approx(DEFAULT_RELATION_WEIGHTS[RELATION_TYPES[k]])


def test_custom_relation_weights_are_used(fixture_catalog):
    config = GraphConfig(relation_weights={**DEFAULT_RELATION_WEIGHTS, "OTHER": 0.05, "SEQUEL": 2.0})
    graph, vocab = build(fixture_catalog, config)
    edges = {(s, d): (k, w) for s, d, k, w in relation_edges(graph, vocab)}
    assert edges[(101, 106)] == ("OTHER", 0.05)
    assert edges[(101, 102)] == ("SEQUEL", 2.0)


def test_both_directions_listed_are_not_duplicated():
    a = Anime(1, relations=(Relation(2, "SEQUEL"),))
    b = Anime(2, relations=(Relation(1, "PREQUEL"),))
    graph = build_catalog_graph([a, b], CatalogVocab.from_anime([a, b]))
    assert graph.data[RELATED].edge_index.t().tolist() == [[1, 2], [2, 1]]
    assert [RELATION_TYPES[k] for k in graph.data[RELATED].edge_type.tolist()] == ["SEQUEL", "PREQUEL"]
    assert graph.relations.notes["inverse_edges_added"] == 0


def test_one_sided_sequel_gets_its_prequel():
    a, b = Anime(1, relations=(Relation(2, "SEQUEL"),)), Anime(2)
    graph = build_catalog_graph([a, b], CatalogVocab.from_anime([a, b]))
    assert graph.data[RELATED].edge_index.t().tolist() == [[1, 2], [2, 1]]
    assert [RELATION_TYPES[k] for k in graph.data[RELATED].edge_type.tolist()] == ["SEQUEL", "PREQUEL"]
    assert graph.relations.as_dict() == {"total": 1, "kept": 1, "dropped": {},
                                         "notes": {"inverse_edges_added": 1}}


def test_without_all_anime_relations_outside_the_graph_are_not_in_catalog():
    a = Anime(1, relations=(Relation(2, "SEQUEL"), Relation(3, "OTHER")))
    graph = build_catalog_graph([a], CatalogVocab.from_anime([a]))
    assert graph.relations.as_dict()["dropped"] == {"target_not_in_catalog": 2}
    assert graph.data[RELATED].edge_index.shape == (2, 0)


# ------------------------------------------------------------------ studios, tags, genres

def table_weights(graph, vocab, anime_id: int) -> dict:
    t, i = graph.tables, vocab.anime.index[anime_id]
    return {vocab.studio.items[j]: w for j, w in zip(t.studio_idx[i].tolist(), t.studio_w[i].tolist()) if j}


def test_animation_studios_and_producers_are_separate_edge_types(fixture_catalog):
    graph, vocab = build(fixture_catalog)
    # 101: Studio Kestrel animated it (isMain), Orbit Pictures produced it.
    assert weights_of(graph, vocab, ANIMATED, vocab.studio, 101) == pytest.approx({"Studio Kestrel": 1.0})
    assert weights_of(graph, vocab, PRODUCED, vocab.studio, 101) == pytest.approx({"Orbit Pictures": 1.0})
    assert weights_of(graph, vocab, ANIMATED, vocab.studio, 102) == pytest.approx({"Studio Kestrel": 1.0})
    assert weights_of(graph, vocab, PRODUCED, vocab.studio, 102) == {}
    assert weights_of(graph, vocab, ANIMATED, vocab.studio, 106) == weights_of(graph, vocab, PRODUCED,
                                                                               vocab.studio, 106) == {}
    # The table keeps every company, the animation studio weighted 2 : 1.
    assert table_weights(graph, vocab, 101) == pytest.approx({"Studio Kestrel": 2 / 3, "Orbit Pictures": 1 / 3})
    assert graph.data[("studio", "animates", "anime")].edge_index.shape[1] == 5
    assert graph.data[("studio", "produces", "anime")].edge_index.shape[1] == 2


def test_studio_listed_twice_counts_once_as_animation_studio(fixture_catalog):
    # 104 lists Paper Lantern Works as main and again as not main, plus Orbit Pictures.
    graph, vocab = build(fixture_catalog)
    assert weights_of(graph, vocab, ANIMATED, vocab.studio, 104) == pytest.approx({"Paper Lantern Works": 1.0})
    assert weights_of(graph, vocab, PRODUCED, vocab.studio, 104) == pytest.approx({"Orbit Pictures": 1.0})
    assert table_weights(graph, vocab, 104) == pytest.approx({"Paper Lantern Works": 2 / 3, "Orbit Pictures": 1 / 3})


@pytest.mark.parametrize("studios", [
    (Studio("B", False), Studio("A", True), Studio("A", False), Studio("C", False)),
    (Studio("A", False), Studio("B", False), Studio("C", False), Studio("A", True)),
    (Studio("A", True), Studio("A", True), Studio("B", False), Studio("C", False), Studio("B", False)),
])
def test_studio_duplicates_do_not_depend_on_order(studios):
    a = Anime(1, studios=studios)
    vocab = CatalogVocab.from_anime([a])
    graph = build_catalog_graph([a], vocab, GraphConfig(animation_studio_weight=3.0, producer_weight=1.0))
    assert table_weights(graph, vocab, 1) == pytest.approx({"A": 0.6, "B": 0.2, "C": 0.2})
    assert weights_of(graph, vocab, ANIMATED, vocab.studio, 1) == pytest.approx({"A": 1.0})
    assert weights_of(graph, vocab, PRODUCED, vocab.studio, 1) == pytest.approx({"B": 0.5, "C": 0.5})


def test_anilist_non_animation_company_marked_main_is_a_producer():
    # AniList: isMain on the edge, isAnimationStudio on the company. A main entry whose company is
    # not an animation studio (a publisher credited as main) is a producer; unknown (None) keeps isMain.
    a = Anime(1, studios=(Studio("Bones", True, is_animation_studio=True),
                          Studio("Aniplex", True, is_animation_studio=False),
                          Studio("Sunrise", False, is_animation_studio=True),
                          Studio("MAL Studio", True)))
    assert company_roles(a) == {"Bones": True, "Aniplex": False, "Sunrise": False, "MAL Studio": True}
    vocab = CatalogVocab.from_anime([a])
    graph = build_catalog_graph([a], vocab)
    assert weights_of(graph, vocab, ANIMATED, vocab.studio, 1) == pytest.approx({"Bones": 0.5, "MAL Studio": 0.5})
    assert weights_of(graph, vocab, PRODUCED, vocab.studio, 1) == pytest.approx({"Aniplex": 0.5, "Sunrise": 0.5})


def test_tag_weights_rank_category_and_normalization(fixture_catalog):
    graph, vocab = build(fixture_catalog)
    raw = {"Space": 0.90 * 0.9, "Robots": 0.40 * 1.0, "Shounen": 0.50 * 0.8}  # null rank -> 50
    total = sum(raw.values())
    assert weights_of(graph, vocab, TAG, vocab.tag, 101) == pytest.approx({k: v / total for k, v in raw.items()})
    assert weights_of(graph, vocab, TAG, vocab.tag, 104) == pytest.approx({"Food": 0.875, "Iyashikei": 0.125})


def test_tag_weight_rises_with_rank_and_null_sits_between():
    a = Anime(1, tags=(Tag("low", 10, "Theme"), Tag("null", None, "Theme"), Tag("high", 90, "Theme"),
                       Tag("tech", 90, "Technical")))
    vocab = CatalogVocab.from_anime([a])
    w = weights_of(build_catalog_graph([a], vocab), vocab, TAG, vocab.tag, 1)
    assert w["low"] < w["null"] < w["high"]
    assert w["tech"] == pytest.approx(w["high"] * 0.5)
    assert sum(w.values()) == pytest.approx(1.0)


def test_genre_weights_are_one_over_k(fixture_catalog):
    graph, vocab = build(fixture_catalog)
    assert weights_of(graph, vocab, GENRE, vocab.genre, 104) == pytest.approx({"Slice of Life": 0.5, "Gourmet": 0.5})
    assert weights_of(graph, vocab, GENRE, vocab.genre, 103) == pytest.approx({"Action": 1.0})


def test_reverse_edges_mirror_forward_edges(fixture_catalog):
    graph, _ = build(fixture_catalog)
    for edge, rev in REVERSE.items():
        assert torch.equal(graph.data[rev].edge_index, graph.data[edge].edge_index.flip(0))
        assert torch.equal(graph.data[rev].edge_weight, graph.data[edge].edge_weight)


# ------------------------------------------------------------------ padding and tables

def test_padding_index_zero_is_never_a_real_entry(fixture_catalog):
    graph, vocab = build(fixture_catalog)
    for v in (vocab.anime, vocab.studio, vocab.tag, vocab.genre):
        assert v.items[0] == PAD and 0 not in v.index.values()
        assert sorted(v.index.values()) == list(range(1, len(v)))
    assert list(vocab.anime.items[1:]) == GRAPH_IDS
    assert list(vocab.studio.items[1:]) == ["Orbit Pictures", "Paper Lantern Works", "Studio Kestrel"]
    for edge in graph.data.edge_types:
        assert (graph.data[edge].edge_index > 0).all(), edge
    for node, v in (("anime", vocab.anime), ("studio", vocab.studio), ("tag", vocab.tag), ("genre", vocab.genre)):
        assert graph.data[node].num_nodes == len(v)
    for name, table in graph.tables.to_dict().items():
        assert table.shape[0] == len(vocab.anime), name
        assert not table[0].any(), f"{name} row 0 must be padding"
    assert not graph.data["anime"].x[0].any()


def test_vocab_accepts_a_real_key_spelled_like_padding():
    v = Vocab.build(["<pad>", "Studio A"])
    assert v.index == {"<pad>": 1, "Studio A": 2} and len(v) == 3 and v.to_json() == ["<pad>", "Studio A"]
    with pytest.raises(ValueError, match="unique"):
        Vocab.build(["x", "x"])


def test_tables_match_edges_and_padding_masks(fixture_catalog):
    graph, vocab = build(fixture_catalog)
    t = graph.tables
    assert t.studio_idx.dtype == t.tag_idx.dtype == t.genre_idx.dtype == t.rel_idx.dtype == torch.long
    assert t.studio_w.shape == t.studio_idx.shape and t.tag_w.shape == t.tag_idx.shape
    assert t.rel_w.shape == t.rel_idx.shape == t.rel_type.shape
    assert ((t.studio_idx == 0) == (t.studio_w == 0)).all() and ((t.tag_idx == 0) == (t.tag_w == 0)).all()
    nonempty = t.studio_idx[1:].gt(0).any(1)
    assert t.studio_w[1:][nonempty].sum(1) == pytest.approx(torch.ones(int(nonempty.sum())))
    assert t.rel_idx.shape[1] == 3 and t.tag_idx.shape[1] == 3 and t.genre_idx.shape[1] == 2
    i = vocab.anime.index[101]
    assert [vocab.tag.items[j] for j in t.tag_idx[i].tolist()] == ["Space", "Robots", "Shounen"]
    assert sorted(vocab.genre.items[j] for j in t.genre_idx[i].tolist()) == ["Action", "Sci-Fi"]


def test_truncation_keeps_the_strongest_entries(fixture_catalog):
    graph, vocab = build(fixture_catalog, GraphConfig(max_tags=1, max_relations=2, max_studios=1))
    t, i = graph.tables, vocab.anime.index[101]
    assert t.tag_idx.shape[1] == 1 and vocab.tag.items[int(t.tag_idx[i, 0])] == "Space"
    assert [vocab.anime.items[j] for j in t.rel_idx[i].tolist()] == [102, 103]
    assert vocab.studio.items[int(t.studio_idx[i, 0])] == "Studio Kestrel"
    assert graph.truncated == {"tags": 3, "relations": 1, "studios": 2, "genres": 0}
    assert graph.data[TAG].edge_index.shape[1] == 7       # the graph itself keeps every edge


def test_anime_features(fixture_catalog):
    graph, vocab = build(fixture_catalog)
    x = graph.data["anime"].x
    assert x.shape == (len(vocab.anime), len(FEATURE_NAMES)) and torch.isfinite(x).all()
    col = {n: j for j, n in enumerate(FEATURE_NAMES)}
    garden = vocab.anime.index[106]                      # no popularity, no score
    assert x[garden, col["popularity_missing"]] == 1 and x[garden, col["popularity"]] == 0
    assert x[garden, col["average_score_missing"]] == 1 and x[garden, col["format_ONA"]] == 1
    courier = vocab.anime.index[101]
    assert x[courier, col["popularity_missing"]] == 0 and x[courier, col["popularity"]] > 0  # most popular
    fmt = [j for n, j in col.items() if n.startswith("format_")]
    assert (x[1:, fmt].sum(1) == 1).all()


def test_relationship_adjacency_and_studio_mapping(fixture_catalog):
    graph, vocab = build(fixture_catalog)
    n = len(vocab.anime)
    adj = relationship_adjacency(graph.data)
    assert adj.shape == (n, n) and adj.is_sparse
    dense = adj.to_dense()
    idx = vocab.anime.index
    assert dense[idx[101], idx[102]] == pytest.approx(1.0) and dense[idx[103], idx[101]] == pytest.approx(0.8)
    assert dense[idx[104], idx[104]] == 0                  # self relation dropped
    assert not dense[0].any() and not dense[:, 0].any()
    assert torch.equal(dense != 0, (dense != 0).t())       # every relation has its way back
    assert int((dense != 0).sum()) == graph.data[RELATED].edge_index.shape[1]

    has = {edge: torch.tensor([0] + [int(any(r == want for r in company_roles(a).values()))
                                     for a in fixture_catalog.anime if a.id in GRAPH_IDS])
           for edge, want in ((ANIMATED, True), (PRODUCED, False))}
    assert has[ANIMATED].tolist() == [0, 1, 1, 1, 1, 1, 0] and has[PRODUCED].tolist() == [0, 1, 0, 0, 1, 0, 0]
    for edge, listed in has.items():
        m = studio_mapping(graph.data, edge).to_dense()
        assert m.shape == (n, len(vocab.studio))
        sums = m.sum(1)
        assert sums[listed == 1] == pytest.approx(torch.ones(int(listed.sum())))
        assert (sums[listed == 0] == 0).all() and not m[:, 0].any()
    with pytest.raises(ValueError, match="not a studio edge type"):
        studio_mapping(graph.data, TAG)


def test_graph_dict_round_trip_loads_with_weights_only(fixture_catalog):
    graph, _ = build(fixture_catalog)
    buffer = io.BytesIO()
    torch.save({"graph": graph_to_dict(graph.data), "tables": graph.tables.to_dict()}, buffer)
    buffer.seek(0)
    blob = torch.load(buffer, weights_only=True)
    data = graph_from_dict(blob["graph"])
    assert set(data.edge_types) == set(graph.data.edge_types)
    for edge in graph.data.edge_types:
        for key, value in graph.data[edge].items():
            assert torch.equal(data[edge][key], value), (edge, key)
    for node in graph.data.node_types:
        assert data[node].num_nodes == graph.data[node].num_nodes
    assert torch.equal(data["anime"].x, graph.data["anime"].x)
    data.validate(raise_on_error=True)


def test_anilist_shape_gives_the_same_graph(fixture_catalog):
    old = read_catalog(FIXTURES / "anime_catalog_anilist.json")
    g_new, v_new = build(fixture_catalog)
    g_old, v_old = build(old)
    assert v_new == v_old
    assert g_new.relations.as_dict() == g_old.relations.as_dict()
    for edge in g_new.data.edge_types:
        for key, value in g_new.data[edge].items():
            assert torch.equal(g_old.data[edge][key], value), (edge, key)
    assert torch.equal(g_old.data["anime"].x, g_new.data["anime"].x)
    for name, table in g_new.tables.to_dict().items():
        assert torch.equal(g_old.tables.to_dict()[name], table), name


# ------------------------------------------------------------------ property-based

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=raw_catalogs(), data=st.data())
def test_random_catalogs_build_valid_graphs(records, data):
    counts: dict[str, int] = {}
    catalog = [parse_anime(r, i, "random.json", counts) for i, r in enumerate(records)]
    keep = data.draw(st.lists(st.booleans(), min_size=len(catalog), max_size=len(catalog)))
    anime = [a for a, k in zip(catalog, keep) if k]
    vocab = CatalogVocab.from_anime(anime)
    config = GraphConfig(max_tags=data.draw(st.integers(1, 6)), max_relations=data.draw(st.integers(1, 6)))
    graph = build_catalog_graph(anime, vocab, config, all_anime=catalog)   # validates the HeteroData
    g = graph.data
    n = len(anime)

    rel = graph.relations
    assert rel.total == sum(len(a.relations) for a in catalog)
    assert rel.kept + sum(rel.dropped.values()) == rel.total and rel.kept >= 0
    pairs = g[RELATED].edge_index.t().tolist()
    assert len(pairs) == rel.kept + rel.notes.get("inverse_edges_added", 0)
    assert len(set(map(tuple, pairs))) == len(pairs)                 # no duplicate pairs
    assert all(s != t for s, t in pairs)                             # no self loops
    assert {(t, s) for s, t in pairs} == {(s, t) for s, t in pairs}  # inverses completed
    assert g[RELATED].edge_type.shape == (len(pairs),)

    for edge, names in ((RELATED, vocab.anime), (ANIMATED, vocab.studio), (PRODUCED, vocab.studio),
                        (TAG, vocab.tag), (GENRE, vocab.genre)):
        ei, w = g[edge].edge_index, g[edge].edge_weight
        assert ei.dtype == torch.long and ei.shape[0] == 2 and w.shape == (ei.shape[1],)
        if ei.numel():
            assert 1 <= ei[0].min() and ei[0].max() <= n
            assert 1 <= ei[1].min() and ei[1].max() < len(names)
        assert torch.isfinite(w).all() and (w > 0).all()
    for edge in (ANIMATED, PRODUCED, TAG, GENRE):
        sums = torch.zeros(n + 1).index_add_(0, g[edge].edge_index[0], g[edge].edge_weight)
        listed = torch.zeros(n + 1, dtype=torch.bool)
        listed[g[edge].edge_index[0]] = True
        assert sums[listed] == pytest.approx(torch.ones(int(listed.sum())), abs=1e-5)
    for i, a in enumerate(anime, start=1):
        roles = company_roles(a)
        for edge, want in ((ANIMATED, True), (PRODUCED, False)):
            assert int((g[edge].edge_index[0] == i).sum()) == sum(r == want for r in roles.values())
        assert int((g[GENRE].edge_index[0] == i).sum()) == len(a.genres)
        assert int((g[TAG].edge_index[0] == i).sum()) == len({t.name for t in a.tags})

    x = g["anime"].x
    assert x.shape == (n + 1, len(FEATURE_NAMES)) and torch.isfinite(x).all() and not x[0].any()
    for name, table in graph.tables.to_dict().items():
        assert table.shape[0] == n + 1 and not table[0].any(), name
        assert torch.isfinite(table.float()).all()
    assert graph.tables.tag_w.sum(1)[1:].le(1 + 1e-5).all()
    for edge in (ANIMATED, PRODUCED):
        assert math.isclose(float(studio_mapping(g, edge).to_dense().sum()), float(g[edge].edge_weight.sum()),
                            rel_tol=1e-5, abs_tol=1e-6)
