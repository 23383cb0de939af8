"""The input contract's in-memory form.

The on-disk contract (``anime_catalog.json``, ``ratings.csv``) is documented in
README.md ("Input contract"). Readers in :mod:`gnn.data.catalog` and
:mod:`gnn.data.ratings` turn both the current shape and the older AniList-fetch
shape into these frozen records, so everything downstream sees one form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Relation types of the contract, in a fixed order: the position is the
# ``edge_type`` id stored on the graph's anime-anime edges.
RELATION_TYPES: tuple[str, ...] = (
    "SEQUEL", "PREQUEL", "PARENT", "SIDE_STORY", "SPIN_OFF",
    "ALTERNATIVE", "SUMMARY", "CHARACTER", "OTHER",
)

# The inverse of each relation type, used to complete edges the catalog lacks
# (A SEQUEL B implies B PREQUEL A). A side story, spin-off or summary points back
# to its PARENT; a PARENT's inverse is taken to be SIDE_STORY, the commonest case.
INVERSE_RELATION: dict[str, str] = {
    "SEQUEL": "PREQUEL", "PREQUEL": "SEQUEL",
    "PARENT": "SIDE_STORY", "SIDE_STORY": "PARENT",
    "SPIN_OFF": "PARENT", "SUMMARY": "PARENT",
    "ALTERNATIVE": "ALTERNATIVE", "CHARACTER": "CHARACTER", "OTHER": "OTHER",
}

FORMATS: tuple[str, ...] = ("TV", "TV_SHORT", "MOVIE", "SPECIAL", "OVA", "ONA", "MUSIC")


@dataclass(frozen=True)
class Studio:
    """A company credited on an anime: its animation studio, or a producer (publisher, broadcaster...).

    ``is_main`` is the contract's ``isMain`` (MyAnimeList's Studios column; AniList's main
    studio edge); ``is_animation_studio`` is AniList's ``isAnimationStudio`` on the company
    (None = not given). :attr:`animates` is the role used everywhere downstream.
    """

    name: str
    is_main: bool
    id: int | None = None
    is_animation_studio: bool | None = None

    @property
    def animates(self) -> bool:
        """True if this company animated the anime: listed as main and not known to be a non-animation company."""
        return self.is_main and self.is_animation_studio is not False


@dataclass(frozen=True)
class Tag:
    name: str
    rank: int | None  # AniList relevance 0-100, higher = more relevant; None = unknown
    category: str | None


@dataclass(frozen=True)
class Relation:
    target: int          # catalog id of the related anime
    type: str            # one of RELATION_TYPES (unknown types become OTHER, counted)


@dataclass(frozen=True)
class Anime:
    id: int
    title_romaji: str | None = None
    title_english: str | None = None
    title_native: str | None = None
    format: str | None = None
    episodes: int | None = None
    duration: int | None = None
    status: str | None = None
    year: int | None = None
    genres: tuple[str, ...] = ()
    tags: tuple[Tag, ...] = ()
    studios: tuple[Studio, ...] = ()
    relations: tuple[Relation, ...] = ()
    popularity: float | None = None
    average_score: float | None = None  # 0-100
    cover_image: str | None = None
    id_mal: int | None = None
    id_anilist: int | None = None

    @property
    def title(self) -> str:
        return self.title_english or self.title_romaji or self.title_native or f"anime {self.id}"


@dataclass
class Catalog:
    """All anime of a catalog file, in file order, plus the reader's counts."""

    anime: list[Anime]
    source: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    def by_id(self) -> dict[int, Anime]:
        return {a.id: a for a in self.anime}
