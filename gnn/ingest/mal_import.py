"""Convert the common Kaggle MyAnimeList CSV dumps to the input contract.

Layouts, detected from the header line:

* 2020 ("Anime Recommendation Database 2020"): ``anime.csv`` with ``MAL_ID, Name,
  Score, Genres, English name, Japanese name, Type, Episodes, Aired, Premiered,
  Producers, Licensors, Studios, Source, Duration, Rating, Ranked, Popularity,
  Members, ...``; ratings in ``rating_complete.csv`` (``user_id,anime_id,rating``)
  or ``animelist.csv`` (``user_id,anime_id,rating,watching_status,watched_episodes``,
  rating 0 = on the list but not scored).
* 2017 ("Anime Recommendations Database"): ``anime.csv`` with ``anime_id, name,
  genre, type, episodes, rating, members``; ``rating.csv`` with
  ``user_id,anime_id,rating`` where -1 = watched but not scored.

Unscored rows (0, -1), ratings outside 1..10, malformed rows and ratings of
anime missing from anime.csv are dropped and counted. "Unknown" becomes null;
so does a Score, Members or Episodes that is not a finite number in range
(``inf``, ``-5``, text), counted as ``anime_<field>_invalid_as_null``. Ids are
parsed exactly (never through float64). A file that is not UTF-8 or not a
regular CSV (a ragged row), anywhere in it, is one InputError naming it.
Old genre lists are split into genres and Theme/Demographic tags
(:mod:`gnn.ingest.mal_taxonomy`). Studios -> ``isMain: true``, Producers ->
``isMain: false``. Score x 10 -> ``averageScore``, Members -> ``popularity``.
Users become ``u000001``... in order of first appearance. Both outputs are
written atomically; ratings are streamed in chunks (animelist.csv has ~100M rows).
"""

from __future__ import annotations

import csv
import html
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from gnn.data.ratings import exact_ids
from gnn.ingest.csvfiles import csv_chunks, csv_error, read_csv, rows_with_lines
from gnn.errors import InputError
from gnn.ingest.mal_taxonomy import split_genres
from gnn.io import atomic_path, write_json

ANIME_2020 = ("MAL_ID", "Name", "Score", "Genres", "English name", "Japanese name", "Type",
              "Episodes", "Aired", "Premiered", "Producers", "Studios", "Duration", "Members")
ANIME_2017 = ("anime_id", "name", "genre", "type", "episodes", "rating", "members")
RATINGS = ("user_id", "anime_id", "rating")
ANIMELIST_EXTRA = "watching_status"

_TYPES = {"tv": "TV", "movie": "MOVIE", "ova": "OVA", "ona": "ONA", "special": "SPECIAL",
          "music": "MUSIC", "tv special": "SPECIAL", "cm": "SPECIAL", "pv": "SPECIAL"}
_UNKNOWN = {"", "unknown", "none", "nan", "n/a", "not available", "?"}
_PLACEHOLDER_STUDIOS = {"add some", "none found", "none found, add some", "unknown"}
_ID = re.compile(r"[0-9]{1,19}(?:\.0*)?")
# Pieces that belong to the previous name when splitting "TEM Co., Ltd., Aniplex" on commas.
_NAME_SUFFIX = re.compile(r"^(co\.?|ltd\.?|inc\.?|llc\.?|corp\.?|co\., ltd\.?)$", re.IGNORECASE)


def read_header(path: Path) -> list[str]:
    """The first CSV line as stripped column names; InputError if missing or empty."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), None)
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise csv_error(path, err) from None
    if not header:
        raise InputError(str(path), "empty file: no header line")
    return [h.strip() for h in header]


def detect_anime_layout(path: Path) -> str:
    """'2020' or '2017' from anime.csv's header; a clear InputError otherwise."""
    header = set(read_header(path))
    for layout, needed in (("2020", ANIME_2020), ("2017", ANIME_2017)):
        if set(needed) <= header:
            return layout
    miss20 = [c for c in ANIME_2020 if c not in header]
    miss17 = [c for c in ANIME_2017 if c not in header]
    raise InputError(str(path), "not a Kaggle MyAnimeList anime.csv: the 2020 layout lacks "
                                f"{', '.join(miss20)}; the 2017 layout lacks {', '.join(miss17)}")


def detect_ratings_layout(path: Path) -> str:
    """'animelist' (has watching_status) or 'ratings' (rating.csv / rating_complete.csv)."""
    header = read_header(path)
    missing = [c for c in RATINGS if c not in header]
    if missing:
        raise InputError(str(path), f"not a MyAnimeList ratings file: missing column(s) "
                                    f"{', '.join(missing)} (expected {','.join(RATINGS)}[,...])")
    return "animelist" if ANIMELIST_EXTRA in header else "ratings"


def _value(text: Any) -> str | None:
    text = html.unescape(str(text)).strip()  # the 2017 dump has &quot; and &#039; in titles
    return None if text.lower() in _UNKNOWN else text


def _number(text: Any) -> float | None:
    """A finite number, or None (unknown, not a number, or inf/nan)."""
    text = _value(text)
    try:
        number = float(text.replace(",", "")) if text is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _whole(text: Any) -> int | None:
    number = _number(text)
    return int(number) if number is not None and number == int(number) else None


def _checked(text: Any, field: str, low: float, high: float, counts: Counter[str]) -> float | None:
    """A number within ``low..high``; anything else given (text, inf, out of range) -> None, counted."""
    number = _number(text)
    if number is not None and low <= number <= high:
        return number
    if _value(text) is not None:
        counts[f"anime_{field}_invalid_as_null"] += 1
    return None


def _mal_id(text: Any) -> int | None:
    """The MAL id, exactly (ids are never routed through float64); None if not a whole number."""
    text = str(text).strip()
    if not _ID.fullmatch(text):
        return None
    value = int(text.split(".")[0])
    return value if value < 2**63 else None


def parse_duration(text: Any) -> int | None:
    """'24 min. per ep.' -> 24, '1 hr. 55 min.' -> 115, '30 sec.' -> 1 (whole minutes, min 1)."""
    text = _value(text) or ""
    parts = {unit: int(n) for n, unit in re.findall(r"(\d+)\s*(hr|min|sec)", text)}
    if not parts:
        return None
    minutes = parts.get("hr", 0) * 60 + parts.get("min", 0) + round(parts.get("sec", 0) / 60)
    return max(1, minutes)


def _year(premiered: Any, aired: Any) -> int | None:
    for text in (premiered, aired):
        match = re.search(r"\b(19\d\d|20\d\d)\b", _value(text) or "")
        if match:
            return int(match.group(1))
    return None


def _status(aired: Any) -> str | None:
    # "Apr 3, 1998 to Apr 24, 1999" or a single date: finished. "... to ?" was airing when
    # the dump was made (2020), which says nothing reliable about today: unknown.
    text = _value(aired)
    if text is None or text.rstrip().endswith("?"):
        return None
    return "FINISHED"


def split_companies(text: Any) -> list[str]:
    """Comma list of studios/producers, re-joining 'Co., Ltd.' style suffixes; placeholders dropped."""
    names: list[str] = []
    for piece in (p.strip() for p in str(text).split(",")):
        if not piece:
            continue
        if names and _NAME_SUFFIX.match(piece):
            names[-1] = f"{names[-1]}, {piece}"
        else:
            names.append(piece)
    return [n for n in names if n.lower() not in _PLACEHOLDER_STUDIOS and _value(n) is not None]


def _studios(main: Any, producers: Any) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for text, is_main in ((main, True), (producers, False)):
        for name in split_companies(text):
            # A studio that also produced stays isMain: true (first one wins).
            out.setdefault(name.lower(), {"id": None, "name": name, "isMain": is_main})
    return list(out.values())


def _record(mal_id: int, *, romaji: Any, english: Any = None, native: Any = None, type_: Any,
            episodes: Any, genres: Any, score: Any, members: Any, counts: Counter[str],
            **extra: Any) -> dict[str, Any]:
    type_text = (_value(type_) or "").lower()
    fmt = _TYPES.get(type_text)
    if type_text and fmt is None:
        counts["format_unknown_as_null"] += 1
    genre_list, tags = split_genres(str(genres))
    average = _checked(score, "score", 0, 10, counts)
    members_n = _checked(members, "members", 0, 2**53, counts)
    episodes_n = _checked(episodes, "episodes", 0, 2**31 - 1, counts)
    popularity = int(members_n) if members_n is not None else None
    record = {
        "id": mal_id, "idMal": mal_id, "idAnilist": None,
        "title": {"romaji": _value(romaji), "english": _value(english) if english is not None else None,
                  "native": _value(native) if native is not None else None},
        "format": fmt, "episodes": int(episodes_n) if episodes_n is not None and episodes_n.is_integer() else None,
        "duration": None, "status": None,
        "year": None, "genres": genre_list, "tags": tags, "studios": [], "relations": [],
        "popularity": popularity or None,  # 0 members means unknown, not unpopular
        "averageScore": round(average * 10, 2) if average else None,
        "coverImage": None, "description": None,
    }
    record.update(extra)
    return record


def _from_2020(mal_id: int, row: dict[str, str], counts: Counter[str]) -> dict[str, Any]:
    return _record(mal_id, romaji=row["Name"], english=row["English name"],
                   native=row["Japanese name"], type_=row["Type"], episodes=row["Episodes"],
                   genres=row["Genres"], score=row["Score"], members=row["Members"], counts=counts,
                   duration=parse_duration(row["Duration"]), status=_status(row["Aired"]),
                   year=_year(row["Premiered"], row["Aired"]),
                   studios=_studios(row["Studios"], row["Producers"]))


def _from_2017(mal_id: int, row: dict[str, str], counts: Counter[str]) -> dict[str, Any]:
    return _record(mal_id, romaji=row["name"], type_=row["type"], episodes=row["episodes"],
                   genres=row["genre"], score=row["rating"], members=row["members"], counts=counts)


def convert_anime(path: Path, counts: Counter[str]) -> list[dict[str, Any]]:
    """anime.csv (either layout) -> contract records sorted by id."""
    layout = detect_anime_layout(path)
    counts[f"anime_layout_{layout}"] = 1
    id_field, build = ("MAL_ID", _from_2020) if layout == "2020" else ("anime_id", _from_2017)
    records: dict[int, dict[str, Any]] = {}
    for line, row in rows_with_lines(path):
        mal_id = _mal_id(row[id_field])
        if mal_id is None:
            raise InputError(str(path), f"MAL id is not a whole number: {str(row[id_field])[:40]!r}",
                             record=line, field=id_field)  # record = line number
        if mal_id in records:
            counts["anime_dropped_duplicate_id"] += 1
            continue
        records[mal_id] = build(mal_id, row, counts)
    counts["anime"] = len(records)
    return [records[k] for k in sorted(records)]


def convert_ratings(path: Path, out: Path, catalog_ids: set[int], counts: Counter[str],
                    chunksize: int = 1_000_000) -> None:
    """Stream a ratings file to ``out`` as ``user_id,anime_id,rating``, counting every drop."""
    layout = detect_ratings_layout(path)
    counts[f"ratings_layout_{layout}"] = 1
    users: dict[str, str] = {}
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write("user_id,anime_id,rating\n")
        reader = read_csv(path, usecols=list(RATINGS), dtype=str, keep_default_na=False,
                           encoding="utf-8-sig", chunksize=chunksize)
        for chunk in csv_chunks(reader, path):
            user = chunk["user_id"].str.strip()
            anime_values, bad_anime = exact_ids(chunk["anime_id"])
            anime = pd.Series(anime_values, index=chunk.index)
            rating = pd.to_numeric(chunk["rating"].str.strip(), errors="coerce")
            malformed = (user == "") | bad_anime | rating.isna()
            unrated = ~malformed & rating.isin([0, -1])
            bad_range = ~malformed & ~unrated & ~(rating.between(1, 10) & (rating == rating.round()))
            ok = ~(malformed | unrated | bad_range)
            outside = ok & ~anime.isin(catalog_ids)
            keep = ok & ~outside
            counts["ratings_dropped_malformed"] += int(malformed.sum())
            counts["ratings_dropped_unrated"] += int(unrated.sum())
            counts["ratings_dropped_out_of_range"] += int(bad_range.sum())
            counts["ratings_dropped_anime_not_in_catalog"] += int(outside.sum())
            kept_users = user[keep]
            for u in pd.unique(kept_users):  # first appearance order, across chunks
                if u not in users:
                    users[u] = f"u{len(users) + 1:06d}"
            pd.DataFrame({"user_id": kept_users.map(users),
                          "anime_id": anime[keep].astype("int64"),
                          "rating": rating[keep].astype("int64")}).to_csv(f, header=False, index=False)
            counts["ratings"] += int(keep.sum())
    counts["users"] = len(users)


def import_mal(anime_csv: Path, ratings_csv: Path, out_dir: Path) -> Counter[str]:
    """Write ``anime_catalog.json`` and ``ratings.csv`` into ``out_dir``; return the counts."""
    counts: Counter[str] = Counter()
    detect_ratings_layout(ratings_csv)  # fail on a bad header before the slow part
    catalog = convert_anime(anime_csv, counts)
    convert_ratings(ratings_csv, out_dir / "ratings.csv", {r["id"] for r in catalog}, counts)
    write_json(out_dir / "anime_catalog.json", catalog)
    return counts
