"""Checkpoints that carry their own model config: a model is rebuilt from the file alone.

Everything stored is plain tensors, numbers, strings, lists and dicts, so every
checkpoint loads with ``torch.load(path, weights_only=True)``; no pickle of code.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from gnn.errors import InputError
from gnn.io import write_torch
from gnn.models.base import ModelContext, RatingModel
from gnn.models.registry import build_model

FORMAT_VERSION = 1


def model_blob(model: RatingModel, ctx: ModelContext) -> dict[str, Any]:
    """The part of a checkpoint that rebuilds the model."""
    return {"format_version": FORMAT_VERSION, "model_name": model.name,
            "model_config": asdict(model.config),  # type: ignore[attr-defined]
            "context": ctx.to_blob(), "state_dict": {k: v.cpu() for k, v in model.state_dict().items()}}


def save_checkpoint(path: str | Path, blob: dict[str, Any]) -> None:
    write_torch(path, blob)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "checkpoint not found")
    blob = torch.load(path, weights_only=True, map_location="cpu")
    if blob.get("format_version") != FORMAT_VERSION:
        raise InputError(str(path), f"unsupported checkpoint format {blob.get('format_version')!r}")
    return blob


def model_from_blob(blob: dict[str, Any]) -> tuple[RatingModel, ModelContext]:
    ctx = ModelContext.from_blob(blob["context"])
    model = build_model(blob["model_name"], ctx, blob["model_config"])
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, ctx


def load_model(path: str | Path) -> tuple[RatingModel, ModelContext, dict[str, Any]]:
    """Rebuild a trained model (eval mode) from ``best_model.pt`` or ``checkpoint.pt`` alone."""
    blob = read_checkpoint(path)
    model, ctx = model_from_blob(blob)
    return model, ctx, blob
