"""Export of the GNN recommender: :class:`gnn.export.gnn_scorer.GNNScorer` to ONNX, parity-checked, deployed.

Files, as for every export (:mod:`gnn.export.onnx_export`): ``model.onnx``, ``onnx_model_metadata.json``,
``anime_display.json``, ``model_mappings.json``, ``item_embeddings.bin`` ("more like this": a PCA of the
anime vectors) and ``user_ratings.bin`` (known users' ratings, ordered so that the last
``max_history`` of each user are the ones the model keeps: ``recommend --user-id`` scores a known
user from them, as the evaluation does; the model has no user IDs).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import torch

from gnn.export.deploy import deploy, new_version, staging
from gnn.export.display import read_catalog_side, user_ratings, write_binary, write_display_files
from gnn.export.gnn_parity import GNNParityReport, check_gnn_parity
from gnn.export.gnn_scorer import GNNScorer, dequantize
from gnn.export.metadata import (embeddings_section, file_table, header, sha256, training_section,
                                 user_ratings_section)
from gnn.export.parity import single_thread
from gnn.export.tables import item_embeddings
from gnn.io import write_json
from gnn.models.base import ModelContext
from gnn.models.recommender import GNNRecommender

OUTPUTS = ["score", "rating"]
DYNAMIC = {"hist_anime": {1: "history"}, "hist_rating": {1: "history"}, "anime": {0: "batch"}}


def example_inputs() -> dict[str, torch.Tensor]:
    """The exporter's example inputs: sizes that equal no other dimension or constant, so it keeps both free."""
    return {"hist_anime": torch.zeros(1, 7, dtype=torch.long), "hist_rating": torch.zeros(1, 7),
            "anime": torch.arange(1, 6)}


def gnn_io_contract(model: GNNRecommender, n_anime: int, scale: dict) -> dict[str, Any]:
    H, C = model.scoring_history, model.config.rank_candidates
    return {
        "inputs": [
            {"name": "hist_anime", "dtype": "int64", "shape": [1, "history"],
             "description": f"anime indices the user rated, 1 to {H} of them (the cost grows with the length: "
                            "pass what the user has; no ratings = one padding 0); padding 0 is masked; a "
                            "known user is the same: their ratings (user_ratings.bin)"},
            {"name": "hist_rating", "dtype": "float32", "shape": [1, "history"],
             "description": f"their ratings on the original {scale['low']:g}-{scale['high']:g} scale, 0 at padding"},
            {"name": "anime", "dtype": "int64", "shape": ["batch"],
             "description": f"candidate anime indices in 1..{n_anime - 1} (leave out what should not be listed: "
                            f"rated, filtered); at most {C} to have every one rated"},
        ],
        "outputs": [
            {"name": "score", "dtype": "float32", "shape": ["batch"],
             "description": f"ranking score, higher first: log-odds of 'will watch' + log P(rating >= "
                            f"{model.like_at:g}); -inf outside the {C} candidates with the best watch score"},
            {"name": "rating", "dtype": "float32", "shape": ["batch"],
             "description": "predicted rating on the original scale (NaN where score is -inf)"},
        ],
        "padding": {"anime_index": 0, "hist_rating": 0.0},
        "max_history": H, "rank_candidates": C, "like_threshold": model.like_at,
        "rating_scale": scale,
        "history_semantics": "a candidate that is itself in the history is rated with that entry left out "
                             "(as in training); beyond max_history a caller keeps the entries with the highest "
                             "key (anime * 2654435761) mod 2**32, which user_ratings.bin lists last",
        "usage": "run(['score', 'rating'], {hist_anime, hist_rating, anime}); order a list by score; show rating",
    }


def export_gnn(model: GNNRecommender, ctx: ModelContext, model_meta: dict, data_dir: Path, output_dir: Path,
               exporter: str, embedding_dim: int, keep_versions: int, parity_seed: int,
               write_onnx: Callable, say: Callable[[str], None]) -> tuple[str, str | None, GNNParityReport, str]:
    """Build, check and deploy; returns ``(version, previous version, parity, exporter used)``."""
    anime_meta, mappings, data_stats = read_catalog_side(data_dir, ctx.n_anime, model_meta.get("data_fingerprint"))
    with single_thread(), torch.no_grad():
        model.eval()
        h = model.item_state()
        scorer = GNNScorer(model, h).eval()
    H = model.scoring_history
    with staging(output_dir) as tmp:
        used = write_onnx(scorer, tmp / "model.onnx", H, exporter, inputs=example_inputs(), outputs=OUTPUTS,
                          fold_constants=False, dynamic=DYNAMIC)
        write_display_files(tmp, anime_meta, mappings, True, model.tables.co_idx.numpy())
        emb, kept_variance = item_embeddings(dequantize(scorer.h_q, scorer.h_scale), embedding_dim)
        write_binary(tmp / "item_embeddings.bin", emb.numpy().astype("<f4"))
        ratings = user_ratings(data_dir, ctx.n_users)
        if ratings is not None:
            write_binary(tmp / "user_ratings.bin", *ratings)
        say("checking parity with PyTorch (ONNX Runtime, CPU)")
        parity = check_gnn_parity(scorer, model, tmp / "model.onnx", H, seed=parity_seed)
        version = new_version(sha256(tmp / "model.onnx"))
        scale = {"low": ctx.rating_low, "high": ctx.rating_high}
        write_json(tmp / "onnx_model_metadata.json", {
            **header(model.name, version, used),
            **gnn_io_contract(model, ctx.n_anime, scale), "n_anime": ctx.n_anime,
            "user_table": "none: every user, known or new, is scored from their ratings",
            "tables": {"anime_vectors": {"shape": list(h.shape), "dtype": "int8 with a float32 scale per anime"},
                       "lists": "genre/tag/studio/relation/two-hop indices as the smallest integer type, "
                                "weights uint8 codes into a float32 codebook per table"},
            "item_embeddings": embeddings_section(tuple(emb.shape), "the anime vectors", kept_variance),
            "user_ratings": None if ratings is None else user_ratings_section(
                ctx.n_users, int(ratings[1].shape[0]),
                ", ascending by the history key, so the last max_history entries are the ones the model keeps"),
            "training": training_section(model_meta, data_stats, model.name, asdict(model.config)),
            "parity": parity.as_dict(),
            "files": file_table(tmp),
        })
        previous = deploy(tmp, output_dir, keep=keep_versions)
    return version, previous, parity, used
