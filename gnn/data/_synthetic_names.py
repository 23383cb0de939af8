"""Invented vocabulary for the synthetic sample: genres, tags, titles, company names.

Everything here is made up (syllable-generated romaji, a small English word
list, generic genre words) so that the embedded demo data carries no
third-party titles. All randomness comes from the caller's numpy Generator,
which keeps the sample reproducible from its seed.
"""

from __future__ import annotations

import numpy as np

# Generic genre words; the weights give a realistic skew (comedy/action common, sports rare).
GENRES: tuple[str, ...] = (
    "Action", "Adventure", "Comedy", "Drama", "Fantasy", "Romance", "Sci-Fi", "Slice of Life",
    "Mystery", "Horror", "Sports", "Supernatural", "Suspense", "Mecha", "Music",
)
GENRE_WEIGHTS: tuple[float, ...] = (
    9.0, 6.0, 11.0, 6.0, 8.0, 4.5, 5.0, 3.5, 2.5, 1.5, 1.8, 3.0, 1.2, 1.6, 1.4,
)

# (name, category, genre it mostly co-occurs with or None). Tied to a genre so
# tags and genres are correlated, as in real catalogs.
TAGS: tuple[tuple[str, str, str | None], ...] = (
    ("Time Loop", "Theme", "Sci-Fi"), ("Found Family", "Theme", "Slice of Life"),
    ("Revenge Plot", "Theme", "Drama"), ("Tournament Arc", "Theme", "Action"),
    ("Home Cooking", "Theme", "Slice of Life"), ("Stage Idols", "Theme", "Music"),
    ("Giant Machines", "Theme", "Mecha"), ("Spell Academy", "Theme", "Fantasy"),
    ("Otherworld Travel", "Theme", "Fantasy"), ("Club Activities", "Theme", "Comedy"),
    ("Detective Work", "Theme", "Mystery"), ("Ghost Stories", "Theme", "Horror"),
    ("Martial Training", "Theme", "Action"), ("Love Triangle", "Theme", "Romance"),
    ("Band Life", "Theme", "Music"), ("Ball Games", "Theme", "Sports"),
    ("Survival Game", "Theme", "Suspense"), ("Parody", "Theme", "Comedy"),
    ("Monster Taming", "Theme", "Adventure"), ("Workplace Life", "Theme", "Slice of Life"),
    ("Space Travel", "Setting", "Sci-Fi"), ("Big City", "Setting", None),
    ("Quiet Village", "Setting", "Slice of Life"), ("Bygone Era", "Setting", "Drama"),
    ("Ruined World", "Setting", "Sci-Fi"), ("Floating Islands", "Setting", "Adventure"),
    ("Seaside Town", "Setting", "Romance"), ("High School", "Setting", None),
    ("Ensemble Cast", "Cast", None), ("Female Lead", "Cast", None),
    ("Male Lead", "Cast", None), ("Anti-Hero", "Cast", "Action"),
    ("Rival Pair", "Cast", "Sports"), ("Talking Animals", "Cast", "Comedy"),
)
DEMOGRAPHICS: tuple[str, ...] = ("Young Kids", "Teen Boys", "Teen Girls", "Adult Men", "Adult Women")

# (romaji, hiragana) pairs, so a romaji title and its "native" spelling agree.
_SYLLABLES: tuple[tuple[str, str], ...] = tuple(zip(
    "ka ki ku ke ko sa shi su se so ta chi tsu te to na ni ne no ha hi fu ho "
    "ma mi mu me mo ya yu yo ra ri ru re ro wa a i u e o".split(),
    "かきくけこさしすせそたちつてとなにねのはひふほ"
    "まみむめもやゆよらりるれろわあいうえお"))
_ADJECTIVES = ("Silver", "Hidden", "Endless", "Crimson", "Quiet", "Broken", "Distant", "Wandering",
               "Brave", "Last", "Paper", "Glass", "Midnight", "Golden", "Little", "Electric",
               "Frozen", "Burning", "Secret", "Starlit", "Hollow", "Velvet", "Iron", "Lucky")
_NOUNS = ("Horizon", "Garden", "Blade", "Orbit", "Lantern", "Tide", "Kingdom", "Signal", "Melody",
          "Harbor", "Circuit", "Academy", "Frontier", "Witch", "Engine", "Rabbit", "Archive",
          "Summit", "Comet", "Festival", "Voyage", "Knight", "Alley", "Cathedral", "Sparrow")
_ORDINALS = {2: "2nd", 3: "3rd"}


def _word(rng: np.random.Generator, low: int = 2, high: int = 4) -> tuple[str, str]:
    """One invented word as (Capitalized romaji, hiragana); a trailing 'n' adds variety."""
    picks = rng.integers(0, len(_SYLLABLES), size=int(rng.integers(low, high + 1)))
    romaji = "".join(_SYLLABLES[i][0] for i in picks)
    kana = "".join(_SYLLABLES[i][1] for i in picks)
    if rng.random() < 0.2:
        romaji, kana = romaji + "n", kana + "ん"
    return romaji.capitalize(), kana


def base_title(rng: np.random.Generator) -> tuple[str, str, str]:
    """A franchise's base (romaji, native, english) title."""
    first, first_k = _word(rng)
    if rng.random() < 0.5:
        second, second_k = _word(rng)
        romaji, native = f"{first} no {second}", f"{first_k}の{second_k}"
    else:
        romaji, native = first, first_k
    adj, noun = _ADJECTIVES[rng.integers(len(_ADJECTIVES))], _NOUNS[rng.integers(len(_NOUNS))]
    if rng.random() < 0.6:
        english = f"The {adj} {noun}"
    else:
        english = f"{noun} of the {adj} {_NOUNS[rng.integers(len(_NOUNS))]}"
    return romaji, native, english


def entry_title(base: tuple[str, str, str], role: str, season: int, year: int,
                rng: np.random.Generator) -> tuple[str, str, str]:
    """Derive an entry's titles from the franchise base, the way real catalogs suffix them."""
    romaji, native, english = base
    if role == "main" and season >= 2:
        ordinal = _ORDINALS.get(season, f"{season}th")
        if rng.random() < 0.5:
            return f"{romaji} Season {season}", f"{native} 第{season}期", f"{english} Season {season}"
        return f"{romaji} {ordinal} Season", f"{native} {season}", f"{english} {ordinal} Season"
    sub, sub_k = _word(rng, 2, 3)
    if role == "movie":
        return f"{romaji} Movie: {sub}", f"劇場版 {native} {sub_k}", f"{english}: The Movie"
    if role == "summary":
        return f"{romaji} Recap", f"{native} 総集編", f"{english} Recap"
    if role == "side":
        return f"{romaji}: {sub}", f"{native} {sub_k}", f"{english}: {sub}"
    if role == "spin":
        return f"{romaji} Gaiden: {sub}", f"{native}外伝 {sub_k}", f"{english} Side Tales"
    if role == "alt":
        return f"{romaji} ({year})", f"{native} ({year})", f"{english} ({year})"
    if role == "music":
        return f"{romaji}: {sub} Music Video", f"{native} {sub_k}", f"{english} Music Video"
    return romaji, native, english


def company_names(rng: np.random.Generator, n: int, suffixes: tuple[str, ...],
                  taken: set[str]) -> list[str]:
    """``n`` distinct invented company names such as 'Studio Kazeri' or 'Hoshimo Pictures'."""
    names: list[str] = []
    while len(names) < n:
        word = _word(rng, 2, 3)[0]
        suffix = suffixes[rng.integers(len(suffixes))]
        name = f"{suffix} {word}" if suffix == "Studio" else f"{word} {suffix}"
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names
