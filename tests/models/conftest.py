"""A tiny hand-made catalog turned into a ModelContext, for fast model tests.

Anime (catalog ids 1..8, indices 1..8 in the same order):
1 -SEQUEL-> 2, 3 -SPIN_OFF-> 1, 4 -ALTERNATIVE-> 5 (inverses are added by the builder);
6 and 7 are unrelated (tests add 6 -SEQUEL-> 7); 8 has no genre, tag, studio or relation.
Training ratings (for models that pass messages over them): users 1..6 each rate anime 1..7 except
one (user u skips anime u), ratings z = ((u + a) % 5 - 2) / 2; nobody rates anime 8 (cold).
"""

from __future__ import annotations

from typing import Callable, Sequence

import pytest
import torch

from gnn.data.schema import RELATION_TYPES, Anime, Relation, Studio, Tag
from gnn.data.vocab import CatalogVocab
from gnn.graph.builder import build_catalog_graph
from gnn.models.base import Batch, ModelContext, RatingEdges
from tests.builders import pad_histories

N_USERS = 7  # 6 real users + padding row 0

BASE_RELATIONS: dict[int, tuple[Relation, ...]] = {
    1: (Relation(2, "SEQUEL"),), 3: (Relation(1, "SPIN_OFF"),), 4: (Relation(5, "ALTERNATIVE"),),
}


def _anime(relations: dict[int, tuple[Relation, ...]], bare: dict | None = None) -> list[Anime]:
    genres = ["Action", "Drama", "Comedy", "Romance"]
    out = []
    for i in range(1, 8):
        out.append(Anime(
            id=i, title_romaji=f"Anime {i}", format="TV" if i % 2 else "MOVIE", episodes=12 * i,
            year=2000 + i, popularity=100.0 * i, average_score=50.0 + 4 * i,
            genres=tuple(genres[j % 4] for j in range(i, i + 1 + i % 3)),
            tags=tuple(Tag(f"tag{(i + j) % 5}", 90 - 20 * j, "Theme-Action") for j in range(1 + i % 3)),
            studios=(Studio(f"studio{i % 3}", True),) + ((Studio("studio_x", False),) if i % 2 else ()),
            relations=relations.get(i, ())))
    out.append(Anime(id=8, title_romaji="Bare", **(bare or {})))
    return out


def build_ctx(extra_relations: dict[int, tuple[Relation, ...]] | None = None, bare: dict | None = None
              ) -> ModelContext:
    """``bare``: catalog fields for anime 8 (e.g. ``{"studios": (Studio("studio1", True),)}``); names
    already in the catalog keep the vocabularies, so one model's weights load into either context."""
    relations = dict(BASE_RELATIONS)
    for k, v in (extra_relations or {}).items():
        relations[k] = relations.get(k, ()) + v
    anime = _anime(relations, bare)
    vocab = CatalogVocab.from_anime(anime)
    g = build_catalog_graph(anime, vocab)
    user, anime = zip(*[(u, a) for u in range(1, N_USERS) for a in range(1, 8) if a != u])
    user_t, anime_t = torch.tensor(user), torch.tensor(anime)
    z = ((user_t + anime_t) % 5 - 2).float() / 2
    return ModelContext(
        n_users=N_USERS, n_anime=len(vocab.anime), n_genres=len(vocab.genre), n_tags=len(vocab.tag),
        n_studios=len(vocab.studio), n_relation_types=len(RELATION_TYPES),
        rating_mean=7.0, rating_std=1.5, rating_low=1.0, rating_high=10.0,
        tables=g.tables, graph=g.data, train_count=torch.bincount(anime_t, minlength=len(vocab.anime)),
        ratings=RatingEdges(user_t, anime_t, z, N_USERS))


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: intra-op threads only add overhead, and on a busy machine
    OpenMP threads fighting for cores made these tests several times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def make_ctx() -> Callable[..., ModelContext]:
    """``make_ctx(extra_relations={6: (Relation(7, "SEQUEL"),)})`` builds a context."""
    return build_ctx


@pytest.fixture
def ctx() -> ModelContext:
    return build_ctx()


def make_batch(user: Sequence[int], anime: Sequence[int], target: Sequence[float] | None = None,
               hist: Sequence[Sequence[tuple[int, float]]] | None = None,
               use_history: Sequence[bool] | None = None) -> Batch:
    """A Batch from plain lists; ``hist`` rows are (anime, normalized rating) pairs, padded with 0."""
    hist_anime, hist_rating = pad_histories(hist) if hist is not None else (None, None)
    return Batch(user=torch.tensor(user, dtype=torch.long), anime=torch.tensor(anime, dtype=torch.long),
                 target=None if target is None else torch.tensor(target, dtype=torch.float32),
                 hist_anime=hist_anime, hist_rating=hist_rating,
                 use_history=None if use_history is None else torch.tensor(use_history, dtype=torch.bool))


@pytest.fixture
def batch_of() -> Callable[..., Batch]:
    return make_batch
