"""benchmarks/cold_items.py: evaluates trained runs on a --cold-anime preprocess output."""

from __future__ import annotations

import json

import pytest

from benchmarks.cold_items import main


def test_one_row_and_json_per_run(cold_knn_run, tmp_path, capsys):
    processed, run = cold_knn_run
    main(["--data-dir", str(processed), "--run", f"knn={run}", "--k", "5", "--out", str(tmp_path / "c.json")])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| model | cold MAE | cold RMSE | NDCG@5 |") and lines[2].startswith("| knn | ")
    saved = json.loads((tmp_path / "c.json").read_text())
    r = saved["results"]["knn"]
    assert saved["cold_ratings"] == r["n"] > 0 and r["anime"] == 6
    meta = json.loads((run / "model_metadata.json").read_text())
    assert r["warm_test_rmse"] == meta["metrics"]["test"]["rmse"]
    assert set(r["rated_only"]) == set(r["unrated_only"]) == {"ndcg@5", "recall@5", "cold_share@5"}
    header, row = lines[0].split(" | "), lines[2].split(" | ")
    assert len(header) == len(row) == 15 and "NDCG@5 unrated only" in header   # a cell for every column


def test_a_run_must_be_name_equals_folder(cold_knn_run):
    with pytest.raises(SystemExit):
        main(["--data-dir", str(cold_knn_run[0]), "--run", "knn"])
