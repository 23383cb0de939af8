"""The benchmark harness end to end on a tiny input folder (one child process per job: about a minute),
and its small pure pieces."""

from __future__ import annotations

import json
import shutil

import pytest

from benchmarks.compare import write_outputs
from benchmarks.harness import DATA_STATS, BenchmarkConfig, DataFolderError, prepare_data, run_benchmark, summarize
from benchmarks.report import fmt, markdown, preparation
from benchmarks.worker import grid_points
from gnn import processed

GROUPS = ("accuracy", "ranking", "ranking_new_users", "series", "new_users", "cost", "export")
RANKING_ONLY = ("most_popular", "ease")


@pytest.fixture(scope="module")
def results(tiny_input, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "tiny"
    cfg = BenchmarkConfig(data_dir=tiny_input, out_dir=out, models=("global_mean", "item_knn", "baseline", "gnn",
                                                                 *RANKING_ONLY),
                          seeds=(0,), grids={"item_knn": {"model": {"k": [2, 10]}}, "ease": {"model": {"reg": [1.0, 30.0]}}},
                          train_config={"epochs": 1, "batch_size": 64}, min_ratings=1, latency_repeats=2,
                          command="pytest")
    res = run_benchmark(cfg, log=lambda _m: None)
    write_outputs(res, out)
    return res, out


@pytest.mark.slow
def test_every_model_has_every_metric_group(results):
    res, out = results
    assert res["data"]["preprocessed"] and (out / "processed" / DATA_STATS).exists()
    assert [(r["model"], r["seed"]) for r in res["runs"]] == [("global_mean", 0), ("item_knn", 0), ("baseline", 0),
                                                               ("gnn", 0), ("most_popular", 0), ("ease", 0)]
    for run in res["runs"]:
        assert "error" not in run, run.get("error")
        assert set(GROUPS) <= set(run)
        if run["model"] in RANKING_ONLY:  # no rating: null, never NaN
            assert run["accuracy"]["test"] == {"mae": None, "rmse": None, "n": 0}
            assert run["series"]["related_to_train"]["rmse"] is None
            assert all(v["rmse"] is None for v in run["new_users"].values())
        else:
            assert run["accuracy"]["test"]["rmse"] > 0 and run["accuracy"]["test"]["n"] > 0
        assert 0 <= run["ranking"]["ndcg@10"] <= 1 and 0 <= run["ranking"]["recall@10"] <= 1
        for ranking in (run["ranking"], *run["ranking_new_users"].values()):
            assert ranking["recall@10"] <= ranking["recall@50"] <= 1 and 0 < ranking["coverage@10"] <= 1
            assert 0 <= ranking["orphan_share@10"] <= 1 and 0 <= ranking["popular_share@10"] <= 1
            assert 0 <= ranking["series_list"]["ndcg@10"] <= 1 and ranking["users"] > 0
        assert set(run["series"]) == {"related_to_train", "other"}
        assert set(run["new_users"]) == set(run["ranking_new_users"]) == {"k=5", "k=10", "k=20"}
        assert run["cost"]["train_seconds"] > 0 and run["cost"]["peak_train_mb"] > 0
        assert run["cost"]["ratings_per_second"] > 0
    neural = res["runs"][2]
    assert neural["train_config"]["epochs"] == 1 and neural["cost"]["epochs_run"] == 1
    assert neural["export"]["model_bytes"] > 0 and neural["export"]["parity_max_abs_diff"] <= 1e-4
    # the baseline still has a user-ID input, so a known user is timed beside the history-only cases
    assert set(neural["export"]["latency"]) == {"pair_new_user", "catalog_new_user", "catalog_empty_history",
                                                "catalog_known_user"}
    gnn = res["runs"][3]  # the inductive model: histories in, no user input, exported and timed too
    assert gnn["export"]["model_bytes"] > 0 and gnn["export"]["parity_max_abs_diff"] <= 1e-4
    assert set(gnn["export"]["latency"]) == {"pair_new_user", "catalog_new_user", "catalog_empty_history"}
    assert gnn["series"]["related_to_train"]["n"] > 0 and gnn["series"]["related_to_train"]["rmse"] > 0
    assert res["runs"][0]["export"] is None  # classic models do not export


@pytest.mark.slow
def test_tuning_is_recorded_and_used(results):
    res, _ = results
    tuning = res["tuning"]["item_knn"]
    assert [t["model"] for t in tuning["trials"]] == [{"k": 2}, {"k": 10}]
    best = min(tuning["trials"], key=lambda t: t["val_rmse"])
    assert tuning["chosen"]["model"] == best["model"]
    assert res["runs"][1]["model_config"]["k"] == best["model"]["k"]
    assert tuning["grid"] == {"model": {"k": [2, 10]}} and tuning["metric"] == "val_rmse"
    assert res["tuning"]["baseline"]["grid"] is None and res["tuning"]["global_mean"]["grid"] is None
    ease = res["tuning"]["ease"]  # a ranking-only model is tuned on validation NDCG@10, highest wins
    assert ease["metric"] == "val_ndcg@10" and not ease["lower_is_better"]
    assert all(t["val_rmse"] is None and 0 <= t["val_ndcg@10"] <= 1 for t in ease["trials"])
    best = max(ease["trials"], key=lambda t: t["val_ndcg@10"])
    assert ease["chosen"]["model"] == best["model"] == {"reg": res["runs"][5]["model_config"]["reg"]}


@pytest.mark.slow
def test_reuse_reads_finished_trials_and_evaluates_the_chosen_one_without_training(results, tmp_path):
    """--reuse-trained: the tuning trials already trained are read, and the first seed's fit is the chosen
    trial's training, copied and evaluated (the same numbers, no new training)."""
    res, out = results
    shutil.copytree(out / "tmp" / "tune" / "item_knn", tmp_path / "tmp" / "tune" / "item_knn")
    cfg = BenchmarkConfig(data_dir=out / "processed", out_dir=tmp_path, models=("item_knn",), seeds=(0,),
                          grids={"item_knn": {"model": {"k": [2, 10]}}}, train_config={"epochs": 1, "batch_size": 64},
                          latency_repeats=2, command="pytest", reuse=True)
    again = run_benchmark(cfg, log=lambda _m: None)
    first = next(r for r in res["runs"] if r["model"] == "item_knn")
    tuning = again["tuning"]["item_knn"]
    assert all(t.get("reused") for t in tuning["trials"]) and tuning["chosen"] == res["tuning"]["item_knn"]["chosen"]
    run = again["runs"][0]
    assert run["cost"]["reused_training"] and run["accuracy"] == first["accuracy"]
    chosen = next(i for i, t in enumerate(tuning["trials"]) if t["model"] == tuning["chosen"]["model"])
    assert (tmp_path / "tmp" / "runs" / "item_knn_s0" / "best_model.pt").read_bytes() == \
        (out / "tmp" / "tune" / "item_knn" / f"trial{chosen}" / "best_model.pt").read_bytes()


@pytest.mark.slow
def test_results_files_render(results):
    res, out = results
    strict = json.loads((out / "results.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert strict["summary"].keys() == res["summary"].keys()
    assert "accuracy.test.rmse" not in strict["summary"]["ease"] and "ranking.recall@50" in strict["summary"]["ease"]
    md = (out / "results.md").read_text()
    for heading in ("## Accuracy", "## Ranking, known users", "## Ranking, new users", "### k=10", "## Series",
                    "## New users", "## Cost", "## Export", "## Tuning"):
        assert heading in md
    assert "| item_knn |" in md and "Command: `pytest`" in md and res["machine"]["platform"] in md
    assert "most_popular, ease: ranking-only" in md and "| ease | – | – | – |" in md
    for png in ("accuracy", "ranking", "lists", "new_users_ranking", "series", "new_users", "latency", "cost"):
        assert (out / f"{png}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert markdown(res) + "\n" == md


def test_the_data_line_says_which_catalog_fields_were_emptied():
    made = {"preprocessed": True, "input_dir": "data/sample", "min_ratings": 5, "preprocess_seconds": 1.25}
    assert preparation(made) == "preprocessed from `data/sample` with `--min-ratings 5` in 1.2 s"
    assert preparation({**made, "stripped": ["relations", "tags"]}) == (
        "preprocessed from `data/sample`, its catalog's relations, tags emptied first (`--strip`), with "
        "`--min-ratings 5` in 1.2 s")
    assert preparation({**made, "stripped": []}) == preparation(made)
    assert preparation({"preprocessed": False, "stripped": ["tags"]}) == "an already processed folder"


def test_a_processed_folder_is_used_as_it_is_and_an_old_one_refused(tmp_path):
    assert DATA_STATS == processed.DATA_STATS  # the harness names it without importing torch
    (tmp_path / DATA_STATS).write_text("{}")
    assert prepare_data(BenchmarkConfig(data_dir=tmp_path, out_dir=tmp_path / "out"), print) == \
        (tmp_path.resolve(), {"preprocessed": False})
    (tmp_path / DATA_STATS).rename(tmp_path / "model_config.json")
    with pytest.raises(DataFolderError, match=r"a processed folder written by an older anime-gnn "
                                                r"\(model_config.json, now data_stats.json\); preprocess it again"):
        prepare_data(BenchmarkConfig(data_dir=tmp_path, out_dir=tmp_path / "out"), print)


def test_split_options_apply_to_an_input_folder_only(tiny_processed, tmp_path):
    with pytest.raises(DataFolderError, match=r"is already processed: cold_after, strip applies to an input folder"):
        prepare_data(BenchmarkConfig(data_dir=tiny_processed, out_dir=tmp_path, cold_after=2005,
                                     strip=("tags",)), print)


def test_cold_after_holds_out_the_anime_after_that_year(tiny_input, tmp_path):
    # The tiny catalog's franchise f came out in 2000 + f (3 anime each): after 2006, franchises 7 to 9.
    processed, info = prepare_data(BenchmarkConfig(data_dir=tiny_input, out_dir=tmp_path, min_ratings=1,
                                                   cold_after=2006), print)
    report = json.loads((processed / "preprocess_report.json").read_text())
    assert info["cold_after"] == 2006 and report["config"]["cold_after_year"] == 2006
    assert report["cold_anime"] == 9 and report["splits"]["cold"] > 0
    plain = prepare_data(BenchmarkConfig(data_dir=tiny_input, out_dir=tmp_path / "plain", min_ratings=1), print)[1]
    assert "cold_after" not in plain   # absent, not None: results measured before the option still merge


def test_summary_mean_and_sample_std():
    runs = [{"model": "m", "accuracy": {"test": {"rmse": r}}, "ranking": {}, "series": {}, "new_users": {},
             "cost": {"closed_form": False}, "export": None} for r in (1.0, 2.0, 3.0)]
    runs.append({"model": "m", "seed": 9, "error": "boom"})  # failed runs are left out
    s = summarize(runs)["m"]["accuracy.test.rmse"]
    assert (s["mean"], s["std"], s["n"]) == (2.0, 1.0, 3)
    assert fmt(s, 2) == "2.00 ± 1.00" and fmt({"mean": 2.0, "std": 0.0, "n": 1}, 1) == "2.0" and fmt(None) == "–"
    assert fmt({"mean": 997.0, "std": 0.0, "n": 3}, 0) == "997" and fmt({"mean": 1.4e-6, "std": 0, "n": 1}, ".1e") == "1.4e-06"


def test_grid_points_cover_the_product():
    points = grid_points({"model": {"a": [1, 2]}, "train": {"lr": [0.1, 0.2, 0.3]}})
    assert len(points) == 6 and ({"a": 2}, {"lr": 0.3}) in points
    assert grid_points({}) == [({}, {})]


def test_grid_override_replaces_one_axis():
    from benchmarks.compare import GRIDS, override_grids

    before = json.dumps(GRIDS, sort_keys=True)
    grids = override_grids(GRIDS, ["mf.model.dim=64", "mf.train.lr=0.01,0.02"])
    assert grids["mf"] == {"model": {"dim": [64], "reg": GRIDS["mf"]["model"]["reg"]}, "train": {"lr": [0.01, 0.02]}}
    assert json.dumps(GRIDS, sort_keys=True) == before  # the visible defaults are not modified
    with pytest.raises(SystemExit):
        override_grids(GRIDS, ["mf.dim=64"])
    # A value that is not JSON is a string (a bare word would otherwise need shell-quoted JSON quotes).
    assert override_grids({}, ['gnn.train.short_history=log,"uniform"']) == \
        {"gnn": {"train": {"short_history": ["log", "uniform"]}}}


@pytest.mark.slow
def test_series_ablation_reproduces_the_run_without_the_term(results):
    from benchmarks.series_ablation import main

    res, out = results
    main(["--results", str(out), "--models", "baseline", "item_knn", "ease", "--ranking-users", "0"])
    rows = json.loads((out / "series_ablation.json").read_text())
    assert list(rows) == ["baseline", "item_knn"]  # ease is skipped: no rating for the term to adjust
    for run in res["runs"][1:3]:
        row = rows[run["model"]]
        # without the term: the very model the harness evaluated, so the same test numbers
        assert row["without"]["test"]["rmse"] == pytest.approx(run["accuracy"]["test"]["rmse"], abs=1e-6)
        assert row["without"]["ndcg@10"] == pytest.approx(run["ranking"]["ndcg@10"], abs=1e-9)
        assert row["without"]["orphan_share@10"] == pytest.approx(run["ranking"]["orphan_share@10"], abs=1e-9)
        assert row["with"]["test"]["n"] == run["accuracy"]["test"]["n"]
        assert row["term"]["known"]["shrink"] > 0
    md = (out / "series_ablation.md").read_text()
    assert "| baseline | without |" in md and "| item_knn | with |" in md
