"""Preprocess the real MAL benchmark data (../shared/data/mal) and check it against its README.

Skips cleanly when the folder is absent. Nothing from that data is stored in the repository:
the expected numbers are read from the folder's own README at test time.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import torch

from gnn.data.catalog import read_catalog
from gnn.data.ratings import read_ratings
from gnn.preprocess import PreprocessConfig, preprocess
from gnn.processed import load_processed

MAL_DIR = Path(__file__).resolve().parents[1].parent / "shared/data/mal"

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def readme_counts(readme: str) -> dict:
    """The counts table of the data README: {row label: first number}, plus the type breakdowns."""
    rows = {}
    for label, value in re.findall(r"^\|\s*([^|]+?)\s*\|\s*([\d,]+)", readme, flags=re.M):
        rows[label] = _number(value)
    relation_row = re.search(r"^\|\s*relation edges\s*\|\s*[\d,]+:\s*([^|]+)\|", readme, flags=re.M)
    histogram_row = re.search(r"^\|\s*rating histogram\s*\|(.+)$", readme, flags=re.M)
    assert relation_row and histogram_row, "README counts table not in the expected form"
    rows["relation_types"] = {k: _number(v) for k, v in re.findall(r"([A-Z_]+) ([\d,]+)", relation_row.group(1))}
    rows["histogram"] = {int(k): _number(v) for k, v in re.findall(r"(\d+): ([\d,]+)", histogram_row.group(1))}
    return rows


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    if not (MAL_DIR / "anime_catalog.json").exists() or not (MAL_DIR / "ratings.csv").exists():
        pytest.skip(f"real data not found at {MAL_DIR}")
    expected = readme_counts((MAL_DIR / "README.md").read_text(encoding="utf-8"))
    out = tmp_path_factory.mktemp("mal_processed")
    result = preprocess(MAL_DIR, out, PreprocessConfig())
    return expected, result.report, out


def test_read_counts_match_the_readme(real):
    expected, report, _ = real
    assert report["anime"]["total"] == expected["anime"]
    assert report["ratings"]["total"] == expected["ratings"]
    assert report["relations"]["total"] == expected["relation edges"]
    # Every anime rated at least once is in the catalog; the others were never rated. All are graph nodes.
    assert report["anime"]["notes"]["never_rated"] == expected["anime"] - expected["anime with >=1 rating"]
    assert report["anime"]["kept"] == expected["anime"] == 28_609


def test_the_whole_catalog_is_the_graph(real):
    """Issue 16: every catalog anime is scorable, and every relation between catalog anime is kept."""
    _, report, out = real
    data = load_processed(out)
    assert data.n_anime - 1 == 28_609
    assert report["relations"]["kept"] >= 22_000 and report["relations"]["dropped"] == {}
    assert int((data.anime_train_count > 0).sum()) == report["anime"]["notes"]["with_training_ratings"]


def test_kept_plus_dropped_is_total_everywhere(real):
    _, report, _ = real
    for section in ("anime", "ratings", "relations"):
        part = report[section]
        assert part["kept"] + sum(part["dropped"].values()) == part["total"], section
    assert sum(report["splits"].values()) == report["ratings"]["kept"]
    assert report["graph_edges"]["anime/related_to/anime"] == \
        report["relations"]["kept"] + report["relations"].get("notes", {}).get("inverse_edges_added", 0)


def test_contract_promises_hold(real):
    """The README promises: ratings 1-10 on catalog anime; relations inside the catalog, no self-loops,
    one type per pair, all of contract types. So only the filters may drop anything."""
    _, report, _ = real
    assert set(report["ratings"]["dropped"]) <= {"user_below_min_ratings", "anime_below_min_ratings",
                                                 "duplicate_user_anime"}
    assert set(report["relations"]["dropped"]) == set()
    assert "relations_unknown_type_as_other" not in report["anime"].get("notes", {})


def test_readers_agree_with_the_readme_breakdowns(real):
    expected, _, _ = real
    catalog = read_catalog(MAL_DIR / "anime_catalog.json")
    assert len(catalog.anime) == expected["anime"]
    assert Counter(r.type for a in catalog.anime for r in a.relations) == expected["relation_types"]
    ratings, tally = read_ratings(MAL_DIR / "ratings.csv")
    assert tally.total == expected["ratings"]
    assert ratings["user_id"].nunique() == expected["users"]                 # users before filtering
    assert ratings["rating"].astype(int).value_counts().to_dict() == expected["histogram"]
    assert ratings["anime_id"].nunique() == expected["anime with >=1 rating"]


def test_outputs_load(real):
    _, report, out = real
    data = load_processed(out)
    data.graph.validate(raise_on_error=True)
    assert torch.isfinite(data.graph["anime"].x).all()
    assert len(data.train) == report["splits"]["train"] and len(data.holdout) == report["splits"]["holdout"]
    assert data.train.user.min() >= 1 and data.train.anime.min() >= 1
    assert int(data.train.user.max()) == data.n_users - 1
    assert set(data.train.user.unique().tolist()) == set(range(1, data.n_users))  # a train row per user
    assert (data.holdout.groupby("user_id").size() >= 25).all()
    for name, table in data.tables.to_dict().items():
        assert not table[0].any(), name
