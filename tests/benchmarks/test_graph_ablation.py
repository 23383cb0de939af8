"""benchmarks/graph_ablation.py: runs with and without the catalog graph, on the same test ratings."""

from __future__ import annotations

import json
import math

import pytest
import torch

from benchmarks.graph_ablation import main, same_ratings, split_accuracy, summarize
from benchmarks.harness import strip_catalog
from gnn.processed import load_processed
from gnn.train.metrics import series_mask
from tests.benchmarks.conftest import content_knn_run


def test_the_parts_by_hand():
    pred = torch.tensor([7.0, 8.0, 5.0, 9.0])
    truth = torch.tensor([8.0, 8.0, 8.0, 7.0])          # errors -1, 0, 3, -2
    r = split_accuracy(pred, truth, torch.tensor([True, True, False, False]))
    assert r["related"]["rmse"] == pytest.approx(math.sqrt(1 / 2)) and r["related"]["n"] == 2
    assert r["other"]["rmse"] == pytest.approx(math.sqrt(13 / 2)) and r["other"]["mae"] == pytest.approx(2.5)
    assert r["all"]["rmse"] == pytest.approx(math.sqrt(14 / 4)) and r["all"]["n"] == 4


def test_a_repeated_name_is_averaged_over_its_runs():
    def row(related, other):
        return {"related": {"rmse": related, "mae": related, "n": 3}, "other": {"rmse": other, "mae": other, "n": 5},
                "all": {"rmse": other, "mae": other, "n": 8}}
    s = summarize([("full", row(1.0, 2.0)), ("genres", row(1.5, 2.0)), ("full", row(3.0, 2.0))])
    assert list(s) == ["full", "genres"] and s["full"]["runs"] == 2 and s["genres"]["runs"] == 1
    assert s["full"]["related.rmse"]["mean"] == pytest.approx(2.0)
    assert s["full"]["related.rmse"]["std"] == pytest.approx(math.sqrt(2.0))     # sample std of 1 and 3
    assert s["genres"]["related.rmse"]["std"] == 0.0 and s["full"]["other.n"]["mean"] == 5


@pytest.fixture(scope="module")
def two_catalogs(tiny_input, tmp_path_factory):
    """Content-kNN trained on the tiny data and on the same ratings with relations, studios and tags emptied."""
    root = tmp_path_factory.mktemp("graph_ablation")
    full, full_run = content_knn_run(tiny_input, root / "full")
    stripped_input = strip_catalog(tiny_input, root / "stripped_input", ("relations", "studios", "tags"))
    stripped, stripped_run = content_knn_run(stripped_input, root / "stripped")
    return full, full_run, stripped, stripped_run


def test_both_runs_are_judged_on_the_full_catalog_s_franchise_anime(two_catalogs, tmp_path):
    full, full_run, stripped, stripped_run = two_catalogs
    data = load_processed(full)
    assert same_ratings(data, load_processed(stripped)) is None           # --strip keeps every rating
    related = int(series_mask(data).sum())
    assert 0 < related < len(data.test)
    out = tmp_path / "ablation" / "graph_ablation.json"
    s = main(["--data-dir", str(full), "--run", f"full={full_run}", "--run", f"genres_only={stripped_run}",
              "--out", str(out)])
    for name, run in (("full", full_run), ("genres_only", stripped_run)):
        assert s[name]["related.n"]["mean"] == related and s[name]["other.n"]["mean"] == len(data.test) - related
        own = json.loads((run / "model_metadata.json").read_text())["metrics"]["test"]["rmse"]
        assert s[name]["all.rmse"]["mean"] == pytest.approx(own)            # scored on its own data
    assert s["full"]["related.rmse"]["mean"] != pytest.approx(s["genres_only"]["related.rmse"]["mean"])
    written = json.loads(out.read_text())
    assert written["summary"] == s and [r["name"] for r in written["runs"]] == ["full", "genres_only"]
    assert out.with_suffix(".md").read_text().count("| full |") == 1 and out.with_suffix(".png").stat().st_size > 0


def test_a_run_on_other_ratings_is_a_one_line_error(two_catalogs, tiny_input, tmp_path):
    full, full_run, _, _ = two_catalogs
    _, other_run = content_knn_run(tiny_input, tmp_path / "other", seed=1)      # another split of the same ratings
    with pytest.raises(SystemExit, match="ratings differ from --data-dir's"):
        main(["--data-dir", str(full), "--run", f"other={other_run}"])
