"""The hidden truth behind the synthetic catalog: franchises, entries, studios, relations.

A franchise shares a latent quality, genres, tags and (mostly) its studio. Its
entries form a chain of seasons linked SEQUEL/PREQUEL, plus side stories, recaps,
spin-offs, remakes (ALTERNATIVE) and music videos; a few CHARACTER/OTHER links
cross franchises. Each link is written in both directions most of the time but
sometimes only one, as in real catalogs, so inverse completion has work to do.

:func:`build_catalog` returns the truth (what users react to);
:func:`to_records` turns it into contract-shaped JSON records with the missing
values a real catalog has, without changing the truth the users saw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from gnn.data import _synthetic_names as names
from gnn.data.schema import INVERSE_RELATION

if TYPE_CHECKING:  # only for annotations; avoids an import cycle with the public module
    from gnn.data.synthetic import SampleConfig

TAG_NAMES: tuple[str, ...] = tuple(t[0] for t in names.TAGS) + names.DEMOGRAPHICS
TAG_CATEGORIES: tuple[str, ...] = tuple(t[1] for t in names.TAGS) + ("Demographic",) * len(names.DEMOGRAPHICS)

# Kinds of non-season entries: (role, probability, format choices, relation from anchor, follow strength).
# "follow" is how readily a fan of the anchor goes on to watch the entry.
_EXTRAS: tuple[tuple[str, float, tuple[str, ...], str, float], ...] = (
    ("side", 0.33, ("OVA", "SPECIAL", "ONA"), "SIDE_STORY", 0.40),
    ("movie", 0.10, ("MOVIE",), "SIDE_STORY", 0.50),
    ("summary", 0.08, ("SPECIAL", "MOVIE"), "SUMMARY", 0.10),
    ("spin", 0.08, ("TV", "ONA", "TV_SHORT"), "SPIN_OFF", 0.25),
    ("alt", 0.25, ("TV", "MOVIE"), "ALTERNATIVE", 0.15),
    ("music", 0.16, ("MUSIC",), "OTHER", 0.10),
)
_FIRST_FORMATS = ("TV", "MOVIE", "ONA", "OVA", "SPECIAL", "TV_SHORT", "MUSIC")
_FIRST_FORMAT_P = (0.55, 0.13, 0.12, 0.09, 0.05, 0.03, 0.03)


@dataclass
class Entry:
    """One anime as the generator knows it (true values, before missing data)."""

    franchise: int
    role: str              # main, movie, side, summary, spin, alt, music
    season: int
    format: str
    year: int
    quality: float         # latent; drives averageScore and users' ratings
    pop: float             # latent exposure (members before noise)
    genres: list[int]
    tags: list[tuple[int, int]]       # (index into TAG_NAMES, rank 0-100)
    studios: list[int]                # main animation studios (company indices)
    producers: list[int]              # other companies (company indices)
    titles: tuple[str, str, str]
    has_english: bool
    id: int = 0
    relations: list[tuple[int, str]] = field(default_factory=list)   # (entry index, type)
    follow: list[tuple[int, float]] = field(default_factory=list)    # (entry index, strength)


@dataclass
class SyntheticCatalog:
    entries: list[Entry]
    companies: list[tuple[str, int | None]]   # (name, id); the first n_studios animate
    n_studios: int


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class _Builder:
    def __init__(self, cfg: SampleConfig, rng: np.random.Generator) -> None:
        self.cfg, self.rng = cfg, rng
        self.entries: list[Entry] = []
        self.pairs: set[tuple[int, int]] = set()
        taken: set[str] = set()
        # "Studio" twice: the commonest naming pattern for animation studios.
        studios = names.company_names(rng, cfg.n_studios, ("Studio", "Works", "Animation", "Studio"), taken)
        producer_kinds = ("Pictures", "Media", "Entertainment", "Records", "Broadcasting")
        producers = names.company_names(rng, cfg.n_producers, producer_kinds, taken)
        ids = rng.choice(np.arange(1, 20 * (len(studios) + len(producers)) + 1),
                         size=len(studios) + len(producers), replace=False)
        # Some producers lack an id, as in real catalogs; animation studios always have one.
        self.companies = [(n, None if i >= cfg.n_studios and rng.random() < 0.15 else int(ids[i]))
                          for i, n in enumerate(studios + producers)]
        # Zipf-like company sizes: a few studios make most anime.
        self.studio_w = 1.0 / np.arange(1, cfg.n_studios + 1) ** 0.9
        self.producer_w = 1.0 / np.arange(1, cfg.n_producers + 1) ** 0.8
        # Each studio specialises in two genres, so the studio carries taste signal.
        self.studio_genres = rng.integers(0, len(names.GENRES), size=(cfg.n_studios, 2))
        self.genre_p = np.asarray(names.GENRE_WEIGHTS) / sum(names.GENRE_WEIGHTS)

    # --- pieces -------------------------------------------------------------------------
    def pick_studios(self, genres: list[int], k: int, avoid: Sequence[int] = ()) -> list[int]:
        boost = np.isin(self.studio_genres, genres).any(axis=1) * 3.0 + 1.0
        w = self.studio_w * boost
        if len(avoid) < self.cfg.n_studios:   # with a single studio there is nothing to switch to
            w[list(avoid)] = 0.0
        k = min(k, int(np.count_nonzero(w)))
        return [int(s) for s in self.rng.choice(self.cfg.n_studios, size=k, replace=False, p=w / w.sum())]

    def pick_producers(self) -> list[int]:
        k = min(3, self.cfg.n_producers, int(self.rng.poisson(1.3)))
        weights = self.producer_w / self.producer_w.sum()
        picks = self.rng.choice(self.cfg.n_producers, size=k, replace=False, p=weights)
        return [self.cfg.n_studios + int(c) for c in picks]

    def pick_tags(self, genres: list[int]) -> list[tuple[int, int]]:
        rng = self.rng
        w = np.array([5.0 if g is not None and names.GENRES.index(g) in genres else 1.0
                      for _, _, g in names.TAGS])
        n = int(rng.integers(1, 6))
        chosen = rng.choice(len(names.TAGS), size=n, replace=False, p=w / w.sum())
        rank = float(rng.uniform(60, 100))
        tags = []
        for t in chosen:   # ranks fall off: the first tag is the most relevant
            tags.append((int(t), int(round(rank))))
            rank = max(0.0, rank - float(rng.uniform(5, 25)))
        if rng.random() < 0.5:
            demographic = len(names.TAGS) + int(rng.integers(len(names.DEMOGRAPHICS)))
            tags.append((demographic, int(rng.integers(40, 101))))
        return tags

    def link(self, a: int, b: int, rtype: str) -> None:
        """Relate a -> b (and usually b -> a with the inverse type)."""
        key = (min(a, b), max(a, b))
        if a == b or key in self.pairs:
            return
        self.pairs.add(key)
        # r < p: both directions; otherwise only one, either side equally likely.
        r, p = self.rng.random(), self.cfg.p_both_directions
        one_sided = p + (1.0 - p) / 2.0
        if r < one_sided:
            self.entries[a].relations.append((b, rtype))
        if r < p or r >= one_sided:
            self.entries[b].relations.append((a, INVERSE_RELATION[rtype]))

    def add(self, **kw: Any) -> int:
        self.entries.append(Entry(**kw))
        return len(self.entries) - 1

    # --- a franchise --------------------------------------------------------------------
    def franchise(self, f: int, budget: int) -> None:
        rng, cfg = self.rng, self.cfg
        q = float(rng.normal())
        # Power-law exposure, nudged up by quality (good shows spread by word of mouth).
        pop0 = min(3e6, cfg.min_members * (1.0 + rng.pareto(cfg.popularity_alpha)) * math.exp(0.5 * q))
        year = max(1960, cfg.end_year - 1 - int(rng.exponential(12.0)))   # newest start last year
        n_genres = int(rng.choice(4, p=(.25, .37, .26, .12))) + 1
        genres = [int(g) for g in rng.choice(len(names.GENRES), size=n_genres, replace=False, p=self.genre_p)]
        tags = self.pick_tags(genres)
        studios = self.pick_studios(genres, 1 if rng.random() < 0.85 else 2)
        base = names.base_title(rng)
        has_english = rng.random() < min(0.9, 0.1 * math.log10(pop0) + 0.15)
        first_format = str(rng.choice(_FIRST_FORMATS, p=_FIRST_FORMAT_P))
        # Good franchises get more seasons.
        p_more = min(0.75, _sigmoid(-0.7 + 0.9 * q)) if first_format in ("TV", "ONA", "TV_SHORT") else 0.1
        length = 1
        while length < 8 and rng.random() < p_more:
            length += 1
        chain: list[int] = []
        for k in range(min(length, budget)):
            fmt = first_format if k == 0 or rng.random() > 0.12 else "MOVIE"
            if k > 0:
                year += int(rng.integers(1, 3))
                if year > cfg.end_year + 1:   # later seasons are not announced yet
                    break
                if rng.random() > 0.88:   # franchises mostly keep their studio
                    studios = self.pick_studios(genres, 1, avoid=studios)
            role = "movie" if fmt == "MOVIE" and k > 0 else "main"
            chain.append(self.add(
                franchise=f, role=role, season=k + 1, format=fmt, year=year,
                quality=q + float(rng.normal(0, 0.3)) + 0.08 * k,
                pop=pop0 * 0.6 ** k * float(rng.lognormal(0, 0.25)), genres=list(genres),
                tags=self.jitter(tags), studios=list(studios), producers=self.pick_producers(),
                titles=names.entry_title(base, role, k + 1, year, rng), has_english=has_english))
            if k > 0:
                self.link(chain[-2], chain[-1], "SEQUEL")
                self.entries[chain[-2]].follow.append((chain[-1], 0.95))
        n_extra = int(rng.poisson(max(0.05, 0.2 + 0.4 * math.log10(pop0 / cfg.min_members))))
        for _ in range(min(n_extra, budget - len(chain))):
            self.extra(f, chain, genres, tags, base, has_english)

    def jitter(self, tags: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """An entry's tags: the franchise's, ranks jittered, occasionally one dropped."""
        out = [(t, int(np.clip(r + self.rng.integers(-10, 11), 0, 100))) for t, r in tags]
        if len(out) > 1 and self.rng.random() < 0.15:
            out.pop(int(self.rng.integers(len(out))))
        return out

    def extra(self, f: int, chain: list[int], genres: list[int], tags: list[tuple[int, int]],
              base: tuple[str, str, str], has_english: bool) -> None:
        rng = self.rng
        role, _, formats, rtype, strength = _EXTRAS[rng.choice(len(_EXTRAS), p=[e[1] for e in _EXTRAS])]
        anchor = chain[int(rng.integers(len(chain)))]
        a = self.entries[anchor]
        # Extras reach a fraction of their anchor's audience; quality tracks the franchise.
        year, pop, studios, g = a.year, a.pop * 0.2, a.studios, genres
        quality = a.quality - 0.2 + float(rng.normal(0, 0.3))
        if role == "summary":
            quality -= 0.4
            pop *= 0.5
        elif role == "movie":
            pop *= 2.0
        elif role == "music":
            pop *= 0.2
        elif role == "spin":   # a spin-off keeps one genre and mixes in another
            kept = genres[int(rng.integers(len(genres)))]
            g = sorted({kept, int(rng.choice(len(names.GENRES), p=self.genre_p))})
            quality = 0.5 * a.quality + float(rng.normal(0, 0.6))
            year += int(rng.integers(1, 5))
            studios = studios if rng.random() < 0.6 else self.pick_studios(g, 1)
        elif role == "alt":    # a remake years later, often by another studio
            quality = 0.7 * a.quality + float(rng.normal(0, 0.5))
            pop = a.pop * 0.5
            year += int(rng.integers(5, 21))
            studios = studios if rng.random() < 0.4 else self.pick_studios(g, 1, avoid=studios)
        year += int(rng.integers(0, 2))
        if year > self.cfg.end_year + 1:   # not announced yet
            return
        e = self.add(franchise=f, role=role, season=0, format=str(rng.choice(formats)), year=year,
                     quality=quality, pop=pop * float(rng.lognormal(0, 0.4)), genres=list(g),
                     tags=self.jitter(tags), studios=list(studios), producers=self.pick_producers(),
                     titles=names.entry_title(base, role, 0, year, rng), has_english=has_english)
        self.link(anchor, e, rtype)
        a.follow.append((e, strength))
        if role == "alt":   # fans of a remake also look up the original
            self.entries[e].follow.append((anchor, strength))

    def cross_links(self) -> None:
        """A few CHARACTER (shared cast, mostly same studio) and OTHER links across franchises."""
        rng, n = self.rng, len(self.entries)
        if n < 2:
            return
        by_studio: dict[int, list[int]] = {}
        for i, e in enumerate(self.entries):
            for s in e.studios:
                by_studio.setdefault(s, []).append(i)
        for rtype, share in (("CHARACTER", 0.07), ("OTHER", 0.03)):
            for _ in range(int(round(share * n))):
                a = int(rng.integers(n))
                pool = by_studio[self.entries[a].studios[0]]
                b = int(pool[rng.integers(len(pool))]) if rtype == "CHARACTER" and rng.random() < 0.7 \
                    else int(rng.integers(n))
                if self.entries[a].franchise != self.entries[b].franchise:
                    self.link(a, b, rtype)


def build_catalog(cfg: SampleConfig, rng: np.random.Generator) -> SyntheticCatalog:
    """Generate franchises until the catalog holds exactly ``cfg.n_anime`` entries."""
    b = _Builder(cfg, rng)
    f = 0
    while len(b.entries) < cfg.n_anime:
        b.franchise(f, cfg.n_anime - len(b.entries))
        f += 1
    b.cross_links()
    # Ids grow with air year (older anime got lower ids), with gaps, like a real database.
    order = sorted(range(len(b.entries)), key=lambda i: (b.entries[i].year, i))
    ids = np.cumsum(rng.integers(1, 6, size=len(order)))
    for i, new_id in zip(order, ids):
        b.entries[i].id = int(new_id)
    return SyntheticCatalog(entries=b.entries, companies=b.companies, n_studios=cfg.n_studios)
