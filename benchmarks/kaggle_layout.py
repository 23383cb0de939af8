"""Write an input-contract folder (e.g. ``generate-sample`` output) in the Kaggle 2020 MyAnimeList layout.

The scaling benchmark times ``anime-gnn import mal`` on data the size of the 2020 dump without the
dump itself (its licence is unclear): ``anime.csv`` with the columns the importer reads (MAL_ID,
Name, Score, Genres, titles, Type, Episodes, Aired, Premiered, Producers, Studios, Duration,
Members) and ``rating_complete.csv`` (``user_id,anime_id,rating``, user ids as the dump's integers),
written in chunks of rows so that 60M ratings never sit in memory.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd

_TYPES = {"TV": "TV", "TV_SHORT": "TV", "MOVIE": "Movie", "OVA": "OVA", "ONA": "ONA", "SPECIAL": "Special",
          "MUSIC": "Music"}
COLUMNS = ("MAL_ID", "Name", "Score", "Genres", "English name", "Japanese name", "Type", "Episodes", "Aired",
           "Premiered", "Producers", "Studios", "Duration", "Members")


def _text(value: Any) -> str:
    return "Unknown" if value in (None, "", []) else str(value)


def anime_row(record: dict[str, Any]) -> dict[str, str]:
    """One catalog record as a 2020 ``anime.csv`` row (what the importer reads back)."""
    title, studios = record.get("title") or {}, record.get("studios") or []
    score = record.get("averageScore")
    year = record.get("year")
    return {"MAL_ID": str(record.get("idMal") or record["id"]), "Name": _text(title.get("romaji")),
            "Score": _text(None if score is None else f"{score / 10:.2f}"),
            "Genres": _text(", ".join(record.get("genres") or [])),
            "English name": _text(title.get("english")), "Japanese name": _text(title.get("native")),
            "Type": _text(_TYPES.get(record.get("format") or "")), "Episodes": _text(record.get("episodes")),
            "Aired": _text(year), "Premiered": _text(None if year is None else f"Spring {year}"),
            "Producers": _text(", ".join(s["name"] for s in studios if not s.get("isMain"))),
            "Studios": _text(", ".join(s["name"] for s in studios if s.get("isMain"))),
            "Duration": _text(None if record.get("duration") is None else f"{record['duration']} min. per ep."),
            "Members": _text(record.get("popularity"))}


def write_kaggle_2020(contract_dir: Path, out_dir: Path, chunksize: int = 1_000_000) -> dict[str, int]:
    """``anime.csv`` + ``rating_complete.csv`` in ``out_dir`` from ``anime_catalog.json`` + ``ratings.csv``.

    User ids become the dump's integers: the digits of ``generate-sample``'s ``u000123`` ids.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    catalog = json.loads((contract_dir / "anime_catalog.json").read_text(encoding="utf-8"))
    with open(out_dir / "anime.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(anime_row(r) for r in catalog)
    n = 0
    with open(out_dir / "rating_complete.csv", "w", encoding="utf-8", newline="") as f:
        f.write("user_id,anime_id,rating\n")
        for chunk in pd.read_csv(contract_dir / "ratings.csv", dtype={"user_id": str}, chunksize=chunksize):
            if not chunk["user_id"].str.fullmatch(r"u?\d+").all():
                raise ValueError(f"{contract_dir / 'ratings.csv'}: user ids must be u<digits> (generate-sample's)")
            pd.DataFrame({"user_id": chunk["user_id"].str.lstrip("u").astype("int64"), "anime_id": chunk["anime_id"],
                          "rating": chunk["rating"]}).to_csv(f, header=False, index=False)
            n += len(chunk)
    return {"anime": len(catalog), "ratings": n}
