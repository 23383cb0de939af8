"""A tiny processed dataset with a learnable signal, built through the real preprocess."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gnn.preprocess import PreprocessConfig, preprocess


def write_tiny_inputs(folder: Path, n_anime: int = 30, n_users: int = 40, seed: int = 0) -> None:
    """30 anime in 10 three-season franchises; users like some genres; every user rates 26 anime."""
    rng = np.random.default_rng(seed)
    genres = ["Action", "Comedy", "Drama"]
    catalog = []
    for i in range(1, n_anime + 1):
        franchise, season = divmod(i - 1, 3)
        relations = []
        if season > 0:
            relations.append({"id": i - 1, "relationType": "PREQUEL"})
        if season < 2:
            relations.append({"id": i + 1, "relationType": "SEQUEL"})
        catalog.append({"id": i, "title": {"romaji": f"Show {franchise} S{season + 1}", "english": None,
                                           "native": None},
                        "format": "TV", "episodes": 12, "year": 2000 + franchise, "genres": [genres[franchise % 3]],
                        "tags": [{"name": "Tag%d" % (franchise % 4), "rank": 60, "category": "Theme"}],
                        "studios": [{"id": franchise % 5, "name": f"Studio {franchise % 5}", "isMain": True}],
                        "relations": relations, "popularity": 1000 * (n_anime - i + 1), "averageScore": 70.0})
    taste = rng.normal(size=(n_users, 3))
    quality = rng.normal(size=n_anime)
    rows = []
    for u in range(n_users):
        for a in rng.choice(n_anime, size=26, replace=False):
            score = 6.5 + 1.5 * taste[u, (a // 3) % 3] + quality[a] + rng.normal(scale=0.3)
            rows.append((f"u{u:03d}", int(a) + 1, int(np.clip(round(score), 1, 10))))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "anime_catalog.json").write_text(json.dumps(catalog))
    pd.DataFrame(rows, columns=["user_id", "anime_id", "rating"]).to_csv(folder / "ratings.csv", index=False)


@pytest.fixture(scope="session")
def tiny_processed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    write_tiny_inputs(root / "raw")
    preprocess(root / "raw", root / "processed", PreprocessConfig(min_ratings=1, holdout_user_frac=0.1))
    return root / "processed"
