"""Read explicit ratings: ``ratings.csv`` or the older grouped ``user_ratings.json``.

CSV columns: ``user_id,anime_id,rating`` plus optional ``timestamp`` and
``split`` (train/val/test). The grouped JSON shape is
``[{"user_id": ..., "ratings": [{"anilist_id": 1, "rating": 8}, ...]}]``.

Fatal problems (unreadable file, missing column, empty user id, non-integer
anime id, unknown split name) raise :class:`gnn.errors.InputError` naming the
file, the row (1-based line number for CSV; user record and rating entry for
JSON) and the field. Recoverable ones
are dropped and counted in the returned :class:`Tally`: a rating that is not a
number, outside the declared scale, or a repeated (user, anime) pair (the first
one is kept).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gnn.data.tally import Tally
from gnn.errors import InputError
from gnn.io import read_json_array

SPLITS = ("train", "val", "test")
REQUIRED = ("user_id", "anime_id", "rating")


@dataclass(frozen=True)
class RatingScale:
    """The declared rating scale; the default is MyAnimeList's 1-10."""

    low: float = 1.0
    high: float = 10.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"rating scale needs finite bounds, got {self.low}..{self.high}")
        if not self.low < self.high:
            raise ValueError(f"rating scale needs low < high, got {self.low}..{self.high}")


_ID_TEXT = r"[+-]?[0-9]{1,19}(?:\.0*)?"  # "7", " 8 ", "7.0": whole numbers written as text


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def exact_ids(text: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Integer ids from strings, exactly (never through float64, which rounds ids above 2**53).

    Returns ``(int64 values, bad mask)``; a bad entry (not a whole number, or beyond
    int64) has value 0 and ``True`` in the mask.
    """
    stripped = text.astype(str).str.strip()
    ok = stripped.str.fullmatch(_ID_TEXT).fillna(False).astype(bool)
    digits = stripped.where(ok, "0").str.replace(r"\.0*$", "", regex=True)
    values = [int(d) for d in digits]
    inside = np.array([-(2**63) <= v < 2**63 for v in values], dtype=bool)
    bad = ~ok.to_numpy() | ~inside
    exact = np.array([v if good else 0 for v, good in zip(values, ~bad)], dtype=np.int64)
    return exact, pd.Series(bad, index=text.index)


def _from_csv(path: Path) -> tuple[pd.DataFrame, int]:
    """The frame of strings and the line number of its first data row."""
    file = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(file, "file not found") from None
    except IsADirectoryError:
        raise InputError(file, "is a folder, not a file") from None
    except UnicodeDecodeError as err:
        raise InputError(file, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as err:
        raise InputError(file, f"not a readable CSV ({(str(err).splitlines() or [''])[0][:200]})") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(file, f"missing column(s) {', '.join(missing)}; "
                               f"expected {','.join(REQUIRED)}[,timestamp][,split]")
    return frame, 2  # line number of the first data row


def _from_grouped_json(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The flattened frame of strings and a record label per row (user record, rating entry)."""
    file = str(path)
    raw = read_json_array(path, "{user_id, ratings} objects")
    rows, labels = [], []
    for i, user in enumerate(raw):
        if not isinstance(user, dict) or not isinstance(user.get("ratings"), list):
            raise InputError(file, "expected {user_id, ratings: [...]}", record=i, field="ratings")
        for j, entry in enumerate(user["ratings"]):
            if not isinstance(entry, dict):
                raise InputError(file, "expected a rating object", record=i, field=f"ratings[{j}]")
            anime = entry.get("anime_id", entry.get("anilist_id"))
            rows.append({"user_id": "" if user.get("user_id") is None else str(user.get("user_id")),
                         "anime_id": "" if anime is None else str(anime),
                         "rating": "" if entry.get("rating") is None else str(entry.get("rating"))})
            labels.append(f"{i} (ratings[{j}])")
    return pd.DataFrame(rows, columns=list(REQUIRED)), labels


def read_ratings(path: str | Path, scale: RatingScale = RatingScale()) -> tuple[pd.DataFrame, Tally]:
    """Read ratings; return a frame (user_id str, anime_id int64, rating float64[, split]) and a tally.

    Rows come back in file order with duplicates and invalid ratings removed.
    """
    path = Path(path)
    file = str(path)
    frame, rows = _from_grouped_json(path) if path.suffix == ".json" else _from_csv(path)
    tally = Tally(total=len(frame))

    def first_bad(mask: pd.Series) -> tuple[int, int | str]:
        """Position of the first flagged row and its label (CSV line number or JSON record)."""
        at = int(np.flatnonzero(mask.to_numpy())[0])
        return at, (at + rows if isinstance(rows, int) else rows[at])

    users = frame["user_id"].str.strip()
    if (users == "").any():
        raise InputError(file, "empty user id", record=first_bad(users == "")[1], field="user_id")
    anime, bad_anime = exact_ids(frame["anime_id"])
    if bad_anime.any():
        at, label = first_bad(bad_anime)
        value = _short(frame["anime_id"].iloc[at])
        raise InputError(file, f"anime id must be an integer, got {value}", record=label, field="anime_id")

    out = pd.DataFrame({"user_id": users, "anime_id": anime})
    if "split" in frame.columns:
        split = frame["split"].str.strip().str.lower()
        bad = ~split.isin(SPLITS)
        if bad.any():
            at, label = first_bad(bad)
            raise InputError(file, f"split must be one of {'/'.join(SPLITS)}, "
                                   f"got {frame['split'].iloc[at]!r}", record=label, field="split")
        out["split"] = split
    if "timestamp" in frame.columns:
        out["timestamp"] = frame["timestamp"]

    rating = pd.to_numeric(frame["rating"].str.strip(), errors="coerce")
    not_number = rating.isna() | ~np.isfinite(rating.fillna(0.0))
    out_of_scale = ~not_number & ((rating < scale.low) | (rating > scale.high))
    tally.drop("rating_not_a_number", int(not_number.sum()))
    tally.drop("rating_out_of_scale", int(out_of_scale.sum()))
    out["rating"] = rating.astype("float64")
    out = out[~(not_number | out_of_scale)]

    dup = out.duplicated(subset=["user_id", "anime_id"], keep="first")
    tally.drop("duplicate_user_anime", int(dup.sum()))
    out = out[~dup].reset_index(drop=True)
    return out, tally


def find_ratings_file(input_dir: str | Path) -> Path:
    """``ratings.csv`` if present, else the older ``user_ratings.json``."""
    input_dir = Path(input_dir)
    for name in ("ratings.csv", "user_ratings.json"):
        if (input_dir / name).exists():
            return input_dir / name
    raise InputError(str(input_dir), "no ratings.csv (or older user_ratings.json) in this directory")
