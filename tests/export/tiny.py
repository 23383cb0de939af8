"""A tiny trained model and its export, built once per test session and shared by every export test.

Catalog (all invented): 30 anime in 10 three-season franchises ("Show F S1" ->
"Show F S2" -> "Show F S3", linked by SEQUEL/PREQUEL), genres by franchise,
one studio per franchise (five studios), one tag; anime 31 is bare (no genre,
tag, studio or relation). 40 users rate 26 anime each; taste follows the genre.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.builders import TINY_N_ANIME as N_ANIME, write_tiny_inputs as write_inputs  # noqa: F401

_CACHE: dict[str, Path] = {}


def trained(factory: pytest.TempPathFactory, model_name: str = "gnn") -> Path:
    """Folder with best_model.pt and model_metadata.json of a tiny ``model_name`` model (2 epochs)."""
    from gnn.preprocess import PreprocessConfig, preprocess
    from gnn.processed import load_processed
    from gnn.train.config import TrainConfig
    from gnn.train.trainer import train_model

    if "processed" not in _CACHE:
        root = factory.mktemp("tiny_export_data")
        write_inputs(root / "raw")
        preprocess(root / "raw", root / "processed", PreprocessConfig(min_ratings=1, holdout_user_frac=0.1))
        _CACHE["processed"] = root / "processed"
    if model_name not in _CACHE:
        out = factory.mktemp(f"tiny_{model_name}")
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            train_model(model_name, load_processed(_CACHE["processed"]), out,
                        TrainConfig(epochs=2, batch_size=64, lr=1e-2, seed=0), log=lambda _m: None, progress=False)
        finally:
            torch.set_num_threads(threads)
        _CACHE[model_name] = out
    return _CACHE[model_name]


def processed(factory: pytest.TempPathFactory) -> Path:
    """The preprocess output the tiny models are trained on."""
    trained(factory)
    return _CACHE["processed"]


def exported(factory: pytest.TempPathFactory) -> Path:
    """The tiny gnn model exported once with the defaults (dynamo exporter); tests must not modify it."""
    if "export" not in _CACHE:
        from gnn.export.onnx_export import export_model

        out = factory.mktemp("tiny_export") / "anime_recommender"
        export_model(trained(factory), out)
        _CACHE["export"] = out
    return _CACHE["export"]


def title_index(folder: Path, title: str) -> int:
    display = json.loads((folder / "anime_display.json").read_text())
    return next(i for i, e in enumerate(display) if e and e["title"] == title)
