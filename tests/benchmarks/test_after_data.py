"""benchmarks/after_data.py: lists of anime newer than the rating data, for held-out users."""

from __future__ import annotations

import json

import pytest
import torch

from benchmarks.after_data import anime_sets, list_stats, main
from gnn.processed import load_processed
from tests.benchmarks.conftest import content_knn_run


def test_list_stats_by_hand():
    # Anime 1..3 are the set; 3's popularity is unknown; 1 (5) is the more popular of the known two.
    popularity = torch.tensor([0.0, 5.0, 3.0, 1.0, 9.0])
    unknown = torch.tensor([False, False, False, True, False])
    in_set = torch.tensor([False, True, True, True, False])
    s = list_stats(torch.tensor([[1, 3], [3, -1]]), in_set, popularity, unknown)   # -1: an empty slot
    assert s["unknown_popularity_share"] == pytest.approx(2 / 3)      # slots 1, 3, 3
    assert s["median_popularity_percentile"] == pytest.approx(100.0)  # 1 is the top of the set's known two
    assert s["coverage"] == pytest.approx(2 / 3) and s["set_size"] == 3 and s["set_unknown_share"] == pytest.approx(1 / 3)
    assert "unknown_year_share" not in s
    undated = torch.tensor([False, True, False, False, True])   # 4 is undated but outside the set
    dated = list_stats(torch.tensor([[1, 3], [1, -1]]), in_set, popularity, unknown, undated)
    assert dated["unknown_year_share"] == pytest.approx(2 / 3) and dated["set_unknown_year_share"] == pytest.approx(1 / 3)
    empty = list_stats(torch.full((2, 2), -1), in_set, popularity, unknown, undated)
    assert empty["unknown_popularity_share"] is None and empty["median_popularity_percentile"] is None
    assert empty["unknown_year_share"] is None


@pytest.fixture(scope="module")
def new_season_run(tiny_input, tmp_path_factory):
    """The tiny data with its anime after 2007 held out (--cold-after 2007), and a content-kNN trained on it."""
    return content_knn_run(tiny_input, tmp_path_factory.mktemp("after_data"), cold_after_year=2007)


def test_sets_and_one_row_per_run_and_set(new_season_run, tmp_path, capsys):
    processed, run = new_season_run
    data = load_processed(processed)
    sets = anime_sets(data)
    meta = {m["anime_index"]: m for m in json.loads((processed / "anime_metadata.json").read_text())}
    last = max(meta[a]["year"] for a in range(1, data.n_anime) if data.anime_train_count[a] > 0 and meta[a]["year"])
    assert sets["after"].tolist() == [a in meta and (meta[a]["year"] or 0) > last for a in range(data.n_anime)]
    assert last == 2007 and sets["after"].sum() == 6   # franchises 8 and 9 (2008, 2009), three seasons each
    assert sets["announced"].tolist() == [meta.get(a, {}).get("status") == "NOT_YET_RELEASED" for a in range(data.n_anime)]
    main(["--data-dir", str(processed), "--run", f"knn={run}", "--out", str(tmp_path / "a.json")])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| knn |")]
    assert [r.split(" | ")[1] for r in rows] == ["after", "announced"]
    saved = json.loads((tmp_path / "a.json").read_text())
    assert set(saved["results"]["knn"]) == {"after", "announced"} and saved["users"] > 0
    assert saved["results"]["knn"]["announced"]["set_size"] == int(sets["announced"].sum())
