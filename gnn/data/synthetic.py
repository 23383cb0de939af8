"""Seeded synthetic sample in the input-contract shape: the embedded default the demo runs on.

The sample is made up end to end (invented titles, studios and tags; simulated
users), so it can be committed and redistributed freely. It still carries the
structure that makes a graph model worth having: franchises of seasons linked
SEQUEL/PREQUEL (sometimes only one direction), side stories, recaps, spin-offs
and remakes, studios that keep franchises and specialise in genres, tags and
genres that correlate, power-law popularity, and users whose tastes, rating
habits and franchise loyalty the ratings reflect.

Catalog and users are drawn from two independent streams spawned from the
seed, so changing ``n_users`` or ``scale`` keeps the catalog identical, and a
larger ``scale`` keeps the first users of a smaller one. The same config
always produces byte-identical files.

:func:`write_sample` writes ``ratings.csv`` one chunk of users at a time, so
any size fits in memory (60M ratings: ``n_anime=17_000, ratings_median=140``
and :func:`users_for_ratings`); the chunk size never changes the bytes.

    >>> records, ratings = generate_sample(SampleConfig(n_anime=50, n_users=20))
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from gnn.data._synthetic_catalog import TAG_CATEGORIES, TAG_NAMES, SyntheticCatalog, build_catalog
from gnn.data._synthetic_names import GENRES
from gnn.data._synthetic_users import CHUNK_USERS, generate_ratings, user_chunks
from gnn.io import atomic_path, dumps_json, write_json

# Typical (episodes choices, duration range in minutes) per format.
_SHAPES: dict[str, tuple[tuple[int, ...], tuple[int, int]]] = {
    "TV": ((12, 12, 13, 13, 24, 25, 26, 10, 11, 50), (22, 25)),
    "TV_SHORT": ((12, 13, 24), (2, 9)),
    "MOVIE": ((1,), (60, 140)),
    "OVA": ((1, 1, 1, 2, 3, 4, 6), (15, 50)),
    "SPECIAL": ((1, 1, 2, 3, 6), (3, 25)),
    "ONA": ((1, 6, 10, 12, 12, 24), (3, 24)),
    "MUSIC": ((1,), (3, 6)),
}


@dataclass(frozen=True)
class SampleConfig:
    """Sizes and knobs of the synthetic sample; the defaults give the committed demo data.

    ``scale`` multiplies the number of users (and so the ratings) for benchmarks
    (1x/2x/4x/8x) while the catalog stays the same.
    """

    n_anime: int = 1500            # exact catalog size (franchises are generated until reached)
    n_users: int = 1200            # users at scale 1
    scale: float = 1.0
    seed: int = 0
    n_studios: int = 90            # animation studios (isMain true)
    n_producers: int = 60          # producers, licensors... (isMain false)
    end_year: int = 2024           # "now": later anime are NOT_YET_RELEASED and unrated
    # Ratings per user ~ lognormal(log(median), sigma), clipped to [min, max].
    ratings_median: float = 42.0
    ratings_sigma: float = 0.8
    ratings_min: int = 5
    ratings_max: int = 400
    # Franchise popularity ~ min_members * (1 + Pareto(alpha)): a power law.
    min_members: float = 300.0
    popularity_alpha: float = 1.0
    p_both_directions: float = 0.85   # a relation written in both directions; else one
    n_archetypes: int = 8
    popularity_exponent: float = 0.8  # discovery weight ~ popularity ** this
    taste_pick_weight: float = 1.0
    mean_rating: float = 6.3
    user_bias_sd: float = 0.7
    quality_weight: float = 0.9
    taste_weight: float = 0.9
    rating_noise: float = 0.9

    def __post_init__(self) -> None:
        for name in ("n_anime", "n_users", "n_studios", "n_producers", "n_archetypes", "ratings_min"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.scale > 0:
            raise ValueError(f"scale must be positive, got {self.scale}")
        if not (self.ratings_median > 0 and self.ratings_sigma > 0):
            raise ValueError("ratings_median and ratings_sigma must be positive")
        if self.ratings_max < self.ratings_min:
            raise ValueError("ratings_max must be >= ratings_min")
        if not 0.0 <= self.p_both_directions <= 1.0:
            raise ValueError("p_both_directions must be within 0..1")

    @property
    def total_users(self) -> int:
        return max(1, int(round(self.n_users * self.scale)))

    def expected_ratings_per_user(self) -> float:
        """The mean of ``clip(round(lognormal(log(median), sigma)), min, max)``, the number of ratings a
        user is drawn to give (a user runs short only when the catalog does: a tiny one)."""
        mu, sigma = math.log(self.ratings_median), self.ratings_sigma

        def below(x: float) -> float:   # P(lognormal < x)
            return 0.5 * (1.0 + math.erf((math.log(x) - mu) / (sigma * math.sqrt(2.0)))) if x > 0 else 0.0

        lo, hi = self.ratings_min, self.ratings_max
        mean = lo * below(lo + 0.5) + hi * (1.0 - below(hi - 0.5))
        return mean + sum(k * (below(k + 0.5) - below(k - 0.5)) for k in range(lo + 1, hi))


def users_for_ratings(n_ratings: int, config: SampleConfig) -> int:
    """The ``n_users`` that gives about ``n_ratings`` ratings at ``config.scale`` (within a few per cent
    at a catalog of thousands; the written count is exact and reported)."""
    if n_ratings < 1:
        raise ValueError(f"n_ratings must be at least 1, got {n_ratings}")
    return max(1, int(round(n_ratings / config.expected_ratings_per_user() / config.scale)))


def _chance(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def to_records(cat: SyntheticCatalog, cfg: SampleConfig, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Contract-shaped records sorted by id, with realistic gaps (nulls, empty lists)."""
    entries = sorted(cat.entries, key=lambda e: e.id)
    index_id = {i: e.id for i, e in enumerate(cat.entries)}
    anilist = rng.choice(np.arange(1, 8 * len(entries) + 1), size=len(entries), replace=False)
    records = []
    for e, al in zip(entries, anilist):
        status = "FINISHED"
        if e.year > cfg.end_year:
            status = "NOT_YET_RELEASED"
        elif e.year == cfg.end_year and e.format in ("TV", "ONA") and _chance(rng, 0.5):
            status = "RELEASING"
        choices, (lo, hi) = _SHAPES[e.format]
        episodes: int | None = int(choices[rng.integers(len(choices))])
        if _chance(rng, {"FINISHED": 0.02, "RELEASING": 0.5}.get(status, 0.7)):
            episodes = None
        obscure = e.pop < 1000   # obscure entries are the ones real catalogs know least about
        tags = [] if _chance(rng, 0.05 + 0.15 * obscure) else e.tags
        no_rank = _chance(rng, 0.15)   # whole entry from a source without tag ranks
        members_factor = 0.3 if status == "NOT_YET_RELEASED" else 1.0   # only the curious signed up yet
        score = None
        if status != "NOT_YET_RELEASED" and not _chance(rng, 0.05 + 0.35 * obscure):
            score = round(float(np.clip(66.0 + 8.0 * e.quality + rng.normal(0, 3.0), 15.0, 95.0)), 1)
        records.append({
            "id": e.id, "idMal": e.id, "idAnilist": None if _chance(rng, 0.3) else int(al),
            "title": {"romaji": e.titles[0], "english": e.titles[2] if e.has_english else None,
                      "native": None if _chance(rng, 0.1) else e.titles[1]},
            "format": None if _chance(rng, 0.005) else e.format,
            "episodes": episodes,
            "duration": None if _chance(rng, 0.12) else int(rng.integers(lo, hi + 1)),
            "status": None if _chance(rng, 0.015) else status,
            "year": None if _chance(rng, 0.03) else e.year,
            "genres": [] if _chance(rng, 0.03) else [GENRES[g] for g in e.genres],
            "tags": [{"name": TAG_NAMES[t], "rank": None if no_rank or _chance(rng, 0.03) else r,
                      "category": TAG_CATEGORIES[t]} for t, r in tags],
            "studios": [{"id": cat.companies[c][1], "name": cat.companies[c][0], "isMain": c < cat.n_studios}
                        for c in e.studios + e.producers],
            "relations": [{"id": index_id[j], "relationType": rtype} for j, rtype in e.relations],
            "popularity": None if _chance(rng, 0.05) else max(1, int(round(e.pop * members_factor))),
            "averageScore": score,
            "coverImage": None,   # no artwork in a synthetic sample
            "description": None,
        })
    return records


def _catalog(config: SampleConfig) -> tuple[SyntheticCatalog, list[dict[str, Any]], np.random.Generator]:
    """(the catalog's truth, its contract records, the users' random stream) for ``config``."""
    catalog_seed, users_seed = np.random.SeedSequence(config.seed).spawn(2)
    catalog_rng = np.random.default_rng(catalog_seed)
    cat = build_catalog(config, catalog_rng)
    return cat, to_records(cat, config, catalog_rng), np.random.default_rng(users_seed)


def generate_sample(config: SampleConfig = SampleConfig(),
                    progress: bool = False) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """Return (catalog records, ratings frame with user_id, anime_id, rating) for ``config``, in memory
    (a small config; :func:`write_sample` streams any size)."""
    cat, records, users_rng = _catalog(config)
    return records, generate_ratings(cat, config, users_rng, progress=progress)


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`write_sample` wrote, for the CLI's summary line."""

    out_dir: Path
    n_anime: int
    n_users: int
    n_ratings: int
    relations: dict[str, int]
    config: SampleConfig


def _readme(summary: SampleSummary) -> str:
    cfg = summary.config
    command = (f"anime-gnn generate-sample --seed {cfg.seed} --n-anime {cfg.n_anime} "
               f"--n-users {cfg.n_users} --scale {cfg.scale:g}")
    default = SampleConfig()
    for name in ("ratings_median", "ratings_max"):   # the per-user counts, only where they differ
        if getattr(cfg, name) != getattr(default, name):
            command += f" --{name.replace('_', '-')} {getattr(cfg, name):g}"
    relations = ", ".join(f"{k} {v:,}" for k, v in sorted(summary.relations.items(), key=lambda kv: -kv[1]))
    return (
        "# SYNTHETIC sample data\n\n"
        "Everything in this directory is **synthetic**: invented titles, studios, tags and simulated\n"
        "users. It is not real catalog or rating data and describes no real anime or person.\n\n"
        f"Generated by `{command}`\n"
        f"(seed {cfg.seed}, {cfg.n_anime:,} anime, {cfg.n_users:,} users x scale {cfg.scale:g});\n"
        "the same command always writes byte-identical files.\n\n"
        f"* `anime_catalog.json`: {summary.n_anime:,} anime in the input-contract shape "
        "(one record per line)\n"
        f"* `ratings.csv`: {summary.n_ratings:,} ratings (1-10) from {summary.n_users:,} users\n"
        f"* relations: {relations}\n\n"
        "Structure: franchises of seasons (SEQUEL/PREQUEL, sometimes only one direction), side\n"
        "stories, recaps, spin-offs, remakes; studios that keep franchises; power-law popularity;\n"
        "users with latent tastes who tend to continue franchises they liked.\n"
    )


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _write_ratings(path: Path, chunks: Iterator[pd.DataFrame]) -> tuple[int, int]:
    """Write the chunks as one CSV (header once, the bytes of one ``to_csv``); return (users, ratings)."""
    users = ratings = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        for i, frame in enumerate(chunks):
            frame.to_csv(f, index=False, header=i == 0)
            users += int(frame["user_id"].nunique())
            ratings += len(frame)
    return users, ratings


def write_sample(out_dir: str | Path, config: SampleConfig = SampleConfig(), progress: bool = False,
                 chunk_users: int = CHUNK_USERS) -> SampleSummary:
    """Write ``anime_catalog.json``, ``ratings.csv`` and a README.md into ``out_dir`` atomically.

    ``ratings.csv`` is written ``chunk_users`` users at a time: memory is one chunk's ratings, and the
    file is the same for every chunk size.
    """
    out_dir = Path(out_dir)
    cat, records, users_rng = _catalog(config)
    # One record per line: compact, yet diffs and greps stay readable.
    _write_text(out_dir / "anime_catalog.json",
                "[\n" + ",\n".join(dumps_json(r, indent=None) for r in records) + "\n]\n")
    chunks = user_chunks(cat, config, users_rng, progress=progress, chunk_users=chunk_users)
    n_users, n_ratings = _write_ratings(out_dir / "ratings.csv", chunks)
    relations = Counter(rel["relationType"] for r in records for rel in r["relations"])
    summary = SampleSummary(out_dir=out_dir, n_anime=len(records), n_users=n_users, n_ratings=n_ratings,
                            relations=dict(relations), config=config)
    _write_text(out_dir / "README.md", _readme(summary))
    # Machine-readable provenance: preprocess carries it into data_stats.json, and from there
    # the trained model, the export metadata and the web page can say the data is synthetic.
    write_json(out_dir / "dataset.json", {"name": "anime-gnn synthetic sample", "synthetic": True,
                                          "generator": "anime-gnn generate-sample", "seed": config.seed})
    return summary
