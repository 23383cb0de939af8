"""Checkpoints that carry their own model config: a model is rebuilt from the file alone.

Everything stored is plain tensors, numbers, strings, lists and dicts, so every
checkpoint loads with ``torch.load(path, weights_only=True)``; no pickle of code.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from gnn.errors import InputError, ModelConfigError
from gnn.io import write_torch
from gnn.models.base import ModelContext, RatingModel
from gnn.models.registry import build_model, scoring_only, stored_config

FORMAT_VERSION = 1


def model_blob(model: RatingModel, ctx: ModelContext) -> dict[str, Any]:
    """The part of a checkpoint that rebuilds the model."""
    return {"format_version": FORMAT_VERSION, "model_name": model.name,
            "model_config": asdict(model.config),  # type: ignore[attr-defined]
            "context": ctx.to_blob(), "state_dict": {k: v.cpu() for k, v in model.state_dict().items()}}


def save_checkpoint(path: str | Path, blob: dict[str, Any]) -> None:
    write_torch(path, blob)


_KEYS = ("model_name", "model_config", "context", "state_dict")


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint's dict; a missing, truncated, foreign or malformed file is one InputError naming it."""
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "checkpoint not found")
    try:
        blob = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 - torch raises RuntimeError, UnpicklingError, EOFError, ... here
        # torch's own text is left out: for a foreign file it suggests weights_only=False, i.e. running its code.
        raise InputError(str(path), "not a readable checkpoint written by `anime-gnn train` (truncated, "
                                    f"damaged or another kind of file; {type(err).__name__})") from None
    if not isinstance(blob, dict):
        raise InputError(str(path), "not a checkpoint written by `anime-gnn train` (not a dict)")
    if blob.get("format_version") != FORMAT_VERSION:
        raise InputError(str(path), f"unsupported checkpoint format {repr(blob.get('format_version'))[:40]}")
    missing = [k for k in _KEYS if k not in blob]
    if missing:
        raise InputError(str(path), f"checkpoint lacks {', '.join(missing)}")
    return blob


def load_state(model: torch.nn.Module, state_dict: Any, path: str | Path) -> None:
    """``model.load_state_dict`` with a mismatch (other data, other model options) as an InputError; the
    weights a checkpoint stores under a name the model's ``RENAMED`` maps (old -> today's) load by it."""
    renamed = getattr(model, "RENAMED", {})
    try:
        model.load_state_dict({renamed.get(k, k): v for k, v in state_dict.items()})
    except (RuntimeError, TypeError, KeyError, AttributeError) as err:
        first = (str(err).splitlines() or [""])[0][:160]
        raise InputError(str(path), f"its weights do not fit this model ({first}): made for other data or "
                                    "other model options") from None


def model_from_blob(blob: dict[str, Any], path: str | Path = "checkpoint",
                    scoring: dict[str, Any] | None = None) -> tuple[RatingModel, ModelContext]:
    """The trained model of ``blob``; ``scoring``: values for its scoring-only options (:func:`scoring_only`)."""
    name = blob.get("model_name")
    try:
        training = set(scoring or {}) - scoring_only(name) if scoring else set()
        if training:
            raise InputError(str(path), f"option(s) {', '.join(sorted(training))} change how {name!r} trains; a "
                                        f"trained model takes other values of its scoring-only options alone "
                                        f"({', '.join(sorted(scoring_only(name))) or 'none'})")
        ctx = ModelContext.from_blob(blob["context"])
        model = build_model(name, ctx, {**stored_config(name, blob["model_config"]), **(scoring or {})})
    except (KeyError, TypeError, ValueError, ModelConfigError) as err:
        raise InputError(str(path), f"cannot rebuild its model ({type(err).__name__}: "
                                    f"{(str(err).splitlines() or [''])[0][:120]})") from None
    load_state(model, blob["state_dict"], path)
    model.eval()
    return model, ctx


def load_model(path: str | Path, scoring: dict[str, Any] | None = None
               ) -> tuple[RatingModel, ModelContext, dict[str, Any]]:
    """Rebuild a trained model (eval mode) from ``best_model.pt`` or ``checkpoint.pt`` alone, optionally
    with other values of its scoring-only options (``scoring``, e.g. ``{"score_history": 1024}``)."""
    blob = read_checkpoint(path)
    model, ctx = model_from_blob(blob, path, scoring)
    return model, ctx, blob
