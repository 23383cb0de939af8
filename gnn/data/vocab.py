"""Contiguous indices for anime, users, studios, tags and genres.

Index 0 is reserved as padding in every vocabulary, so a padded list entry can
never collide with a real anime/studio/tag/genre (and user 0 means "no known
user"). Real entries are numbered from 1 in a deterministic order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from gnn.data.schema import Anime

PAD = "<pad>"


@dataclass(frozen=True)
class Vocab:
    """One id <-> index map; ``items[0]`` is the padding entry."""

    items: tuple = (PAD,)
    index: dict = field(default_factory=dict)

    @classmethod
    def build(cls, keys: Iterable) -> "Vocab":
        keys = tuple(keys)  # a real key may even equal PAD: only position 0 is padding
        if len(set(keys)) != len(keys):
            raise ValueError("vocabulary keys must be unique")
        items = (PAD, *keys)
        return cls(items=items, index={k: i for i, k in enumerate(items) if i > 0})

    def __len__(self) -> int:
        """Number of rows an embedding table needs (real entries + padding)."""
        return len(self.items)

    @property
    def n_real(self) -> int:
        return len(self.items) - 1

    def __contains__(self, key) -> bool:
        return key in self.index

    def to_json(self) -> list:
        return list(self.items[1:])


@dataclass(frozen=True)
class CatalogVocab:
    anime: Vocab
    studio: Vocab
    tag: Vocab
    genre: Vocab

    @classmethod
    def from_anime(cls, anime: Sequence[Anime]) -> "CatalogVocab":
        """Anime keep their order; studios, tags and genres are sorted by name."""
        return cls(
            anime=Vocab.build(a.id for a in anime),
            studio=Vocab.build(sorted({s.name for a in anime for s in a.studios})),
            tag=Vocab.build(sorted({t.name for a in anime for t in a.tags})),
            genre=Vocab.build(sorted({g for a in anime for g in a.genres})),
        )
