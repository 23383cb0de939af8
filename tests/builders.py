"""Small builders for test inputs: contract records, CSV files and hypothesis strategies.

Everything here is invented (ids, names, ratings); nothing comes from the real data.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import torch
from hypothesis import strategies as st

from gnn.data.schema import FORMATS, RELATION_TYPES

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "catalog"


def strict_loads(text: str) -> Any:
    """Parse JSON as any other reader would: ``NaN``/``Infinity`` are errors (Python's json accepts them)."""
    def reject(constant: str) -> Any:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=reject)


# Names used by the random catalogs. "<pad>" is a legal name too: the padding
# entry of a vocabulary is a position (index 0), not a name.
STUDIO_NAMES = ("Studio Kestrel", "Orbit Pictures", "Paper Lantern Works", "Blue Finch", "<pad>")
TAG_NAMES = ("Space", "Robots", "Food", "Iyashikei", "Time Skip", "Shounen", "<pad>")
TAG_CATEGORIES = (None, "Theme", "Theme-Action", "Setting-Universe", "Demographic", "Cast-Main Cast",
                  "Technical", "Sexual Content", "Made Up Category", "")
GENRE_NAMES = ("Action", "Comedy", "Drama", "Sci-Fi", "Slice of Life", "<pad>")


def record(anime_id: int, **fields: Any) -> dict[str, Any]:
    """One catalog record in the current contract shape, every key present."""
    base: dict[str, Any] = {
        "id": anime_id, "idMal": anime_id, "idAnilist": None,
        "title": {"romaji": f"Anime {anime_id}", "english": None, "native": None},
        "format": "TV", "episodes": 12, "duration": 24, "status": "FINISHED", "year": 2020,
        "genres": [], "tags": [], "studios": [], "relations": [],
        "popularity": 1000, "averageScore": 70.0, "coverImage": None, "description": None,
    }
    base.update(fields)
    return base


def rel(target: int, relation_type: str) -> dict[str, Any]:
    return {"id": target, "relationType": relation_type}


def studio(name: str, is_main: bool = True, studio_id: int | None = None,
           animation: bool | None = None) -> dict[str, Any]:
    """A studio entry; ``animation`` is AniList's ``isAnimationStudio`` (left out when None)."""
    out: dict[str, Any] = {"id": studio_id, "name": name, "isMain": is_main}
    if animation is not None:
        out["isAnimationStudio"] = animation
    return out


def tag(name: str, rank: float | None = 50, category: str | None = "Theme") -> dict[str, Any]:
    return {"name": name, "rank": rank, "category": category}


def to_anilist_shape(rec: dict[str, Any]) -> dict[str, Any]:
    """The same record in the older AniList-fetch shape."""
    old = {k: v for k, v in rec.items()
           if k not in ("id", "idAnilist", "relations", "studios", "averageScore", "coverImage",
                        "year", "description")}
    old["anilist_id"] = rec["id"]
    old["seasonYear"] = rec.get("year")
    old["relations"] = [{"relationType": r["relationType"], "node": {"id": r["id"]}}
                        for r in rec.get("relations", [])]
    old["studios"] = [{"isMain": s["isMain"], "node": {"id": s.get("id"), "name": s["name"],
                                                       **({"isAnimationStudio": s["isAnimationStudio"]}
                                                          if "isAnimationStudio" in s else {})}}
                      for s in rec.get("studios", [])]
    score = rec.get("averageScore")
    old["rating"] = None if score is None else score / 10.0
    old["image_url"] = rec.get("coverImage")
    return old


def write_json(path: Path, obj: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1), encoding="utf-8")
    return path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def make_dataset(root: Path, n_anime: int = 30, n_users: int = 40, per_user: tuple[int, int] = (12, 30),
                 seed: int = 0, with_split: bool = False) -> Path:
    """A random but reproducible input folder: catalog + ratings.csv (optionally a split column)."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(1, n_anime + 1):
        relations = []
        if i > 1 and i % 3 != 1:           # franchises of three: 1-2-3, 4-5-6, ...
            relations.append(rel(i - 1, "PREQUEL"))
        if rng.random() < 0.2:
            relations.append(rel(int(rng.integers(1, n_anime + 1)), str(rng.choice(RELATION_TYPES))))
        k = int(rng.integers(0, 3))
        studios = [studio(STUDIO_NAMES[j], is_main=(n == 0))
                   for n, j in enumerate(rng.choice(4, size=k, replace=False))]
        tags = [tag(TAG_NAMES[j], rank=int(rng.integers(0, 101)), category="Theme")
                for j in rng.choice(6, size=int(rng.integers(0, 4)), replace=False)]
        genres = [GENRE_NAMES[j] for j in rng.choice(5, size=int(rng.integers(1, 3)), replace=False)]
        records.append(record(i, relations=relations, studios=studios, tags=tags, genres=genres,
                              popularity=int(rng.integers(100, 100000)),
                              averageScore=float(rng.integers(40, 95)),
                              format=str(rng.choice(FORMATS)), year=int(rng.integers(1990, 2025))))
    write_json(root / "anime_catalog.json", records)
    rows = []
    for u in range(1, n_users + 1):
        k = int(rng.integers(per_user[0], per_user[1] + 1))
        for a in sorted(rng.choice(n_anime, size=min(k, n_anime), replace=False) + 1):
            rows.append([f"user{u:03d}", int(a), int(rng.integers(1, 11))])
    if with_split:
        rows = [r + [str(rng.choice(["train", "train", "train", "test"]))] for r in rows]
    write_csv(root / "ratings.csv", ["user_id", "anime_id", "rating"] + (["split"] if with_split else []),
              rows)
    return root


# ---------------------------------------------------------------- hypothesis strategies

_ranks = st.one_of(st.none(), st.integers(0, 100), st.floats(0, 100, allow_nan=False))
_relation_types = st.sampled_from(RELATION_TYPES + ("ADAPTATION", "sequel"))


@st.composite
def raw_catalogs(draw: st.DrawFn, max_anime: int = 8, anilist_shape: bool | None = None
                 ) -> list[dict[str, Any]]:
    """A valid catalog (list of JSON records), randomly in the current or the older shape.

    Relations may point anywhere (other anime, themselves, ids outside the catalog) and may
    repeat; studios, tags and genres may repeat; numbers may be missing.
    """
    ids = draw(st.lists(st.integers(1, 60), min_size=1, max_size=max_anime, unique=True))
    old = draw(st.booleans()) if anilist_shape is None else anilist_shape
    targets = st.one_of(st.sampled_from(ids), st.integers(1, 70))
    records = []
    for anime_id in ids:
        rec = record(
            anime_id,
            title=draw(st.one_of(st.none(), st.just({"romaji": f"Anime {anime_id}", "english": None,
                                                     "native": None}))),
            format=draw(st.one_of(st.none(), st.sampled_from(FORMATS + ("WEIRD",)))),
            episodes=draw(st.one_of(st.none(), st.integers(0, 3000))),
            year=draw(st.one_of(st.none(), st.integers(1950, 2030))),
            popularity=draw(st.one_of(st.none(), st.integers(0, 10**7))),
            averageScore=draw(st.one_of(st.none(), st.floats(0, 100, allow_nan=False))),
            genres=draw(st.lists(st.sampled_from(GENRE_NAMES), max_size=4)),
            tags=[tag(n, r, c) for n, r, c in draw(st.lists(
                st.tuples(st.sampled_from(TAG_NAMES), _ranks, st.sampled_from(TAG_CATEGORIES)),
                max_size=5))],
            studios=[studio(n, m, i, a) for n, m, i, a in draw(st.lists(
                st.tuples(st.sampled_from(STUDIO_NAMES), st.booleans(),
                          st.one_of(st.none(), st.integers(1, 50)), st.one_of(st.none(), st.booleans())),
                max_size=4))],
            relations=[rel(t, k) for t, k in draw(st.lists(st.tuples(targets, _relation_types),
                                                           max_size=4))],
        )
        records.append(to_anilist_shape(rec) if old else rec)
    return records


TINY_N_ANIME = 31
TINY_FORMATS = ("TV", "MOVIE", "OVA")


def write_tiny_inputs(folder: Path, n_users: int = 40, seed: int = 0) -> None:
    """30 anime in 10 three-season franchises (SEQUEL/PREQUEL), genre by franchise, one studio per
    franchise, one tag; anime 31 is bare (no genre, tag, studio, relation or MAL/AniList id). Anime i
    has MAL id 100 + i and AniList id 200 + i (none for franchise 9, anime 28-30); anime 27 is airing,
    30 announced, the rest finished (the bare one: unknown). Each user rates 26
    anime; taste follows the genre. Shared by the trainer, export and benchmark tests."""
    rng = np.random.default_rng(seed)
    genres = ["Action", "Comedy", "Drama"]
    catalog = []
    for i in range(1, TINY_N_ANIME):
        franchise, season = divmod(i - 1, 3)
        relations = ([{"id": i - 1, "relationType": "PREQUEL"}] if season > 0 else []) + \
                    ([{"id": i + 1, "relationType": "SEQUEL"}] if season < 2 else [])
        catalog.append({"id": i, "idMal": 100 + i, "idAnilist": 200 + i if franchise < 9 else None,
                        "title": {"romaji": f"Show {franchise} S{season + 1}", "english": None,
                                           "native": None},
                        "format": TINY_FORMATS[season], "episodes": 12, "year": 2000 + franchise,
                        "status": {27: "RELEASING", 30: "NOT_YET_RELEASED"}.get(i, "FINISHED"),
                        "genres": [genres[franchise % 3]],
                        "tags": [{"name": f"Tag{franchise % 4}", "rank": 60, "category": "Theme"}],
                        "studios": [{"id": franchise % 5, "name": f"Studio {franchise % 5}", "isMain": True}],
                        "relations": relations, "popularity": 1000 * (TINY_N_ANIME - i), "averageScore": 70.0})
    catalog.append({"id": TINY_N_ANIME, "title": {"romaji": "Bare", "english": None, "native": None}})
    taste = rng.normal(size=(n_users, 3))
    quality = rng.normal(size=TINY_N_ANIME)
    rows = []
    for u in range(n_users):
        for a in rng.choice(TINY_N_ANIME, size=26, replace=False):
            score = 6.5 + 1.5 * taste[u, (a // 3) % 3] + quality[a] + rng.normal(scale=0.3)
            rows.append((f"u{u:03d}", int(a) + 1, int(np.clip(round(score), 1, 10))))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "anime_catalog.json").write_text(json.dumps(catalog))
    pd.DataFrame(rows, columns=["user_id", "anime_id", "rating"]).to_csv(folder / "ratings.csv", index=False)


def pad_histories(rows: Sequence[Sequence[tuple[int, float]]]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(anime [U, L] long, rating [U, L])`` from rows of (anime, rating) pairs, padded with 0."""
    width = max(1, max((len(r) for r in rows), default=0))
    anime, rating = torch.zeros(len(rows), width, dtype=torch.long), torch.zeros(len(rows), width)
    for i, row in enumerate(rows):
        for j, (a, r) in enumerate(row):
            anime[i, j], rating[i, j] = a, r
    return anime, rating
