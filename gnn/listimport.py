"""Read a person's anime list export: MyAnimeList XML, AniList JSON, or the web page's own ratings file.

``public/js/listimport.js`` reads the same formats the same way; ``tests/web/test_list_import.py``
feeds both the same fixture files. Reading sends nothing anywhere.

Formats (detected from the content; gzip, as MAL serves its export, is undone first):

* ``mal-xml``: MyAnimeList's "Export" file, ``<myanimelist>`` with one ``<anime>`` per entry. Used:
  ``series_animedb_id`` (MAL anime id), ``series_title``, ``my_score`` (0-10, 0 = not scored),
  ``my_status`` (Watching / Completed / On-Hold / Dropped / Plan to Watch, or 1/2/3/4/6), and
  ``my_finish_date`` else ``my_start_date`` (``YYYY-MM-DD``; ``0000-00-00`` = unknown) for the
  order. ``myinfo/user_export_type`` other than 1 (a manga list) is refused. A DOCTYPE is refused.
* ``anilist-json``: the JSON of AniList's GraphQL ``MediaListCollection(type: ANIME)`` (with or without
  the ``data`` wrapper). Used: ``lists[].entries[]`` ``mediaId`` (or ``media.id``), ``media.idMal``,
  ``media.title`` (``userPreferred``/``romaji``/``english``), ``score``, ``status`` (CURRENT / REPEATING
  / COMPLETED / PAUSED / DROPPED / PLANNING), ``updatedAt`` else ``completedAt`` for the order, and
  ``user.mediaListOptions.scoreFormat``, which scores are in: converted to 1-10 as ``anime-gnn
  fetch-ratings`` does (:func:`gnn.ingest.anilist_ratings.to_ten_point`); 0 = not scored.
* ``anime-gnn-json``: the page's "Export" (``{"format": "anime-gnn-ratings", "ratings": [{"anime_id",
  "rating"}]}``, or a bare list): catalog ids, ratings on the model's own scale, file order.

Entries come out oldest first (by date, undated ones first, then file order), as a history wants.
An entry without a usable id, with a score outside its format or an unknown status is *invalid*; the
same anime again (AniList's custom lists repeat entries) is *repeated*: both are counted, not used.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

MAX_BYTES = 64 << 20  # after gunzip: a 1,000-entry MAL export is about 0.5 MB
STATUSES = ("watching", "completed", "on_hold", "dropped", "plan_to_watch")
MAL_STATUS = {"watching": "watching", "completed": "completed", "on-hold": "on_hold", "dropped": "dropped",
              "plan to watch": "plan_to_watch", "1": "watching", "2": "completed", "3": "on_hold", "4": "dropped",
              "6": "plan_to_watch"}
ANILIST_STATUS = {"CURRENT": "watching", "REPEATING": "watching", "COMPLETED": "completed", "PAUSED": "on_hold",
                  "DROPPED": "dropped", "PLANNING": "plan_to_watch"}
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ID = re.compile(r"^[0-9]{1,15}$")


class ListFormatError(ValueError):
    """The file as a whole is not a list this module reads (one-line message)."""


@dataclass(frozen=True)
class ListEntry:
    """One entry: ``source`` "mal" | "anilist" | "catalog" and that source's anime ``id``; ``rating`` on
    1-10 (the model's own scale for "catalog"), None = not scored; ``status`` one of STATUSES or None
    (a page export: rated); ``when`` ``YYYY-MM-DD`` or "" (unknown)."""

    source: str
    id: int
    id_mal: int | None
    title: str | None
    status: str | None
    rating: float | None
    when: str


@dataclass(frozen=True)
class ParsedList:
    format: str
    entries: tuple[ListEntry, ...]
    invalid: int
    repeated: int


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _whole(value: Any) -> int | None:
    """A non-negative whole number from a JSON number or a digit string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10**15 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and 0 <= value < 10**15 else None
    if isinstance(value, str) and _ID.match(value.strip()):
        return int(value.strip())
    return None


def decode(data: bytes) -> str:
    """Bytes (gzipped or not) -> text; ListFormatError if too large or not UTF-8."""
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                data = f.read(MAX_BYTES + 1)
        except (OSError, EOFError) as err:
            raise ListFormatError(f"not a readable gzip file ({err})") from None
    if len(data) > MAX_BYTES:
        raise ListFormatError(f"larger than {MAX_BYTES >> 20} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ListFormatError(f"not UTF-8 text ({err.reason} at byte {err.start})") from None


def parse_list(data: bytes) -> ParsedList:
    """Detect the format and read every entry; ListFormatError names what is wrong with the whole file."""
    text = decode(data).lstrip()
    if text.startswith("<"):
        raw, fmt = _mal(text), "mal-xml"
    elif text.startswith(("{", "[")):
        try:
            doc = json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError
            raise ListFormatError(f"not valid JSON ({err})") from None
        raw, fmt = _json(doc)
    else:
        raise ListFormatError("not a MyAnimeList XML export, an AniList list JSON or an anime-gnn ratings file")
    entries, seen, invalid, repeated = [], set(), 0, 0
    for entry in raw:
        if entry is None:
            invalid += 1
        elif (entry.source, entry.id) in seen:
            repeated += 1
        else:
            seen.add((entry.source, entry.id))
            entries.append(entry)
    entries.sort(key=lambda e: e.when)  # stable: file order within a date
    return ParsedList(fmt, tuple(entries), invalid, repeated)


def _mal(text: str) -> list[ListEntry | None]:
    if "<!DOCTYPE" in text[:4096].upper() or "<!ENTITY" in text.upper():
        raise ListFormatError("XML with a DOCTYPE or entities is not read (MyAnimeList exports have none)")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise ListFormatError(f"not well-formed XML ({err})") from None
    if root.tag != "myanimelist":
        raise ListFormatError(f"an XML file, but not a MyAnimeList export (root <{root.tag}>, not <myanimelist>)")
    kind = (root.findtext("myinfo/user_export_type") or "1").strip()
    if kind != "1":
        raise ListFormatError(f"a MyAnimeList export of type {kind} (a manga list?), not an anime list")
    return [_mal_entry(a) for a in root.findall("anime")]


def _mal_entry(node: ET.Element) -> ListEntry | None:
    def text(tag: str) -> str:
        return (node.findtext(tag) or "").strip()

    anime_id, status = _whole(text("series_animedb_id")), MAL_STATUS.get(text("my_status").lower())
    score = _whole(text("my_score") or "0")
    if not anime_id or status is None or score is None or score > 10:
        return None
    when = next((d for d in (text("my_finish_date"), text("my_start_date")) if _DATE.match(d) and d[:4] != "0000"), "")
    return ListEntry("mal", anime_id, None, text("series_title") or None, status, float(score) if score else None, when)


def _json(doc: Any) -> tuple[list[ListEntry | None], str]:
    collection = doc.get("data", doc) if isinstance(doc, dict) else None
    collection = collection.get("MediaListCollection", collection) if isinstance(collection, dict) else None
    if isinstance(collection, dict) and isinstance(collection.get("lists"), list):
        return _anilist(collection), "anilist-json"
    ratings = doc if isinstance(doc, list) else doc.get("ratings") if isinstance(doc, dict) else None
    if isinstance(ratings, list):
        return [_page_entry(r) for r in ratings], "anime-gnn-json"
    raise ListFormatError("JSON, but neither an AniList MediaListCollection (with \"lists\") "
                          "nor an anime-gnn ratings file (with \"ratings\")")


def _anilist(collection: dict) -> list[ListEntry | None]:
    from gnn.ingest.anilist_ratings import SCORE_FORMATS, to_ten_point

    user = collection.get("user")
    options = user.get("mediaListOptions") if isinstance(user, dict) else None
    fmt = options.get("scoreFormat") if isinstance(options, dict) else None
    entries = [e for lst in collection["lists"] if isinstance(lst, dict)
               for e in (lst.get("entries") if isinstance(lst.get("entries"), list) else [])]
    if fmt not in SCORE_FORMATS and any(isinstance(e, dict) and e.get("score") not in (0, None) for e in entries):
        raise ListFormatError("the AniList list does not say its score format: ask MediaListCollection for "
                              "user { mediaListOptions { scoreFormat } } too")
    return [_anilist_entry(e, fmt, to_ten_point) if isinstance(e, dict) else None for e in entries]


def _anilist_entry(e: dict, fmt: str | None, to_ten_point: Any) -> ListEntry | None:
    media = e.get("media") if isinstance(e.get("media"), dict) else {}
    status = ANILIST_STATUS.get(e["status"]) if isinstance(e.get("status"), str) else None
    anime_id, score = _whole(e.get("mediaId", media.get("id"))), e.get("score", 0)
    if not anime_id or status is None or not (score is None or _number(score)):
        return None
    try:
        rating = None if score in (0, None) else float(to_ten_point(score, fmt))
    except ValueError:  # outside the format's range
        return None
    title = media.get("title") if isinstance(media.get("title"), dict) else {}
    name = next((t for t in (title.get(k) for k in ("userPreferred", "romaji", "english")) if isinstance(t, str)), None)
    return ListEntry("anilist", anime_id, _whole(media.get("idMal")), name, status, rating, _anilist_when(e))


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _anilist_when(e: dict) -> str:
    updated = e.get("updatedAt")
    if _number(updated) and 0 < updated < 1e11:
        return dt.datetime.fromtimestamp(int(updated), dt.timezone.utc).strftime("%Y-%m-%d")
    done = e.get("completedAt")
    if isinstance(done, dict) and _number(done.get("year")) and 0 < done["year"] < 10000:
        month, day = (done.get(k) if _number(done.get(k)) else 0 for k in ("month", "day"))
        return f"{int(done['year']):04d}-{int(month):02d}-{int(day):02d}"
    return ""


def _page_entry(raw: Any) -> ListEntry | None:
    anime_id, rating = (raw[0], raw[1]) if isinstance(raw, list) and len(raw) >= 2 else (
        (raw.get("anime_id", raw.get("id")), raw.get("rating")) if isinstance(raw, dict) else (None, None))
    anime_id = _whole(anime_id)
    if anime_id is None or not _number(rating):
        return None
    return ListEntry("catalog", anime_id, None, None, None, float(rating), "")
