"""A tiny processed dataset (the invented franchise catalog of tests/builders.py), built through preprocess."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gnn.preprocess import PreprocessConfig, preprocess
from tests.builders import write_tiny_inputs


@pytest.fixture(scope="session")
def tiny_input(tmp_path_factory) -> Path:
    """An input folder (anime_catalog.json + ratings.csv): 40 users x 26 ratings."""
    folder = tmp_path_factory.mktemp("bench_tiny") / "input"
    write_tiny_inputs(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_processed(tiny_input) -> Path:
    out = tiny_input.parent / "processed"
    preprocess(tiny_input, out, PreprocessConfig(min_ratings=1, holdout_user_frac=0.1))
    return out


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: extra intra-op threads only add overhead on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def content_knn_run(tiny_input: Path, root: Path, **split) -> tuple[Path, Path]:
    """``(processed, run)`` under ``root``: the tiny data with held-out users (20 %) and the ``split``
    (:class:`PreprocessConfig` fields), and a content-kNN trained on it (closed form, seconds)."""
    from gnn.processed import load_processed
    from gnn.train.config import TrainConfig
    from gnn.train.trainer import train_model

    preprocess(tiny_input, root / "processed", PreprocessConfig(min_ratings=1, holdout_user_frac=0.2, **split))
    train_model("content_knn", load_processed(root / "processed"), root / "knn", TrainConfig(),
                log=lambda _: None, progress=False)
    return root / "processed", root / "knn"


@pytest.fixture(scope="session")
def cold_knn_run(tiny_input, tmp_path_factory) -> tuple[Path, Path]:
    """The tiny data with a cold split (20 % of the anime): :func:`content_knn_run`."""
    return content_knn_run(tiny_input, tmp_path_factory.mktemp("cold_knn"), cold_anime_frac=0.2)
