"""MyAnimeList's current genre taxonomy, and the mapping from the old flat genre lists.

Until 2022 MAL listed genres, themes and demographics in one "genres" list, so
the Kaggle dumps (2017, 2020) have e.g. "Action, Military, Sci-Fi, Shounen".
Today MAL splits them; the input contract keeps genres in ``genres`` and puts
themes and demographics in ``tags`` (category ``Theme`` / ``Demographic``,
``rank`` null). Renamed entries follow MAL's renames (same MAL ids, new names).
"""

from __future__ import annotations

GENRES: tuple[str, ...] = (
    "Action", "Adventure", "Avant Garde", "Award Winning", "Boys Love", "Comedy", "Drama",
    "Fantasy", "Girls Love", "Gourmet", "Horror", "Mystery", "Romance", "Sci-Fi",
    "Slice of Life", "Sports", "Supernatural", "Suspense", "Ecchi", "Erotica", "Hentai",
)
DEMOGRAPHICS: tuple[str, ...] = ("Josei", "Kids", "Seinen", "Shoujo", "Shounen")

# Old genre name -> current genre.
GENRE_RENAMES: dict[str, str] = {
    "Dementia": "Avant Garde", "Thriller": "Suspense",
    "Shoujo Ai": "Girls Love", "Yuri": "Girls Love",
    "Shounen Ai": "Boys Love", "Yaoi": "Boys Love",
}
# Old genre name -> current theme (everything else old becomes a theme under its own name).
THEME_RENAMES: dict[str, str] = {
    "Cars": "Racing", "Demons": "Mythology", "Police": "Detective",
    "Romantic Subtext": "Love Status Quo", "Work Life": "Workplace",
}

_BY_LOWER: dict[str, tuple[str, str]] = {
    **{g.lower(): ("genre", g) for g in GENRES},
    **{d.lower(): ("Demographic", d) for d in DEMOGRAPHICS},
    **{old.lower(): ("genre", new) for old, new in GENRE_RENAMES.items()},
    **{old.lower(): ("Theme", new) for old, new in THEME_RENAMES.items()},
}
_UNKNOWN = {"", "unknown", "none", "nan"}


def split_genres(text: str) -> tuple[list[str], list[dict[str, object]]]:
    """``"Action, Military, Shounen"`` -> (genres, tags); order kept, duplicates dropped."""
    genres: list[str] = []
    tags: list[dict[str, object]] = []
    seen: set[tuple[str, str]] = set()
    for raw in text.split(","):
        name = raw.strip()
        if name.lower() in _UNKNOWN:
            continue
        kind, mapped = _BY_LOWER.get(name.lower(), ("Theme", name))
        if (kind, mapped) in seen:
            continue  # e.g. "Shoujo Ai, Yuri" both mean Girls Love
        seen.add((kind, mapped))
        if kind == "genre":
            genres.append(mapped)
        else:
            tags.append({"name": mapped, "rank": None, "category": kind})
    return genres, tags
