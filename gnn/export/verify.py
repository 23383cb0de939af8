"""Check an export folder before anything in it is used (``recommend``; the web page does the same).

Every file is read once, checked against ``onnx_model_metadata.json`` "files"
(size and SHA-256 of exactly the bytes read), then checked for shape and
schema, and only then handed on: the ONNX session is built from the verified
bytes, not from the path, so a file swapped after the check is never used.

Checks, each failing with one :class:`~gnn.errors.InputError` naming the file:

* ``onnx_model_metadata.json``: strict JSON, ``format_version`` 1, a "files"
  table, sane ``n_anime``, ``max_history``, ``rating_scale``;
* size and SHA-256 of ``model.onnx``, ``model_mappings.json``,
  ``anime_display.json``, ``item_embeddings.bin`` and ``user_ratings.bin``;
* ``model_mappings.json``: one id per anime index, indices in range;
* ``anime_display.json``: one entry per anime index, relations and co-rated anime inside the catalog;
* ``item_embeddings.bin``: float32 ``[n_anime, D]`` as declared, finite;
* ``user_ratings.bin``: ``int32 offsets[n_users + 1]``, ``int32 anime[nnz]``,
  ``float32 rating[nnz]`` (offsets from 0 to nnz, never decreasing; anime
  indices in 1..n_anime-1; ratings on the scale);
* ``model.onnx``: ONNX Runtime loads it, and its inputs and outputs are the
  ones the metadata declares.

numpy and onnxruntime only (no torch), like :mod:`gnn.inference`.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gnn.errors import InputError

METADATA = "onnx_model_metadata.json"
SUPPORTED_FORMAT = 1


@dataclass(frozen=True)
class VerifiedExport:
    """An export's contents, every byte of which matched the metadata."""

    folder: Path
    metadata: dict
    model: bytes                   # model.onnx, the bytes that were hashed
    mappings: dict
    display: list
    embeddings: np.ndarray         # float32 [n_anime, D]
    user_ratings: tuple[np.ndarray, np.ndarray, np.ndarray] | None  # CSR offsets, anime, rating


def _fail(path: Path, message: str) -> InputError:
    return InputError(str(path), message)


def _int(value: Any, low: int, path: Path, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _fail(path, f"'{field}' must be an integer >= {low}, got {str(value)[:40]}")
    return value


def _strict_json(raw: bytes, path: Path) -> Any:
    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not standard JSON")

    try:
        return json.loads(raw.decode("utf-8"), parse_constant=constant)
    except UnicodeDecodeError as err:
        raise _fail(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise _fail(path, f"not valid JSON ({err})") from None
    except ValueError as err:
        raise _fail(path, f"not valid JSON ({err})") from None
    except RecursionError:
        raise _fail(path, "not readable: JSON nested too deeply") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise _fail(path, "file missing from the export") from None
    except OSError as err:
        raise _fail(path, f"cannot read ({err.strerror or err})") from None


class _Files:
    """Reads the files the metadata lists, each checked against its size and SHA-256."""

    def __init__(self, folder: Path, table: Any) -> None:
        self.folder = folder
        if not isinstance(table, dict) or not table:
            raise _fail(folder / METADATA, "no 'files' table (size and sha256 of every file); "
                                           "re-export with `anime-gnn export`")
        self.table = table

    def read(self, name: Any) -> bytes:
        if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\\" in name:
            raise _fail(self.folder / METADATA, f"file name {str(name)[:60]!r} is not a plain file name")
        path = self.folder / name
        entry = self.table.get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str) \
                or not isinstance(entry.get("bytes"), int):
            raise _fail(path, f"not listed with size and sha256 in {METADATA} 'files': cannot be verified")
        raw = _read(path)
        if len(raw) != entry["bytes"]:
            raise _fail(path, f"{len(raw):,} bytes, but {METADATA} says {entry['bytes']:,} "
                              "(truncated or replaced after export); re-export it")
        if hashlib.sha256(raw).hexdigest() != entry["sha256"].lower():
            raise _fail(path, f"sha256 differs from {METADATA} (changed after export); re-export it")
        return raw


def _metadata(folder: Path) -> dict:
    path = folder / METADATA
    meta = _strict_json(_read(path), path)
    if not isinstance(meta, dict):
        raise _fail(path, "expected a JSON object")
    if meta.get("format_version") != SUPPORTED_FORMAT:
        raise _fail(path, f"unsupported export format {repr(meta.get('format_version'))[:40]}")
    _int(meta.get("n_anime"), 2, path, "n_anime")
    _int(meta.get("max_history"), 1, path, "max_history")
    scale = meta.get("rating_scale")
    low, high = (scale.get("low"), scale.get("high")) if isinstance(scale, dict) else (None, None)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (low, high)) \
            or not low < high:
        raise _fail(path, "'rating_scale' must be {low, high} with finite low < high")
    if not isinstance(meta.get("model_version"), str):
        raise _fail(path, "'model_version' must be a string")
    return meta


def _mappings(raw: bytes, path: Path, n_anime: int) -> dict:
    maps = _strict_json(raw, path)
    anime = maps.get("anime") if isinstance(maps, dict) else None
    ids = anime.get("index_to_id") if isinstance(anime, dict) else None
    index = anime.get("id_to_index") if isinstance(anime, dict) else None
    if not isinstance(ids, list) or len(ids) != n_anime or not isinstance(index, dict):
        raise _fail(path, f"expected anime.index_to_id with {n_anime} entries and anime.id_to_index")
    if not maps.get("user"):
        maps.pop("user", None)  # no user table (an export for new users only)
    users = maps.get("user", {})
    for name, table in (("anime", index), ("user", users.get("id_to_index", {}) if isinstance(users, dict) else None)):
        if not isinstance(table, dict) or not all(
                isinstance(i, int) and not isinstance(i, bool) and i >= 1 for i in table.values()):
            raise _fail(path, f"{name}.id_to_index must map ids to indices >= 1")
    if any(i >= n_anime for i in index.values()):
        raise _fail(path, f"anime.id_to_index holds an index beyond the {n_anime - 1} anime")
    return maps


def _entry_ok(entry: Any, n_anime: int) -> bool:
    """What recommend and its reasons read from one display entry: lists of names, relations and co-rated
    anime inside the catalog."""
    if not isinstance(entry, dict) or not isinstance(entry.get("year"), (int, type(None))):
        return False
    names = [entry.get(k, []) for k in ("genres", "studios", "producers")]
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in names):
        return False
    relations, corated = entry.get("relations", []), entry.get("corated", [])
    return isinstance(relations, list) and all(
        isinstance(r, list) and len(r) == 2 and isinstance(r[0], int) and 0 < r[0] < n_anime and isinstance(r[1], str)
        for r in relations) and isinstance(corated, list) and all(
        isinstance(j, int) and 0 < j < n_anime for j in corated)


def _display(raw: bytes, path: Path, n_anime: int) -> list:
    display = _strict_json(raw, path)
    if not isinstance(display, list) or len(display) != n_anime:
        raise _fail(path, f"expected a JSON array of {n_anime} entries (one per anime index)")
    for i, entry in enumerate(display):
        if entry is not None and not _entry_ok(entry, n_anime):
            raise InputError(str(path), "malformed entry (genres, studios, producers, relations, corated or year)", record=i)
    return display


def _embeddings(files: _Files, meta: dict, n_anime: int) -> np.ndarray:
    spec = meta.get("item_embeddings")
    path = files.folder / str(spec.get("file") if isinstance(spec, dict) else "item_embeddings.bin")
    shape = spec.get("shape") if isinstance(spec, dict) else None
    if not (isinstance(shape, list) and len(shape) == 2 and shape[0] == n_anime
            and isinstance(shape[1], int) and shape[1] >= 1):
        raise _fail(files.folder / METADATA, f"'item_embeddings.shape' must be [{n_anime}, D]")
    raw = files.read(spec.get("file"))
    if len(raw) != 4 * n_anime * shape[1]:
        raise _fail(path, f"{len(raw):,} bytes do not hold float32 {shape}")
    emb = np.frombuffer(raw, dtype="<f4").reshape(shape)
    if not np.isfinite(emb).all():
        raise _fail(path, "holds NaN or infinite values")
    return emb


def _user_ratings(files: _Files, meta: dict, n_anime: int) -> tuple[np.ndarray, ...] | None:
    spec = meta.get("user_ratings")
    if not spec:
        return None
    meta_path = files.folder / METADATA
    if not isinstance(spec, dict):
        raise _fail(meta_path, "'user_ratings' must be an object")
    n = _int(spec.get("n_users"), 1, meta_path, "user_ratings.n_users")
    nnz = _int(spec.get("nnz"), 0, meta_path, "user_ratings.nnz")
    raw = files.read(spec.get("file"))
    path = files.folder / spec["file"]
    if len(raw) != 4 * (n + 1 + 2 * nnz):
        raise _fail(path, f"{len(raw):,} bytes, but int32 offsets[{n + 1}] + int32 anime[{nnz}] + "
                          f"float32 rating[{nnz}] take {4 * (n + 1 + 2 * nnz):,}")
    words = np.frombuffer(raw, dtype="<i4")
    offsets, anime, rating = words[:n + 1], words[n + 1:n + 1 + nnz], words[n + 1 + nnz:].view("<f4")
    if offsets[0] != 0 or offsets[-1] != nnz or (np.diff(offsets) < 0).any():
        raise _fail(path, f"offsets must rise from 0 to {nnz}")
    if nnz and (anime.min() < 1 or anime.max() >= n_anime):
        raise _fail(path, f"anime indices must lie in 1..{n_anime - 1}")
    low, high = meta["rating_scale"]["low"], meta["rating_scale"]["high"]
    if not (np.isfinite(rating) & (rating >= low) & (rating <= high)).all():
        raise _fail(path, f"ratings must lie on the {low:g}-{high:g} scale")
    return offsets, anime, rating


def load_verified(model_dir: str | Path) -> VerifiedExport:
    """Read and check every file of the export in ``model_dir``; raise InputError naming the first bad one."""
    folder = Path(model_dir)
    if not (folder / METADATA).exists():
        raise InputError(str(folder), f"no ONNX export here ({METADATA} missing); run `anime-gnn export` first")
    folder = folder.resolve()  # resolved once, so a concurrent re-export cannot mix two versions
    meta = _metadata(folder)
    files = _Files(folder, meta.get("files"))
    n_anime = meta["n_anime"]
    maps = _mappings(files.read("model_mappings.json"), folder / "model_mappings.json", n_anime)
    ratings = _user_ratings(files, meta, n_anime)
    user_index = maps.get("user", {}).get("id_to_index", {})
    if ratings is not None and any(i >= len(ratings[0]) - 1 for i in user_index.values()):
        raise _fail(folder / "model_mappings.json", "a user index lies beyond user_ratings.bin's users")
    return VerifiedExport(folder=folder, metadata=meta, model=files.read("model.onnx"), mappings=maps,
                          display=_display(files.read("anime_display.json"), folder / "anime_display.json",
                                           n_anime),
                          embeddings=_embeddings(files, meta, n_anime), user_ratings=ratings)


def open_session(export: VerifiedExport, threads: int = 1):  # -> onnxruntime.InferenceSession
    """An ONNX Runtime session of the verified model bytes; its inputs/outputs must match the metadata."""
    import onnxruntime as ort

    path = export.folder / "model.onnx"
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(export.model, opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - onnxruntime's own error classes; the bytes were hashed already
        first = (str(err).splitlines() or [""])[0][:200]
        raise _fail(path, f"ONNX Runtime cannot load it ({type(err).__name__}: {first})") from None
    declared = {side: [d.get("name") for d in export.metadata.get(side) or [] if isinstance(d, dict)]
                for side in ("inputs", "outputs")}
    actual = {"inputs": [i.name for i in session.get_inputs()], "outputs": [o.name for o in session.get_outputs()]}
    # key=str: a declared entry without a name (None) is a mismatch, not a TypeError while sorting
    if sorted(actual["inputs"]) != sorted(declared["inputs"], key=str) \
            or not set(declared["outputs"]) <= set(actual["outputs"]):
        raise _fail(path, f"inputs {actual['inputs']} / outputs {actual['outputs']} differ from the metadata's "
                          f"{declared['inputs']} / {declared['outputs']}")
    return session
