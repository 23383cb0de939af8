"""Fetch AniList's anime catalog into ``anime_catalog.json`` (the input contract).

One ``Page`` query per page (``media(type: ANIME, sort: [POPULARITY_DESC, ID])``,
at most 50 per page; ``ID`` breaks popularity ties so that paging is stable),
paced and retried by :class:`GraphQLClient`. After every page the raw media
fetched so far and where the walk stands are written atomically to a
checkpoint, so a rerun of the same command after an interruption continues
where it stopped and ends with the same file an uninterrupted run writes
(conversion runs once, at the end). The rewrite grows with the catalog (tens
of MB at ~20k anime) but happens inside the pacing interval, which counts from
the previous request.

AniList serves at most 5,000 entries of one listing (:data:`PAGE_DEPTH`; page
101 of 50 is refused with HTTP 400), so the walk goes in windows, each within
that depth, most popular first:

1. ``popularity_lesser: P`` (none at first), sorted ``[POPULARITY_DESC, ID]``;
2. when a window reaches the depth limit with more to come, the anime sharing
   the last popularity value ``P`` are read as their own window
   (``popularity: P``, sorted by ``ID``), then the walk goes on below ``P``.

Anime already fetched are skipped (a popularity can change while we page).
A "Page depth exceeds" answer is never retried: it closes the window early
(the server's limit was lower than ours), or, for a first page, stops the walk
with an error that says rerunning will not help; so does a single popularity
value held by more than ``PAGE_DEPTH`` anime.

Conversion to the contract (README "Input contract"):

* ``id`` = ``idAnilist`` = AniList media id; ``idMal`` as AniList has it (may be null);
* ``year`` = ``seasonYear``, else the start date's year (movies often have no season);
* ``coverImage`` = ``coverImage.large``; tags keep AniList's ``rank`` and ``category``;
* studios become ``{id, name, isMain, isAnimationStudio}``: ``isMain`` from the edge,
  ``isAnimationStudio`` from the company (null if AniList leaves it out); a main entry
  whose company is not an animation studio counts as a producer downstream
  (:attr:`gnn.data.schema.Studio.animates`); ``averageScore`` stays 0-100 (as a float);
* ``status``: HIATUS -> RELEASING (still running), CANCELLED -> null (counted);
* relations: only anime -> anime (``node.type == ANIME``), as ``{id, relationType}``;
  types outside the contract (COMPILATION, CONTAINS, SOURCE, ADAPTATION) become
  OTHER; relations to anime outside the fetched catalog and self-loops are
  dropped, since the contract promises both ends are in the catalog. Every
  drop is counted.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from gnn.data.schema import FORMATS, RELATION_TYPES
from gnn.ingest.graphql import (PAGE_DEPTH, FetchError, GraphQLClient, is_page_depth_error, load_checkpoint,
                                remove_checkpoint, save_checkpoint)
from gnn.io import write_json

MAX_PER_PAGE = 50  # AniList's cap for Page(perPage:)

CATALOG_QUERY = """
query ($page: Int, $perPage: Int, $sort: [MediaSort], $popularity: Int, $popularity_lesser: Int) {
  Page(page: $page, perPage: $perPage) {
    pageInfo { hasNextPage currentPage }
    media(type: ANIME, sort: $sort, popularity: $popularity, popularity_lesser: $popularity_lesser) {
      id idMal title { romaji english native } format episodes duration status
      seasonYear startDate { year } genres tags { name rank category }
      studios { edges { isMain node { id name isAnimationStudio } } }
      relations { edges { relationType node { id type } } }
      popularity averageScore coverImage { large } description
    }
  }
}
"""

_STATUSES = {"FINISHED": "FINISHED", "RELEASING": "RELEASING",
             "NOT_YET_RELEASED": "NOT_YET_RELEASED", "HIATUS": "RELEASING", "CANCELLED": None}
CHECKPOINT_KIND = "anilist-catalog"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def convert_media(media: dict[str, Any], counts: Counter[str]) -> dict[str, Any]:
    """One AniList ``Media`` object -> one contract record (relations not yet catalog-filtered)."""
    title = media.get("title") if isinstance(media.get("title"), dict) else {}
    fmt = media.get("format")
    if fmt is not None and fmt not in FORMATS:
        counts["format_unknown_as_null"] += 1
        fmt = None
    status = media.get("status")
    if status not in _STATUSES:
        status = None
    elif _STATUSES[status] != status:
        counts[f"status_{status.lower()}_as_{str(_STATUSES[status]).lower()}"] += 1
        status = _STATUSES[status]
    start = media.get("startDate") if isinstance(media.get("startDate"), dict) else {}
    cover = media.get("coverImage")
    score = media.get("averageScore")

    relations = []
    for edge in _dicts((media.get("relations") or {}).get("edges")):
        node = edge.get("node") if isinstance(edge.get("node"), dict) else {}
        target = _int(node.get("id"))
        if node.get("type") != "ANIME" or target is None:
            counts["relations_dropped_not_anime"] += 1  # manga, novels: not in an anime catalog
            continue
        rtype = edge.get("relationType")
        if rtype not in RELATION_TYPES:
            counts["relations_type_as_other"] += 1
            rtype = "OTHER"
        relations.append({"id": target, "relationType": rtype})

    studios = []
    for edge in _dicts((media.get("studios") or {}).get("edges")):
        node = edge.get("node") if isinstance(edge.get("node"), dict) else {}
        name = _str(node.get("name"))
        if name is not None:
            flag = node.get("isAnimationStudio")
            studios.append({"id": _int(node.get("id")), "name": name, "isMain": edge.get("isMain") is True,
                            "isAnimationStudio": flag if isinstance(flag, bool) else None})

    return {
        "id": media["id"], "idMal": _int(media.get("idMal")), "idAnilist": media["id"],
        "title": {k: _str(title.get(k)) for k in ("romaji", "english", "native")},
        "format": fmt, "episodes": _int(media.get("episodes")),
        "duration": _int(media.get("duration")), "status": status,
        "year": _int(media.get("seasonYear")) or _int(start.get("year")),
        "genres": [g for g in media.get("genres") or [] if isinstance(g, str)],
        "tags": [{"name": t["name"], "rank": _int(t.get("rank")), "category": _str(t.get("category"))}
                 for t in _dicts(media.get("tags")) if _str(t.get("name"))],
        "studios": studios, "relations": relations,
        "popularity": _int(media.get("popularity")),
        "averageScore": float(score) if isinstance(score, (int, float)) else None,
        "coverImage": _str(cover.get("large")) if isinstance(cover, dict) else _str(cover),
        "description": _str(media.get("description")),
    }


def finalize_catalog(records: list[dict[str, Any]], counts: Counter[str]) -> list[dict[str, Any]]:
    """Deduplicate by id, sort by id, keep only relations whose target is in the catalog."""
    by_id: dict[int, dict[str, Any]] = {}
    for record in records:
        if record["id"] in by_id:
            # POPULARITY_DESC shifts while we page, so an anime can show up twice.
            counts["anime_duplicate_dropped"] += 1
            continue
        by_id[record["id"]] = record
    catalog = [by_id[i] for i in sorted(by_id)]
    for record in catalog:
        kept, seen = [], set()
        for rel in record["relations"]:
            if rel["id"] == record["id"]:
                counts["relations_dropped_self"] += 1
            elif rel["id"] not in by_id:
                counts["relations_dropped_outside_catalog"] += 1
            elif rel["id"] in seen:
                counts["relations_dropped_duplicate"] += 1
            else:
                seen.add(rel["id"])
                kept.append(rel)
        record["relations"] = kept
        counts["relations_kept"] += len(kept)
    counts["anime"] = len(catalog)
    return catalog


def _page_media(data: dict[str, Any], endpoint: str, what: str) -> tuple[list[dict[str, Any]], bool]:
    page = data.get("Page")
    media = page.get("media") if isinstance(page, dict) else None
    if not isinstance(media, list):
        raise FetchError(endpoint, f"{what}: response has no data.Page.media list")
    for m in media:
        if not isinstance(m, dict) or _int(m.get("id")) is None:
            raise FetchError(endpoint, f"{what}: a media entry has no integer id")
    info = page.get("pageInfo") if isinstance(page.get("pageInfo"), dict) else {}
    return media, info.get("hasNextPage") is True


class PageDepthError(FetchError):
    """The walk cannot go on within AniList's page-depth limit; rerunning would fail the same way."""


def _window_variables(window: dict[str, int]) -> dict[str, Any]:
    """Query variables of a window: ``{}`` (everything), ``{"below": P}`` or ``{"popularity": P}``."""
    if "popularity" in window:
        return {"sort": ["ID"], "popularity": window["popularity"], "popularity_lesser": None}
    return {"sort": ["POPULARITY_DESC", "ID"], "popularity": None, "popularity_lesser": window.get("below")}


def _window_name(window: dict[str, int]) -> str:
    if "popularity" in window:
        return f" of popularity {window['popularity']}"
    return f" below popularity {window['below']}" if "below" in window else ""


def _after_depth_limit(window: dict[str, int], last_popularity: Any, endpoint: str, what: str) -> dict[str, int]:
    """The next window once ``window`` reached the depth limit with more to come."""
    if not isinstance(last_popularity, int):
        raise PageDepthError(endpoint, f"{what}: reached AniList's page-depth limit and the last anime has no "
                                       "popularity to continue below; rerunning will not help "
                                       "(use --max-anime to fetch fewer)")
    if "popularity" in window or window.get("below") == last_popularity:
        raise PageDepthError(endpoint, f"{what}: more anime than AniList's page-depth limit ({PAGE_DEPTH}) "
                                       f"share popularity {last_popularity}, so the walk cannot go on; rerunning "
                                       "will not help (use --max-anime to fetch fewer)")
    return {"popularity": last_popularity}


def _fetch_page(client: GraphQLClient, window: dict[str, int], page: int, per_page: int,
                depth: int) -> tuple[list[dict[str, Any]], bool, bool]:
    """``(media, more_in_window, at_depth_limit)`` of one page of ``window``."""
    what = f"page {page}{_window_name(window)}"
    try:
        data = client.execute(CATALOG_QUERY, {"page": page, "perPage": per_page, **_window_variables(window)}, what)
    except FetchError as err:
        if not is_page_depth_error(err):
            raise
        if page == 1:
            raise PageDepthError(client.endpoint, f"{err.detail}; rerunning will not help") from None
        return [], True, True  # the server's limit is lower than ours: close the window here
    batch, more = _page_media(data, client.endpoint, what)
    more = more and bool(batch)  # an empty page ends the listing whatever pageInfo says
    return batch, more, more and (page + 1) * per_page > depth


def _advance(state: dict[str, Any], more: bool, at_limit: bool, endpoint: str) -> None:
    """Move ``state`` (window, next_page, has_next) past the page just fetched."""
    window, page = state["window"], state["next_page"]
    if at_limit:
        what = f"page {page}{_window_name(window)}"
        state["window"] = _after_depth_limit(window, state["last_popularity"], endpoint, what)
        state["next_page"] = 1
    elif more:
        state["next_page"] = page + 1
    elif "popularity" in window:  # the tied anime are done: go on below them
        state["window"], state["next_page"] = {"below": window["popularity"]}, 1
    else:
        state["has_next"] = False


def fetch_catalog(client: GraphQLClient, out: Path, checkpoint: Path, *,
                  max_anime: int | None = None, pages: int | None = None,
                  per_page: int = MAX_PER_PAGE, progress: bool = True, depth: int = PAGE_DEPTH) -> Counter[str]:
    """Fetch up to ``max_anime`` anime / ``pages`` pages, write ``out``; return the counts.

    Resumes from ``checkpoint`` when it exists (made with the same endpoint and
    page size) and removes it once ``out`` is written. ``depth``: the server's
    page-depth limit in entries (see the module docstring).
    """
    params = {"endpoint": client.endpoint, "per_page": per_page}
    state = load_checkpoint(checkpoint, CHECKPOINT_KIND, params) or {
        "next_page": 1, "has_next": True, "media": [], "window": {}, "pages_done": 0, "last_popularity": None}
    # The checkpoint keeps AniList's raw media objects: conversion happens once, at the
    # end, so the counts describe exactly the anime written, resumed or not.
    media: list[dict[str, Any]] = state["media"]
    seen = {m["id"] for m in media}
    state.setdefault("window", {})
    state.setdefault("pages_done", state["next_page"] - 1)

    def wanted() -> bool:
        return (state["has_next"] and (pages is None or state["pages_done"] < pages)
                and (max_anime is None or len(media) < max_anime))

    bar = tqdm(total=max_anime, initial=len(media), unit="anime", desc="fetch-catalog",
               disable=not progress, leave=False)
    try:
        while wanted():
            window, page = state["window"], state["next_page"]
            batch, more, at_limit = _fetch_page(client, window, page, per_page, depth)
            new = [m for m in batch if m["id"] not in seen]
            seen.update(m["id"] for m in new)
            media.extend(new)
            state["pages_done"] += 1
            if batch:
                state["last_popularity"] = batch[-1].get("popularity")
            _advance(state, more, at_limit, client.endpoint)
            save_checkpoint(checkpoint, CHECKPOINT_KIND, params, {k: v for k, v in state.items()
                                                                  if k not in ("kind", "params")})
            bar.update(len(new))
    except PageDepthError:
        raise
    except FetchError as err:
        if media:
            raise FetchError(client.endpoint, f"{err.detail} (progress saved in {checkpoint}; "
                                              f"rerun the same command to resume)") from None
        raise
    finally:
        bar.close()

    if max_anime is not None:
        media = media[:max_anime]
    counts: Counter[str] = Counter(anime_fetched=len(media))
    catalog = finalize_catalog([convert_media(m, counts) for m in media], counts)
    write_json(out, catalog)
    remove_checkpoint(checkpoint)
    return counts
