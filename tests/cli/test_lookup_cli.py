"""``anime-gnn search`` and ``anime-gnn similar`` on the tiny export: tables, JSON, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gnn.inference import OnnxRecommender
from tests.cli.test_recommend_cli import invoke, one_error_line
from tests.export import tiny


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory) -> Path:
    return tiny.exported(tmp_path_factory)


def test_search_prints_ids_best_match_first(export_dir):
    result = invoke("search", "show 3", "--model-dir", str(export_dir))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "title", "year", "format", "training", "ratings"]
    assert [line.split()[0] for line in lines[1:4]] == ["10", "11", "12"]    # Show 3 S1, S2, S3 first
    assert "Show 3 S2" in lines[2]
    rows = json.loads(invoke("search", "show 3 s2", "--model-dir", str(export_dir), "--json").output)["results"]
    assert [r["anime_id"] for r in rows] == [11]
    assert invoke("search", "zz top", "--model-dir", str(export_dir)).output.strip() == \
        "no title in this model's catalog matches 'zz top'"


def test_similar_by_id_or_title_is_the_recommenders_list(export_dir):
    want = OnnxRecommender.load(export_dir).similar(4, k=3)
    for anime in ("4", "Show 1 S1"):
        result = invoke("similar", anime, "--model-dir", str(export_dir), "--top-k", "3")
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0] == "more like Show 1 S1 (id 4):"
        assert [int(line.split()[0]) for line in lines[2:]] == [r["anime_id"] for r in want]
        assert [float(line.split()[-1]) for line in lines[2:]] == pytest.approx([r["similarity"] for r in want],
                                                                                abs=5e-4)
    out = json.loads(invoke("similar", "4", "--model-dir", str(export_dir), "--top-k", "3", "--json").output)
    assert out["anime_id"] == 4 and [r["anime_id"] for r in out["similar"]] == [r["anime_id"] for r in want]


def test_similar_of_an_unknown_anime_is_one_error_line(export_dir):
    result = invoke("similar", "no such show", "--model-dir", str(export_dir))
    assert result.exit_code != 0
    assert one_error_line(result) == \
        "error: no anime in this model's catalog has the id or a title matching 'no such show'"
