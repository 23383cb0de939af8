"""The non-ONNX files of an export: display data, id maps, and known users' ratings.

* ``anime_display.json``: a JSON array indexed by anime index (entry 0 is
  ``null``, the padding anime); each entry
  ``{"id", "idMal", "idAnilist", "title", "title_romaji", "title_english",
  "title_native", "cover", "year", "format", "genres": [str], "studios": [str],
  "producers": [str], "relations": [[related_index, TYPE], ...], "popularity", "ratings"}``, and with a
  GNN export ``"corated": [anime_index, ...]``: the anime most often rated by the same users, strongest
  first (the model's co-rated table, ``corated_width`` per anime, as its "will watch" score reads it;
  the reasons read it);
  ``studios`` are the animation studios only, ``producers`` every other company
  credited; ``idMal`` / ``idAnilist`` are the catalog's MyAnimeList / AniList ids
  (null if unknown), used to read people's list exports. A relation ``[j, "PREQUEL"]``
  on anime ``i`` means anime ``j`` is ``i``'s prequel (so ``i`` is ``j``'s
  sequel); ``popularity`` is the z-scored log popularity of preprocess (0 if unknown), ``ratings`` the
  anime's training ratings (what ``discover`` discounts, :mod:`gnn.discover`).
* ``model_mappings.json``: ``{"padding_index": 0, "anime": {"index_to_id",
  "id_to_index"}, "user": {...}}`` (``user`` only when the user table is exported).
* ``user_ratings.bin`` (only with the user table): every rating of every known
  user in train/val/test, as little-endian ``int32 offsets[n_users + 1]``,
  ``int32 anime_index[nnz]``, ``float32 rating[nnz]``; user ``u``'s entries are
  ``offsets[u]:offsets[u + 1]``. Lets ``recommend`` exclude and explain what a known user rated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gnn.data.history_key import keep_key
from gnn.errors import InputError
from gnn.io import atomic_path, read_json_input, write_json
from gnn.processed import DATA_STATS, load_split, refuse_old_format


def read_catalog_side(data_dir: Path, n_anime: int, fingerprint: str | None) -> tuple[list, dict, dict]:
    """``(anime_metadata, mappings, data_stats)`` of the preprocess output the model was trained on."""
    refuse_old_format(data_dir)
    needed = ("anime_metadata.json", "mappings.json", DATA_STATS)
    missing = [name for name in needed if not (data_dir / name).exists()]
    if missing:
        raise InputError(str(data_dir), f"missing {', '.join(missing)}: the export needs the preprocess "
                         "output the model was trained on (pass --data-dir)")
    meta, mappings, stats = (read_json_input(data_dir / name) for name in needed)
    shapes = {"anime_metadata.json": isinstance(meta, list) and all(isinstance(m, dict) for m in meta),
              "mappings.json": isinstance(mappings, dict) and all(
                  isinstance(mappings.get(k), dict) and "index_to_id" in mappings[k] for k in ("anime", "studio")),
              DATA_STATS: isinstance(stats, dict)}
    for name, ok in shapes.items():
        if not ok:
            raise InputError(str(data_dir / name), "not the shape preprocess writes (re-run preprocess)")
    if len(meta) + 1 != n_anime:
        raise InputError(str(data_dir), f"holds {len(meta)} anime but the model has {n_anime - 1}: "
                         "not the data this model was trained on")
    if fingerprint and stats.get("data_fingerprint") not in (None, fingerprint):
        raise InputError(str(data_dir), f"data fingerprint {stats.get('data_fingerprint')} differs from the "
                         f"model's {fingerprint}: not the data this model was trained on")
    return meta, mappings, stats


def anime_display(meta: list[dict], corated: np.ndarray | None = None) -> list[dict[str, Any] | None]:
    """``anime_display.json`` from ``anime_metadata.json`` (format 2: every entry names its studios and producers);
    ``corated`` ``[n_anime, K]`` (0 = padding, strongest first) adds each entry's list, padding dropped."""
    out: list[dict[str, Any] | None] = [None]
    for index, m in enumerate(meta, start=1):
        out.append({
            "id": m["anime_id"], "idMal": m.get("id_mal"), "idAnilist": m.get("id_anilist"), "title": m["title"], "title_romaji": m.get("title_romaji"),
            "title_english": m.get("title_english"), "title_native": m.get("title_native"),
            "cover": m.get("cover_image"), "year": m.get("year"), "format": m.get("format"),
            "status": m.get("status"),
            "genres": m.get("genres", []), "studios": list(m["studios"]), "producers": list(m["producers"]),
            "relations": [[i, t] for i, t in zip(m.get("relationship_indices", []),
                                                  m.get("relationship_types", []))],
            "popularity": round(float(m.get("popularity_score") or 0.0), 4),
            "ratings": int(m.get("n_train_ratings") or 0),
        })
        if corated is not None:
            out[-1]["corated"] = [int(j) for j in corated[index] if j > 0]
    return out


def export_mappings(mappings: dict, with_users: bool) -> dict:
    out = {"padding_index": 0, "anime": mappings["anime"]}
    if with_users:
        out["user"] = mappings["user"]
    return out


def user_ratings(data_dir: Path, n_users: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """CSR ``(offsets, anime_index, rating)`` of known users' ratings, or None if the splits are missing."""
    splits = [load_split(data_dir, name) for name in ("train", "val", "test")]
    if any(split is None for split in splits):
        return None
    frame = pd.DataFrame({"user_idx": np.concatenate([s.user.numpy() for s in splits]).astype(np.int64),
                          "anime_idx": np.concatenate([s.anime.numpy() for s in splits]).astype(np.int64),
                          "rating": np.concatenate([s.rating.numpy() for s in splits])})
    frame = frame[(frame["user_idx"] > 0) & (frame["user_idx"] < n_users)]
    # Per user, ascending by the fixed history key: a reader keeping the last H entries keeps the ones
    # the evaluation and training keep (gnn.train.histories.keep_key).
    frame = frame.assign(_key=keep_key(frame["anime_idx"].astype("int64")))
    frame = frame.sort_values(["user_idx", "_key", "anime_idx"])
    counts = np.bincount(frame["user_idx"].to_numpy(), minlength=n_users)[:n_users]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype("<i4")
    return offsets, frame["anime_idx"].to_numpy().astype("<i4"), frame["rating"].to_numpy().astype("<f4")


def write_binary(path: Path, *arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        for a in arrays:
            f.write(np.ascontiguousarray(a).tobytes())


def write_display_files(folder: Path, meta: list[dict], mappings: dict, with_users: bool,
                        corated: np.ndarray | None = None) -> None:
    write_json(folder / "anime_display.json", anime_display(meta, corated), indent=None)
    write_json(folder / "model_mappings.json", export_mappings(mappings, with_users), indent=None)
