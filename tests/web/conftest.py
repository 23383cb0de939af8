"""Shared by the browser tests: one Chromium and one small exported model per test session.

The model: a gnn trained for one epoch on a slice of the embedded (synthetic) sample and exported
with the defaults, so the page sees real catalog-shaped titles, relations, studios and ids.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.web import harness

SAMPLE = harness.REPO / "data" / "sample"
N_USERS = 150  # a slice of the sample: trains in seconds, still ~550 anime after min_ratings=5


@pytest.fixture(scope="session")
def browser():
    reason = harness.missing_requirement()
    if reason:
        pytest.skip(reason)
    with harness.chromium() as context:
        yield context


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory, browser) -> Path:
    """A gnn model trained for one epoch on a slice of the sample, exported with the defaults."""
    import torch

    from gnn.export.onnx_export import export_model
    from gnn.preprocess import PreprocessConfig, preprocess
    from gnn.processed import load_processed
    from gnn.train.config import TrainConfig
    from gnn.train.trainer import train_model

    root = tmp_path_factory.mktemp("web_sample")
    (root / "raw").mkdir()
    shutil.copy(SAMPLE / "anime_catalog.json", root / "raw")
    ratings = pd.read_csv(SAMPLE / "ratings.csv")
    users = sorted(ratings["user_id"].unique())[:N_USERS]
    ratings[ratings["user_id"].isin(users)].to_csv(root / "raw" / "ratings.csv", index=False)
    preprocess(root / "raw", root / "processed", PreprocessConfig(min_ratings=5))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the CI machine is small and shared
    try:
        train_model("gnn", load_processed(root / "processed"), root / "model",
                    TrainConfig(epochs=1, batch_size=256, seed=0), log=lambda _m: None, progress=False)
    finally:
        torch.set_num_threads(threads)
    export_model(root / "model", root / "export", data_dir=root / "processed", user_table="drop")
    return root / "export"


@pytest.fixture
def site(tmp_path, export_dir):
    server, url = harness.served(tmp_path, export_dir)
    yield url
    server.shutdown()
