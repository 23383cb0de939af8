"""Fetch public AniList anime lists into ``ratings.csv`` (``user_id,anime_id,rating``).

Users come from ``--user NAME`` and/or discovery: ``Page { users(sort:
[WATCHED_TIME_DESC, ID]) }`` (public on AniList's API, no login), i.e. the most
active users first, ``ID`` breaking ties so that paging is stable. AniList
serves at most the first 5,000 entries of that listing (``Page.users`` has no
filter to walk it in windows), so discovery stops there, counted as
``users_discovery_stopped_at_page_depth_limit``, and the users found so far
are written. Each list is read with ``MediaListCollection(userName:,
type: ANIME)`` in chunks of 500, asking for ``score(format: <the user's own
scoreFormat>)`` so we get the raw score the user gave and convert it here.

Score formats -> 1-10 (whole numbers, as the contract wants; halves round up):

============================  ===========  ==================================
AniList ``scoreFormat``       raw range    rating
============================  ===========  ==================================
``POINT_100``                 1-100        s / 10, rounded, clipped to 1..10
``POINT_10_DECIMAL``          0.1-10.0     s, rounded, clipped to 1..10
``POINT_10``                  1-10         s
``POINT_5`` (stars)           1-5          2 * s
``POINT_3`` (smileys)         1, 2, 3      4, 6, 9
============================  ===========  ==================================

``POINT_3`` follows AniList's own conversion, which shows a frown / neutral /
smile as 35 / 60 / 85 out of 100 (i.e. 3.5 / 6 / 8.5, rounded up). A raw 0 means
"not scored": dropped and counted, as are scores outside their format's range.
A user whose format AniList does not reveal is read as ``POINT_100`` (AniList
converts) and counted. Every list status (completed, watching, dropped...) that
carries a score is kept; an anime repeated in custom lists is counted once.

Privacy: names never reach the output. Users become ``u000001``, ``u000002``...
in the order they were fetched; the checkpoint stores only SHA-256 digests of
the names already done, and is deleted once ``ratings.csv`` is written.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from itertools import chain
from pathlib import Path
from typing import Any, Iterable, Iterator

import pandas as pd
from tqdm import tqdm

from gnn.ingest.graphql import (PAGE_DEPTH, FetchError, GraphQLClient, GraphQLError, is_page_depth_error,
                                load_checkpoint, remove_checkpoint, save_checkpoint)
from gnn.io import write_csv

USERS_QUERY = """
query ($page: Int, $perPage: Int) {
  Page(page: $page, perPage: $perPage) {
    pageInfo { hasNextPage currentPage }
    users(sort: [WATCHED_TIME_DESC, ID]) { id name mediaListOptions { scoreFormat } }
  }
}
"""
USER_QUERY = "query ($name: String) { User(name: $name) { id name mediaListOptions { scoreFormat } } }"
LIST_QUERY = """
query ($name: String, $format: ScoreFormat, $chunk: Int, $perChunk: Int) {
  MediaListCollection(userName: $name, type: ANIME, chunk: $chunk, perChunk: $perChunk) {
    hasNextChunk
    user { id name mediaListOptions { scoreFormat } }
    lists { entries { mediaId score(format: $format) status } }
  }
}
"""
PER_CHUNK = 500  # AniList's cap for MediaListCollection(perChunk:)
USERS_PER_PAGE = 50
CHECKPOINT_KIND = "anilist-ratings"
FALLBACK_FORMAT = "POINT_100"

# format -> (largest raw score, conversion of a raw score to the 1-10 scale)
SCORE_FORMATS: dict[str, tuple[float, Any]] = {
    "POINT_100": (100, lambda s: s / 10),
    "POINT_10_DECIMAL": (10, lambda s: s),
    "POINT_10": (10, lambda s: s),
    "POINT_5": (5, lambda s: 2 * s),
    "POINT_3": (3, lambda s: {1: 3.5, 2: 6.0, 3: 8.5}[s]),
}


def to_ten_point(score: float, score_format: str) -> int | None:
    """A raw AniList score -> 1..10; None for 0 ("not scored").

    Raises ValueError for an unknown format or a score outside the format's range.
    """
    if score_format not in SCORE_FORMATS:
        raise ValueError(f"unknown score format {score_format!r}")
    top, convert = SCORE_FORMATS[score_format]
    if score == 0:
        return None
    if not 0 < score <= top or (score_format == "POINT_3" and score != int(score)):
        raise ValueError(f"score {score} outside {score_format}")
    value = convert(int(score) if score_format == "POINT_3" else score)
    return int(min(10, max(1, math.floor(value + 0.5))))  # half up, not banker's rounding


def _digest(name: str) -> str:
    # AniList names are case-insensitive: 'Alice' and 'alice' are one user.
    return hashlib.sha256(name.strip().lower().encode("utf-8")).hexdigest()


def _fmt(user: Any) -> str | None:
    options = user.get("mediaListOptions") if isinstance(user, dict) else None
    fmt = options.get("scoreFormat") if isinstance(options, dict) else None
    return fmt if fmt in SCORE_FORMATS else None


def _entries(collection: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for lst in collection.get("lists") or []:
        for entry in (lst or {}).get("entries") or []:
            if isinstance(entry, dict):
                yield entry


def _read_list(client: GraphQLClient, name: str, fmt: str, label: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    chunk = 1
    while True:
        what = f"{label} list chunk {chunk}"  # never the name: errors may be pasted in issues
        data = client.execute(LIST_QUERY, {"name": name, "format": fmt, "chunk": chunk,
                                           "perChunk": PER_CHUNK}, what)
        collection = data.get("MediaListCollection")
        if not isinstance(collection, dict):
            raise FetchError(client.endpoint, f"{what}: response has no data.MediaListCollection")
        entries.extend(_entries(collection))
        if collection.get("hasNextChunk") is not True:
            return entries
        chunk += 1


def convert_entries(entries: Iterable[dict[str, Any]], fmt: str, counts: Counter[str],
                    catalog_ids: set[int] | None = None) -> list[tuple[int, int]]:
    """List entries -> sorted (anime_id, rating) pairs; drops are counted in ``counts``."""
    ratings: dict[int, int] = {}
    for entry in entries:
        media, score = entry.get("mediaId"), entry.get("score")
        if not isinstance(media, int) or not isinstance(score, (int, float)):
            counts["entries_dropped_malformed"] += 1
        elif media in ratings:
            counts["entries_repeated_in_custom_lists"] += 1
        elif score == 0:
            counts["entries_dropped_unscored"] += 1
        elif catalog_ids is not None and media not in catalog_ids:
            counts["entries_dropped_not_in_catalog"] += 1
        else:
            try:
                rating = to_ten_point(score, fmt)
            except ValueError:
                counts["entries_dropped_out_of_range"] += 1
                continue
            ratings[media] = rating  # type: ignore[assignment]  # score != 0 -> int
    return sorted(ratings.items())


def _discover(client: GraphQLClient, state: dict, counts: Counter[str], users: int,
              depth: int) -> Iterator[tuple[str, str | None]]:
    """``(name, score format)`` of listed users, page by page from ``state["discovery_page"]``, until
    ``users`` were kept, the listing ends, or the server's page-depth limit ``depth`` is reached."""
    while users and state["discovered"] < users:
        page = state["discovery_page"]
        if page * USERS_PER_PAGE > depth:
            counts["users_discovery_stopped_at_page_depth_limit"] = 1
            return
        try:
            data = client.execute(USERS_QUERY, {"page": page, "perPage": USERS_PER_PAGE},
                                  f"user discovery page {page}")
        except FetchError as err:
            if not is_page_depth_error(err):  # a lower limit than ours: the listing ends here
                raise
            counts["users_discovery_stopped_at_page_depth_limit"] = 1
            return
        found = data.get("Page", {}).get("users") if isinstance(data.get("Page"), dict) else None
        if not isinstance(found, list):
            raise FetchError(client.endpoint, f"user discovery page {page}: no data.Page.users list")
        for user in found:
            if isinstance(user, dict) and isinstance(user.get("name"), str):
                yield user["name"], _fmt(user)
        info = data["Page"].get("pageInfo") or {}
        if not found or info.get("hasNextPage") is not True:
            return
        state["discovery_page"] = page + 1  # a resumed run refetches only the current page


def _user_ratings(client: GraphQLClient, name: str, fmt: str | None, discovered: bool, label: str,
                  counts: Counter[str], catalog_ids: set[int] | None) -> list[tuple[int, int]] | None:
    """One user's kept ``(anime, rating)`` pairs; None where the user is private or missing."""
    try:
        if fmt is None and not discovered:
            fmt = _fmt(client.execute(USER_QUERY, {"name": name}, f"{label} lookup").get("User"))
        if fmt is None:
            counts[f"users_format_unknown_read_as_{FALLBACK_FORMAT.lower()}"] += 1
            fmt = FALLBACK_FORMAT
        return convert_entries(_read_list(client, name, fmt, label), fmt, counts, catalog_ids)
    except GraphQLError as err:
        if not err.not_found:
            raise
        counts["users_skipped_private_or_missing"] += 1
        return None


def _keep(state: dict, pairs: list[tuple[int, int]] | None, discovered: bool, counts: Counter[str]) -> None:
    """Add one fetched user's rows to ``state`` (a new id ``u000001``, ...) or count why none were kept."""
    if pairs:
        state["kept"] += 1
        state["discovered"] += discovered
        uid = f"u{state['kept']:06d}"
        state["rows"].extend([uid, anime, rating] for anime, rating in pairs)
    elif pairs is not None:
        counts["users_skipped_no_kept_ratings"] += 1


def fetch_ratings(client: GraphQLClient, out: Path, checkpoint: Path, *, users: int = 0,
                  names: tuple[str, ...] = (), catalog_ids: set[int] | None = None,
                  progress: bool = True, depth: int = PAGE_DEPTH) -> Counter[str]:
    """Fetch the named users, then discover up to ``users`` more; write ``out``; return counts.

    ``depth``: the server's page-depth limit in entries; discovery stops there. Progress is saved
    after every user, so a rerun of the same command resumes.
    """
    params = {"endpoint": client.endpoint, "users": users, "names": [_digest(n) for n in names],
              "catalog": len(catalog_ids) if catalog_ids is not None else None}
    state = load_checkpoint(checkpoint, CHECKPOINT_KIND, params) or {
        "done": [], "kept": 0, "discovered": 0, "discovery_page": 1, "rows": [], "counts": {}}
    done: set[str] = set(state["done"])
    counts: Counter[str] = Counter(state["counts"])
    candidates = chain(((name, None, False) for name in names),
                       ((name, fmt, True) for name, fmt in _discover(client, state, counts, users, depth)))
    bar = tqdm(total=len(names) + users, initial=len(state["done"]), unit="user",
               desc="fetch-ratings", disable=not progress, leave=False)
    try:
        for name, fmt, discovered in candidates:
            if discovered and state["discovered"] >= users:
                break
            key = _digest(name)
            if key in done:
                continue
            pairs = _user_ratings(client, name, fmt, discovered, f"user #{len(done) + 1}", counts, catalog_ids)
            done.add(key)
            state["done"].append(key)
            _keep(state, pairs, discovered, counts)
            state["counts"] = counts
            save_checkpoint(checkpoint, CHECKPOINT_KIND, params, state)
            bar.update(1)
    except FetchError as err:
        if state["done"]:
            raise FetchError(client.endpoint, f"{err.detail} (progress saved in {checkpoint}; "
                                              f"rerun the same command to resume)") from None
        raise
    finally:
        bar.close()

    counts["users"] = state["kept"]
    counts["ratings"] = len(state["rows"])
    write_csv(out, pd.DataFrame(state["rows"], columns=["user_id", "anime_id", "rating"]))
    remove_checkpoint(checkpoint)
    return counts
