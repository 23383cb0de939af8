"""A tiny trained model and its export, built once per test session and shared by every export test.

Catalog (all invented): 30 anime in 10 three-season franchises ("Show F S1" ->
"Show F S2" -> "Show F S3", linked by SEQUEL/PREQUEL), genres by franchise,
one studio per franchise (five studios), one tag; anime 31 is bare (no genre,
tag, studio or relation). 40 users rate 26 anime each; taste follows the genre.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

N_ANIME = 31
FORMATS = ("TV", "MOVIE", "OVA")
_CACHE: dict[str, Path] = {}


def write_inputs(folder: Path, n_users: int = 40, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    genres = ["Action", "Comedy", "Drama"]
    catalog = []
    for i in range(1, N_ANIME):
        franchise, season = divmod(i - 1, 3)
        relations = ([{"id": i - 1, "relationType": "PREQUEL"}] if season > 0 else []) + \
                    ([{"id": i + 1, "relationType": "SEQUEL"}] if season < 2 else [])
        catalog.append({"id": i, "title": {"romaji": f"Show {franchise} S{season + 1}", "english": None,
                                           "native": None},
                        "format": FORMATS[season], "episodes": 12, "year": 2000 + franchise,
                        "genres": [genres[franchise % 3]],
                        "tags": [{"name": f"Tag{franchise % 4}", "rank": 60, "category": "Theme"}],
                        "studios": [{"id": franchise % 5, "name": f"Studio {franchise % 5}", "isMain": True}],
                        "relations": relations, "popularity": 1000 * (N_ANIME - i), "averageScore": 70.0})
    catalog.append({"id": N_ANIME, "title": {"romaji": "Bare", "english": None, "native": None}})
    taste = rng.normal(size=(n_users, 3))
    quality = rng.normal(size=N_ANIME)
    rows = []
    for u in range(n_users):
        for a in rng.choice(N_ANIME, size=26, replace=False):
            score = 6.5 + 1.5 * taste[u, (a // 3) % 3] + quality[a] + rng.normal(scale=0.3)
            rows.append((f"u{u:03d}", int(a) + 1, int(np.clip(round(score), 1, 10))))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "anime_catalog.json").write_text(json.dumps(catalog))
    pd.DataFrame(rows, columns=["user_id", "anime_id", "rating"]).to_csv(folder / "ratings.csv", index=False)


def trained(factory: pytest.TempPathFactory, model_name: str = "gnn") -> Path:
    """Folder with best_model.pt and model_metadata.json of a tiny ``model_name`` model (2 epochs)."""
    from gnn.data.processed import load_processed
    from gnn.preprocess import PreprocessConfig, preprocess
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
