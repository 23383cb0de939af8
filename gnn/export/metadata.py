"""``onnx_model_metadata.json``: the contract of an export, for the CLI, the web page and humans."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
OPSET = 18
INPUT_NAMES = ["user", "hist_anime", "hist_rating", "anime"]
OUTPUT_NAMES = ["rating"]


def io_contract(max_history: int, n_anime: int, n_user_rows: int, scale: dict, mean: float,
                std: float) -> dict[str, Any]:
    H = max_history
    return {
        "inputs": [
            {"name": "user", "dtype": "int64", "shape": [1],
             "description": f"known user index in 1..{n_user_rows - 1} (model_mappings.json 'user'), or 0 = "
                            "new user scored from the history; any index outside the exported user table "
                            "also falls back to the history"},
            {"name": "hist_anime", "dtype": "int64", "shape": [1, H],
             "description": f"anime indices the user rated, at most {H}, padded at the end with 0 (masked); "
                            "ignored for a known user (scored by their ID embedding)"},
            {"name": "hist_rating", "dtype": "float32", "shape": [1, H],
             "description": f"their ratings on the original {scale['low']:g}-{scale['high']:g} scale "
                            "(normalized inside the model), 0 at padding"},
            {"name": "anime", "dtype": "int64", "shape": ["batch"],
             "description": f"candidate anime indices in 1..{n_anime - 1} (0 is the padding anime); any batch size"},
        ],
        "outputs": [
            {"name": "rating", "dtype": "float32", "shape": ["batch"],
             "description": f"predicted rating per candidate on the original scale, clamped to "
                            f"[{scale['low']:g}, {scale['high']:g}]"},
        ],
        "padding": {"anime_index": 0, "hist_rating": 0.0, "new_user_index": 0},
        "max_history": H,
        "rating_scale": scale,
        "rating_normalization": {"mean": mean, "std": std, "formula": "z = (rating - mean) / std, "
                                 "applied inside the model; output = clamp(z_pred * std + mean, low, high)"},
        "history_semantics": "the user vector is built once from the whole history; a candidate that is "
                             "itself in the history is scored with that entry left out (as in training), "
                             "so a rating never predicts itself. Duplicated anime count as given.",
        "usage": "ONNX Runtime (CPU or onnxruntime-web wasm): run(['rating'], {user: int64[1], "
                 f"hist_anime: int64[1,{H}], hist_rating: float32[1,{H}], anime: int64[batch]}}); "
                 "to rank the whole catalog pass anime = 1..n_anime-1 in one batch. "
                 "Ids <-> indices: model_mappings.json; titles, covers, relations: anime_display.json.",
    }


def file_table(folder: Path) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every file of an export (the metadata file itself excluded)."""
    out = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.name != "onnx_model_metadata.json":
            out[p.name] = {"bytes": p.stat().st_size, "sha256": sha256(p)}
    return out


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def training_section(model_meta: dict, data_stats: dict, model_name: str, model_config: dict) -> dict[str, Any]:
    metrics = model_meta.get("metrics", {})
    return {
        "model_name": model_name,
        "model_config": model_config,
        "data_fingerprint": model_meta.get("data_fingerprint") or data_stats.get("data_fingerprint"),
        "synthetic": bool((model_meta.get("dataset") or data_stats.get("dataset") or {}).get("synthetic")),
        "best_epoch": model_meta.get("best_epoch"),
        "test_metrics": metrics.get("test"),
        "new_user_metrics": metrics.get("new_users"),
        "n_parameters": model_meta.get("n_parameters"),
    }


def embeddings_section(emb_shape: tuple[int, ...], source: str, kept_variance: float) -> dict[str, Any]:
    """``item_embeddings.bin``: what its rows are and how they were made from ``source``."""
    return {"file": "item_embeddings.bin", "dtype": "float32", "byte_order": "little",
            "shape": list(emb_shape), "row": "anime index (row 0 = padding, zeros)",
            "method": f"PCA (centered SVD) of {source} to {emb_shape[1]} dims, then L2-normalized; "
                      "similarity = dot product", "explained_variance": round(kept_variance, 4)}


def user_ratings_section(n_users: int, nnz: int, order: str = "") -> dict[str, Any]:
    """``user_ratings.bin``: the known users' ratings as CSR arrays (``order``: how each row is sorted)."""
    return {"file": "user_ratings.bin", "byte_order": "little", "n_users": n_users, "nnz": nnz,
            "layout": "int32 offsets[n_users + 1], int32 anime_index[nnz], float32 rating[nnz]; user u rated "
                      "anime_index[offsets[u]:offsets[u + 1]] (train, val and test splits)" + order}


def header(model_name: str, version: str, exporter: str) -> dict[str, Any]:
    """The first fields of every ``onnx_model_metadata.json``: format, model, version, when and how exported."""
    import torch

    return {"format_version": FORMAT_VERSION, "model_name": model_name, "model_version": version,
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "opset": OPSET, "exporter": exporter, "torch_version": torch.__version__}
