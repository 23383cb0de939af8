"""A tiny processed dataset with a learnable signal, built through the real preprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnn.preprocess import PreprocessConfig, preprocess
from tests.builders import write_tiny_inputs


@pytest.fixture(scope="session")
def tiny_processed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    write_tiny_inputs(root / "raw")
    preprocess(root / "raw", root / "processed", PreprocessConfig(min_ratings=1, holdout_user_frac=0.1))
    return root / "processed"
