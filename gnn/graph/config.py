"""Weights that turn catalog facts into edge weights: one overridable, frozen config."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from gnn.data.schema import RELATION_TYPES

# Franchise continuity matters most for what a person watches next, so direct
# sequels/prequels weigh most; loosely related works weigh least.
DEFAULT_RELATION_WEIGHTS: dict[str, float] = {
    "SEQUEL": 1.0, "PREQUEL": 1.0, "PARENT": 0.8, "SIDE_STORY": 0.6, "SPIN_OFF": 0.6,
    "ALTERNATIVE": 0.5, "SUMMARY": 0.3, "CHARACTER": 0.3, "OTHER": 0.2,
}

# Multiplies a tag's rank-based weight by its category. Matched on the part of
# the category before "-" (AniList categories look like "Theme-Action", "Cast-Main Cast").
DEFAULT_TAG_CATEGORY_FACTORS: dict[str, float] = {
    "Theme": 1.0, "Setting": 0.9, "Demographic": 0.8, "Cast": 0.8,
    "Sexual Content": 0.6, "Technical": 0.5,
}


# Field names of configs written before the studio/producer split (same meaning, same defaults).
_RENAMED = {"main_studio_weight": "animation_studio_weight", "other_studio_weight": "producer_weight"}


@dataclass(frozen=True)
class GraphConfig:
    """How edges are weighted and how long the padded per-anime lists are.

    Tag weight = ``max(rank, min_tag_rank) / 100 * category_factor`` before the
    per-anime normalization; an unknown (null) rank counts as ``null_tag_rank``,
    the middle of AniList's 0-100 relevance scale, so it is neither favoured nor
    penalised. In the padded studio table (:class:`gnn.graph.builder.ItemTables`, every
    company of an anime) a company weighs ``animation_studio_weight`` if it animated the
    anime and ``producer_weight`` otherwise, normalized to sum to 1 per anime. (The
    graph's ``animated_by`` and ``produced_by`` edges are weighted 1/k within each role.)
    """

    relation_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RELATION_WEIGHTS))
    tag_category_factors: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_TAG_CATEGORY_FACTORS))
    default_tag_category_factor: float = 0.7
    null_tag_rank: float = 50.0
    min_tag_rank: float = 5.0
    animation_studio_weight: float = 2.0
    producer_weight: float = 1.0
    max_genres: int = 8
    max_tags: int = 16
    max_studios: int = 8
    max_relations: int = 16

    def __post_init__(self) -> None:
        unknown = set(self.relation_weights) - set(RELATION_TYPES)
        if unknown:
            raise ValueError(f"unknown relation types in relation_weights: {sorted(unknown)}")
        missing = set(RELATION_TYPES) - set(self.relation_weights)
        if missing:
            raise ValueError(f"relation_weights lacks: {sorted(missing)}")

    def relation_weight(self, relation_type: str) -> float:
        return float(self.relation_weights[relation_type])

    def tag_weight(self, rank: float | None, category: str | None) -> float:
        rank = self.null_tag_rank if rank is None else max(float(rank), self.min_tag_rank)
        head = (category or "").split("-")[0].strip()
        factor = self.tag_category_factors.get(head, self.default_tag_category_factor)
        return rank / 100.0 * factor

    def to_dict(self) -> dict[str, Any]:
        return {f.name: (dict(v) if isinstance(v := getattr(self, f.name), Mapping) else v)
                for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "GraphConfig":
        d = {_RENAMED.get(k, k): v for k, v in d.items()}
        return cls(**{k: v for k, v in d.items() if k in {f.name for f in fields(cls)}})

