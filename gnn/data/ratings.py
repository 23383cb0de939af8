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

Bounded memory: the CSV is parsed :data:`CHUNK_ROWS` rows at a time and every
chunk is reduced at once to fixed-width columns (user ids as codes of one sorted
categorical, anime ids int64, ratings float64), so tens of millions of ratings
never exist as Python strings all at once. The result is the one a whole read
gives, problems included: each kind of fatal problem is reported at its first row
in the file, in the order user id, anime id, split, as a whole read reports them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from gnn.data.ids import exact_ids, numbers
from gnn.data.tally import Tally
from gnn.errors import InputError
from gnn.io import read_json_array

__all__ = ["CHUNK_ROWS", "REQUIRED", "SPLITS", "RatingScale", "exact_ids", "find_ratings_file", "read_ratings"]

SPLITS = ("train", "val", "test")
REQUIRED = ("user_id", "anime_id", "rating")
CHUNK_ROWS = 1_000_000  # CSV rows parsed at a time (tests force it tiny: the result must not depend on it)


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


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _csv_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The CSV as frames of strings, ``chunk_rows`` rows each; unreadable files are one InputError."""
    file = str(path)
    try:
        with pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                         chunksize=max(1, int(chunk_rows))) as reader:
            yield from reader
    except FileNotFoundError:
        raise InputError(file, "file not found") from None
    except IsADirectoryError:
        raise InputError(file, "is a folder, not a file") from None
    except UnicodeDecodeError as err:
        raise InputError(file, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as err:
        raise InputError(file, f"not a readable CSV ({(str(err).splitlines() or [''])[0][:200]})") from None


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


class _Reduced:
    """Chunks reduced to fixed-width columns, and the first row of each fatal problem seen so far."""

    def __init__(self, file: str, scale: RatingScale) -> None:
        self.file, self.scale = file, scale
        self.columns: list[str] | None = None
        self.problems: dict[str, tuple[int | str, str]] = {}  # field -> (row label, message)
        self.parts: list[dict] = []
        self.total = 0
        self.not_number = self.out_of_scale = 0

    def _first(self, field: str, mask: pd.Series, labels: int | list[str], message) -> None:
        if field in self.problems or not mask.any():
            return
        at = int(np.flatnonzero(mask.to_numpy())[0])
        self.problems[field] = (at + labels if isinstance(labels, int) else labels[at], message(at))

    def add(self, frame: pd.DataFrame, labels: int | list[str]) -> None:
        """One chunk; ``labels`` is the CSV line number of its first row, or a label per row (JSON)."""
        self.columns = list(frame.columns) if self.columns is None else self.columns
        self.total += len(frame)
        if any(c not in frame.columns for c in REQUIRED):
            return  # reported once the whole file has been parsed, as a whole read does
        users = frame["user_id"].str.strip()
        self._first("user_id", users == "", labels, lambda at: "empty user id")
        anime, bad_anime = exact_ids(frame["anime_id"])
        self._first("anime_id", bad_anime, labels,
                    lambda at: f"anime id must be an integer, got {_short(frame['anime_id'].iloc[at])}")
        split = frame["split"].str.strip().str.lower() if "split" in frame.columns else None
        if split is not None:
            self._first("split", ~split.isin(SPLITS), labels, lambda at: f"split must be one of {'/'.join(SPLITS)}, "
                                                                         f"got {frame['split'].iloc[at]!r}")
        if self.problems:
            return  # the file is refused; keep parsing only to find earlier rows of each problem
        rating = numbers(frame["rating"])
        not_number = ~np.isfinite(rating)
        out_of_scale = ~not_number & ((rating < self.scale.low) | (rating > self.scale.high))
        self.not_number += int(not_number.sum())
        self.out_of_scale += int(out_of_scale.sum())
        keep = ~(not_number | out_of_scale)
        codes, uniques = pd.factorize(users[keep], use_na_sentinel=True)
        part = {"user_codes": codes.astype(np.int32), "user_uniques": np.asarray(uniques, dtype=object),
                "anime_id": anime[keep], "rating": rating[keep]}
        if split is not None:
            part["split"] = pd.Categorical(split[keep], categories=list(SPLITS)).codes
        if "timestamp" in frame.columns:
            part["timestamp"] = frame["timestamp"][keep].to_numpy(dtype=object)
        self.parts.append(part)

    def raise_problems(self) -> None:
        missing = [c for c in REQUIRED if c not in (self.columns or [])]
        if self.columns is not None and missing:
            raise InputError(self.file, f"missing column(s) {', '.join(missing)}; "
                                        f"expected {','.join(REQUIRED)}[,timestamp][,split]")
        for field in ("user_id", "anime_id", "split"):
            if field in self.problems:
                label, message = self.problems[field]
                raise InputError(self.file, message, record=label, field=field)


def _column(parts: list[dict], name: str, dtype) -> np.ndarray:
    """One column of every part, concatenated; each part lets go of its piece (peak memory: one copy)."""
    pieces = [p.pop(name) for p in parts]
    return np.concatenate(pieces) if pieces else np.array([], dtype=dtype)


def _users(parts: list[dict]) -> pd.Categorical:
    """One categorical of every part's user ids, categories sorted (so sorting by it sorts by the id)."""
    uniques = [p["user_uniques"] for p in parts]
    categories = np.unique(np.concatenate(uniques)) if uniques else np.array([], dtype=object)
    categories = categories[pd.notna(categories)]
    index = pd.Index(categories, dtype=object)
    for p in parts:
        lookup = np.append(index.get_indexer(p.pop("user_uniques")), -1).astype(np.int32)  # code -1: missing
        p["user_codes"] = lookup[p["user_codes"]]
    return pd.Categorical.from_codes(_column(parts, "user_codes", np.int32),
                                     categories=pd.Index(categories, dtype=str))


def _first_occurrence(user_codes: np.ndarray, anime: np.ndarray) -> np.ndarray:
    """True for every row whose (user, anime) pair appeared on an earlier row (sort-based, no hash table)."""
    anime_codes, anime_uniques = pd.factorize(anime)
    key = user_codes.astype(np.int64)  # in place from here: (user + 1) * n_anime + anime, one array
    key += 1
    key *= max(len(anime_uniques), 1)
    key += anime_codes
    del anime_codes
    order = np.argsort(key, kind="stable")
    repeat = np.zeros(len(key), dtype=bool)
    key = key[order]
    repeat[order[1:]] = key[1:] == key[:-1]
    return repeat


def _assemble(reduced: _Reduced, tally: Tally) -> pd.DataFrame:
    """The parts as one frame, repeated (user, anime) pairs dropped (the first one kept)."""
    parts, names = reduced.parts, reduced.columns or []
    users = _users(parts)
    anime = _column(parts, "anime_id", np.int64)
    repeat = _first_occurrence(np.asarray(users.codes), anime)
    tally.drop("rating_not_a_number", reduced.not_number)
    tally.drop("rating_out_of_scale", reduced.out_of_scale)
    tally.drop("duplicate_user_anime", int(repeat.sum()))
    keep = ~repeat if repeat.any() else slice(None)
    columns: dict = {"user_id": users[keep], "anime_id": anime[keep]}
    del users, anime
    if "split" in names:
        columns["split"] = pd.Categorical.from_codes(_column(parts, "split", np.int8)[keep], categories=list(SPLITS))
    if "timestamp" in names:
        columns["timestamp"] = pd.Series(_column(parts, "timestamp", object)[keep], dtype=str)
    columns["rating"] = _column(parts, "rating", np.float64)[keep]
    return pd.DataFrame(columns)


def read_ratings(path: str | Path, scale: RatingScale = RatingScale(),
                 chunk_rows: int | None = None) -> tuple[pd.DataFrame, Tally]:
    """Read ratings; return a frame (user_id categorical of str, anime_id int64, rating float64[, split
    categorical][, timestamp str]) and a tally.

    Rows come back in file order with duplicates and invalid ratings removed. ``chunk_rows`` (default
    :data:`CHUNK_ROWS`) bounds how many CSV rows are held as strings at once; it does not change the result.
    """
    path = Path(path)
    reduced = _Reduced(str(path), scale)
    if path.suffix == ".json":
        frame, labels = _from_grouped_json(path)
        reduced.add(frame, labels)
    else:
        line = 2  # line number of the first data row
        for chunk in _csv_chunks(path, CHUNK_ROWS if chunk_rows is None else chunk_rows):
            reduced.add(chunk, line)
            line += len(chunk)
    reduced.raise_problems()
    tally = Tally(total=reduced.total)
    return _assemble(reduced, tally), tally


def find_ratings_file(input_dir: str | Path) -> Path:
    """``ratings.csv`` if present, else the older ``user_ratings.json``."""
    input_dir = Path(input_dir)
    for name in ("ratings.csv", "user_ratings.json"):
        if (input_dir / name).exists():
            return input_dir / name
    raise InputError(str(input_dir), "no ratings.csv (or older user_ratings.json) in this directory")
