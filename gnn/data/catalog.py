"""Read ``anime_catalog.json`` in the current contract shape or the older AniList-fetch shape.

Current shape (see README "Input contract")::

    {"id": 1, "title": {"romaji": ..., "english": ..., "native": ...}, "format": "TV",
     "tags": [{"name": "Space", "rank": 80, "category": "Theme"}],
     "studios": [{"id": 14, "name": "Sunrise", "isMain": true, "isAnimationStudio": true}],
     "relations": [{"id": 5, "relationType": "SIDE_STORY"}], "averageScore": 87.5, ...}

Older AniList-fetch shape::

    {"anilist_id": 1, "title": {...}, "relations": [{"relationType": "SEQUEL", "node": {"id": 5}}],
     "studios": [{"isMain": true, "node": {"id": 14, "name": "Sunrise", "isAnimationStudio": true}}],
     "rating": 8.75, "image_url": "...", ...}

Fatal problems (unreadable JSON, a record without an id, duplicate ids, wrong
types) raise :class:`gnn.errors.InputError` naming file, record and field.
Recoverable ones are counted in ``Catalog.counts`` (e.g. an unknown relation
type is kept as OTHER; a number outside its plausible range in :data:`RANGES`,
such as an ``averageScore`` beyond 0..100 or a negative popularity, is kept as
missing; a format outside the contract is kept as unknown, ``format_unknown``).
Relations to anime missing from the catalog are resolved later by the graph
builder, which sees the whole catalog.

Studios: ``isMain`` marks the anime's animation studio (MyAnimeList's Studios
column; the other companies are producers, publishers, broadcasters);
``isAnimationStudio`` (optional, AniList's flag on the company) set to false
makes even a main entry a producer (:attr:`gnn.data.schema.Studio.animates`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from gnn.data.schema import FORMATS, RELATION_TYPES, Anime, Catalog, Relation, Studio, Tag
from gnn.errors import InputError
from gnn.io import read_json_array

_NUMBER = (int, float)
_INT64 = 2**63

# Plausible ranges of catalog numbers. A value outside its range is kept as missing
# (the feature's "missing" flag is set) and counted under the key given here.
RANGES: dict[str, tuple[float, float, str]] = {
    "averageScore": (0.0, 100.0, "average_score_out_of_range_as_missing"),
    "popularity": (0.0, math.inf, "popularity_negative_as_missing"),
    "episodes": (0.0, math.inf, "episodes_negative_as_missing"),
    "duration": (0.0, math.inf, "duration_negative_as_missing"),
    "year": (1800.0, 2200.0, "year_out_of_range_as_missing"),
}


def _short(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut so that an error quoting a hostile value stays one short line."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _in_range(field: str, value: float | None, counts: dict[str, int]) -> float | None:
    """``value`` if inside ``RANGES[field]``, else None (counted)."""
    low, high, key = RANGES[field]
    if value is None or low <= value <= high:
        return value
    counts[key] = counts.get(key, 0) + 1
    return None


class _Record:
    """Typed field access on one JSON record, with errors that name the record."""

    def __init__(self, file: str, index: int, raw: dict[str, Any]) -> None:
        self.file, self.raw = file, raw
        self.label: str | int = index

    def fail(self, field: str, message: str) -> InputError:
        return InputError(self.file, message, record=self.label, field=field)

    def int_or_none(self, field: str, value: Any = ..., *, name: str | None = None) -> int | None:
        value = self.raw.get(field) if value is ... else value
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, _NUMBER) or (
                isinstance(value, float) and not value.is_integer()):
            raise self.fail(name or field, f"expected an integer, got {_short(value)}")
        if not -_INT64 <= value < _INT64:
            raise self.fail(name or field, f"integer out of range (64-bit): {_short(value)}")
        return int(value)

    def float_or_none(self, field: str, value: Any = ...) -> float | None:
        value = self.raw.get(field) if value is ... else value
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, _NUMBER) or not math.isfinite(value):
            raise self.fail(field, f"expected a number, got {_short(value)}")
        return float(value)

    def str_or_none(self, field: str, value: Any = ...) -> str | None:
        value = self.raw.get(field) if value is ... else value
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(field, f"expected a string, got {_short(value)}")
        return value

    def list_of_dicts(self, field: str) -> list[dict[str, Any]]:
        value = self.raw.get(field)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(field, "expected a list of objects")
        return value


def _title(rec: _Record) -> tuple[str | None, str | None, str | None]:
    title = rec.raw.get("title")
    if title is None or isinstance(title, str):
        return title, None, None
    if not isinstance(title, dict):
        raise rec.fail("title", f"expected an object or a string, got {title!r}")
    return tuple(rec.str_or_none(f"title.{k}", title.get(k)) for k in ("romaji", "english", "native"))


def _tags(rec: _Record) -> tuple[Tag, ...]:
    tags = []
    for t in rec.list_of_dicts("tags"):
        name = rec.str_or_none("tags[].name", t.get("name"))
        if not name:
            raise rec.fail("tags[].name", "tag without a name")
        rank = rec.float_or_none("tags[].rank", t.get("rank"))
        if rank is not None and not 0 <= rank <= 100:
            raise rec.fail("tags[].rank", f"rank must be within 0..100, got {rank}")
        tags.append(Tag(name=name, rank=None if rank is None else int(round(rank)),
                        category=rec.str_or_none("tags[].category", t.get("category"))))
    return tuple(tags)


def _studios(rec: _Record) -> tuple[Studio, ...]:
    studios = []
    for s in rec.list_of_dicts("studios"):
        node = s.get("node", s)  # older shape nests id/name under "node"
        if not isinstance(node, dict):
            raise rec.fail("studios[].node", "expected an object")
        name = rec.str_or_none("studios[].name", node.get("name"))
        if not name:
            raise rec.fail("studios[].name", "studio without a name")
        is_main = s.get("isMain", False)
        if not isinstance(is_main, bool):
            raise rec.fail("studios[].isMain", f"expected true/false, got {is_main!r}")
        # AniList's flag sits on the company (the node); the flat shape carries it on the entry.
        animation = s.get("isAnimationStudio", node.get("isAnimationStudio"))
        if animation is not None and not isinstance(animation, bool):
            raise rec.fail("studios[].isAnimationStudio", f"expected true/false/null, got {_short(animation)}")
        studios.append(Studio(name=name, is_main=is_main, id=rec.int_or_none("studios[].id", node.get("id")),
                              is_animation_studio=animation))
    return tuple(studios)


def _relations(rec: _Record, counts: dict[str, int]) -> tuple[Relation, ...]:
    relations = []
    for r in rec.list_of_dicts("relations"):
        node = r.get("node")
        if node is not None and not isinstance(node, dict):
            raise rec.fail("relations[].node", "expected an object")
        target_raw = node.get("id") if node is not None else r.get("id")
        target = rec.int_or_none("relations[].id", target_raw)
        if target is None:
            raise rec.fail("relations[].id", "relation without a target id")
        rtype = r.get("relationType")
        if not isinstance(rtype, str) or rtype.upper() not in RELATION_TYPES:
            counts["relations_unknown_type_as_other"] = counts.get("relations_unknown_type_as_other", 0) + 1
            rtype = "OTHER"
        relations.append(Relation(target=target, type=rtype.upper()))
    return tuple(relations)


def parse_anime(raw: Any, index: int, file: str, counts: dict[str, int]) -> Anime:
    """Parse one catalog record (either shape) into an :class:`Anime`."""
    if not isinstance(raw, dict):
        raise InputError(file, "expected an object", record=index)
    rec = _Record(file, index, raw)
    id_field = "id" if "id" in raw else "anilist_id"
    anime_id = rec.int_or_none(id_field)
    if anime_id is None:
        raise rec.fail("id", "record has no id (expected 'id' or 'anilist_id')")
    rec.label = f"{index} (id {anime_id})"
    romaji, english, native = _title(rec)
    genres = raw.get("genres") or []
    if not isinstance(genres, list) or not all(isinstance(g, str) for g in genres):
        raise rec.fail("genres", "expected a list of strings")
    if "averageScore" in raw:
        average = rec.float_or_none("averageScore")
    else:  # older shape: "rating" on 0-10
        rating = rec.float_or_none("rating")
        average = None if rating is None else rating * 10.0
    cover = raw.get("coverImage", raw.get("image_url"))
    if isinstance(cover, dict):  # AniList's coverImage {large, medium}
        cover = cover.get("large") or cover.get("medium")
    fmt = rec.str_or_none("format")
    if fmt is not None and fmt not in FORMATS:
        counts["format_unknown"] = counts.get("format_unknown", 0) + 1  # kept; its one-hot is "unknown"

    def whole(field: str, name: str | None = None) -> int | None:
        value = _in_range(field, rec.int_or_none(name or field), counts)
        return None if value is None else int(value)

    return Anime(
        id=anime_id, title_romaji=romaji, title_english=english, title_native=native,
        format=fmt, episodes=whole("episodes"), duration=whole("duration"),
        status=rec.str_or_none("status"),
        year=whole("year", "year" if "year" in raw else "seasonYear"),
        genres=tuple(dict.fromkeys(genres)), tags=_tags(rec), studios=_studios(rec),
        relations=_relations(rec, counts),
        popularity=_in_range("popularity", rec.float_or_none("popularity"), counts),
        average_score=_in_range("averageScore", average, counts),
        cover_image=rec.str_or_none("coverImage", cover),
        id_mal=rec.int_or_none("idMal"),
        id_anilist=anime_id if id_field == "anilist_id" else rec.int_or_none("idAnilist"),
    )


def read_catalog(path: str | Path) -> Catalog:
    """Read a catalog file; raise :class:`InputError` on anything fatal."""
    file = str(path)
    raw = read_json_array(path, "anime records")
    counts: dict[str, int] = {}
    anime: list[Anime] = []
    seen: dict[int, int] = {}
    for i, record in enumerate(raw):
        a = parse_anime(record, i, file, counts)
        if a.id in seen:
            raise InputError(file, f"duplicate id {a.id} (first at record {seen[a.id]})",
                             record=i, field="id")
        seen[a.id] = i
        anime.append(a)
    return Catalog(anime=anime, source=file, counts=counts)
