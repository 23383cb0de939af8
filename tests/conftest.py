"""Shared fixtures: the hand-written catalog fixtures, copied into a fresh input folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gnn.data.catalog import read_catalog
from gnn.data.schema import Catalog
from gnn.preprocess import PreprocessConfig, preprocess
from tests.builders import FIXTURES, write_tiny_inputs


@pytest.fixture
def fixture_catalog() -> Catalog:
    """The 7 invented anime of tests/fixtures/catalog/anime_catalog.json."""
    return read_catalog(FIXTURES / "anime_catalog.json")


@pytest.fixture
def input_dir(tmp_path: Path) -> Path:
    """A preprocess input folder: the fixture catalog (current shape) and ratings.csv."""
    d = tmp_path / "input"
    d.mkdir()
    shutil.copy(FIXTURES / "anime_catalog.json", d / "anime_catalog.json")
    shutil.copy(FIXTURES / "ratings.csv", d / "ratings.csv")
    return d


@pytest.fixture
def anilist_input_dir(tmp_path: Path) -> Path:
    """The same content in the older shapes: AniList-fetch catalog and grouped user_ratings.json."""
    d = tmp_path / "input_anilist"
    d.mkdir()
    shutil.copy(FIXTURES / "anime_catalog_anilist.json", d / "anime_catalog.json")
    shutil.copy(FIXTURES / "user_ratings.json", d / "user_ratings.json")
    return d


# A tiny processed dataset with a learnable signal, built through the real preprocess (read-only: copy it
# before changing anything in it).
@pytest.fixture(scope="session")
def tiny_processed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    write_tiny_inputs(root / "raw")
    preprocess(root / "raw", root / "processed", PreprocessConfig(min_ratings=1, holdout_user_frac=0.1))
    return root / "processed"
