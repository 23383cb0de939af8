"""compare.py --merge: model groups measured by separate processes become one result."""

import copy
import json

import pytest

from benchmarks.compare import merge_results


def _part(models: list[str], rmse: float, data_dir: str) -> dict:
    return {"command": f"compare --models {' '.join(models)}", "git": {"commit": "abc", "dirty": False},
            "wall_seconds": 10.0 * len(models),
            "data": {"data_dir": data_dir, "preprocessed": data_dir == "/a", "data_fingerprint": "f00d",
                     "splits": {"train": 100}},
            "settings": {"models": models, "k": 10, "seeds": [0]},
            "tuning": {m: {"chosen": {}} for m in models},
            "runs": [{"model": m, "seed": 0, "accuracy": {"test": {"rmse": rmse + i}}} for i, m in enumerate(models)]}


def test_merge_joins_runs_tuning_and_models_in_order():
    merged = merge_results([_part(["gnn", "ease"], 1.0, "/a"), _part(["mf"], 2.0, "/b")])
    assert [r["model"] for r in merged["runs"]] == ["gnn", "ease", "mf"]
    assert merged["settings"]["models"] == ["gnn", "ease", "mf"] and set(merged["tuning"]) == {"gnn", "ease", "mf"}
    assert merged["summary"]["mf"]["accuracy.test.rmse"]["mean"] == pytest.approx(2.0)
    assert merged["summary"]["ease"]["accuracy.test.rmse"]["mean"] == pytest.approx(2.0)
    assert merged["wall_seconds"] == 20.0 and len(merged["merged_from"]) == 2


def test_a_failed_fit_evaluated_in_a_later_part_counts_once():
    failed = _part(["gnn", "ease"], 1.0, "/a")
    failed["runs"][0] = {"model": "gnn", "seed": 0, "error": "crashed after training"}
    merged = merge_results([failed, _part(["gnn"], 3.0, "/b")])
    assert [(r["model"], "error" in r) for r in merged["runs"]] == [("ease", False), ("gnn", False)]
    assert merged["settings"]["models"] == ["gnn", "ease"]
    assert merged["summary"]["gnn"]["accuracy.test.rmse"]["mean"] == pytest.approx(3.0)


def test_a_model_measured_in_two_parts_is_taken_from_the_first():
    new, old = _part(["gnn"], 5.0, "/b"), _part(["gnn", "mf"], 1.0, "/a")
    new["tuning"]["gnn"] = {"chosen": {"epochs": 8}}
    merged = merge_results([new, old])
    assert [(r["model"], r["accuracy"]["test"]["rmse"]) for r in merged["runs"]] == [("gnn", 5.0), ("mf", 2.0)]
    assert merged["summary"]["gnn"]["accuracy.test.rmse"]["n"] == 1 and merged["tuning"]["gnn"] == {"chosen": {"epochs": 8}}


def test_seeds_measured_in_other_parts_join_the_same_model():
    second = _part(["gnn"], 3.0, "/b")
    second["settings"]["seeds"] = [1]
    second["runs"][0]["seed"] = 1
    merged = merge_results([_part(["gnn"], 1.0, "/a"), second])
    assert merged["settings"]["seeds"] == [0, 1]
    s = merged["summary"]["gnn"]["accuracy.test.rmse"]
    assert (s["mean"], s["n"]) == (pytest.approx(2.0), 2)


def test_joining_a_joined_result_keeps_every_run_it_was_joined_from():
    """``--merge NEW benchmarks/results/x`` must not record the old join as one run at its first part's git."""
    old = merge_results([_part(["gnn"], 1.0, "/a"), _part(["mf"], 2.0, "/a")])
    old["merged_from"][1]["git"] = {"commit": "def", "dirty": False}
    new = _part(["mf"], 3.0, "/b")
    new["git"] = {"commit": "123", "dirty": False}
    merged = merge_results([new, old])
    assert [(e["git"]["commit"], e["models"]) for e in merged["merged_from"]] == \
        [("123", ["mf"]), ("abc", ["gnn"]), ("def", ["mf"])]
    assert [(r["model"], r["accuracy"]["test"]["rmse"]) for r in merged["runs"]] == [("mf", 3.0), ("gnn", 1.0)]


def test_the_trainer_settings_line_skips_a_model_whose_tuning_chose_a_learning_rate():
    from benchmarks.report import train_settings

    config = {"epochs": 20, "schedule": "onecycle", "patience": 4, "batch_size": 2048, "weight_decay": 1e-4,
              "loss": "mse", "history_frac": 0.25}
    results = {"runs": [{"model": "mf", "train_config": {**config, "lr": 0.01}},
                        {"model": "gnn", "train_config": {**config, "lr": 0.003}}],
               "tuning": {"mf": {"chosen": {"model": {"dim": 64}, "train": {"lr": 0.01}}},
                          "gnn": {"chosen": {"model": {}, "train": {}}}}}
    assert "peak LR 0.003" in train_settings(results)
    results["tuning"]["gnn"]["chosen"]["train"] = {"lr": 0.003}   # every model tuned: the first run
    assert "peak LR 0.01" in train_settings(results)


def test_merge_refuses_results_on_other_data_or_settings():
    a, b = _part(["gnn"], 1.0, "/a"), _part(["mf"], 2.0, "/b")
    other_data = copy.deepcopy(b)
    other_data["data"]["data_fingerprint"] = "beef"
    with pytest.raises(SystemExit, match="different data or settings"):
        merge_results([a, other_data])
    other_k = copy.deepcopy(b)
    other_k["settings"]["k"] = 20
    with pytest.raises(SystemExit, match="different data or settings"):
        merge_results([a, other_k])


def test_a_grid_of_single_values_is_used_as_given_without_a_tuning_fit(tmp_path):
    from benchmarks.harness import BenchmarkConfig, _tune

    cfg = BenchmarkConfig(data_dir=tmp_path, out_dir=tmp_path, models=("mf",),
                          grids={"mf": {"model": {"dim": [64], "reg": [0.05]}, "train": {"lr": [0.01]}}})
    # No data exists here: a tuning child process would fail, so passing means no fit was run.
    t = _tune(cfg, "mf", tmp_path, log=print)
    assert t["chosen"] == {"model": {"dim": 64, "reg": 0.05}, "train": {"lr": 0.01}} and "trials" not in t
    assert "not tuned" in t["note"]


def test_a_finished_training_is_reused_only_when_it_is_the_one_asked_for(tmp_path):
    from benchmarks.worker import _finished
    from gnn.models.registry import train_defaults
    from gnn.train.config import TrainConfig

    cfg = TrainConfig.from_dict({**train_defaults("mf"), "seed": 0}).to_dict()
    meta = {"model_name": "mf", "train_config": cfg, "model_config": {"dim": 64, "reg": 0.05},
            "data_dir": str(tmp_path / "processed"), "best_epoch": 3, "metrics": {"test": {"rmse": 1.2}},
            "train_seconds": 30.0, "ratings_per_second": 1000}
    (tmp_path / "model_metadata.json").write_text(json.dumps(meta))
    (tmp_path / "training_history.json").write_text(json.dumps([{"epoch": e} for e in (1, 2, 3, 4)]))
    spec = {"model": "mf", "train_config": {"seed": 0}, "model_config": {"dim": 64},
            "data_dir": str(tmp_path / "processed"), "reuse": True}
    result, marks = _finished(spec, tmp_path)
    assert (result.best_epoch, result.train_seconds, len(result.epoch_log)) == (3, 30.0, 4) and marks["reused"]
    assert _finished({**spec, "reuse": False}, tmp_path) is None
    assert _finished({**spec, "train_config": {"seed": 1}}, tmp_path) is None
    assert _finished({**spec, "model_config": {"dim": 32}}, tmp_path) is None
    assert _finished({**spec, "data_dir": str(tmp_path / "other")}, tmp_path) is None
    assert _finished({**spec, "model": "biases"}, tmp_path) is None


def test_a_finished_training_is_reused_with_other_scoring_options_and_says_so(tmp_path):
    """The GNN's score_history changes only scoring: the training is reused, the new value handed back."""
    from benchmarks.worker import _finished
    from gnn.models.registry import train_defaults
    from gnn.train.config import TrainConfig

    cfg = TrainConfig.from_dict({**train_defaults("gnn"), "seed": 0}).to_dict()
    meta = {"model_name": "gnn", "train_config": cfg, "model_config": {"max_history": 256, "score_history": 0},
            "data_dir": str(tmp_path), "best_epoch": 3, "metrics": {}, "train_seconds": 30.0,
            "ratings_per_second": 1000}
    (tmp_path / "model_metadata.json").write_text(json.dumps(meta))
    (tmp_path / "training_history.json").write_text(json.dumps([{"epoch": 1}]))
    spec = {"model": "gnn", "train_config": {"seed": 0}, "data_dir": str(tmp_path), "reuse": True}
    assert _finished(spec, tmp_path)[1]["scoring"] == {}
    assert _finished({**spec, "model_config": {"score_history": 1024}}, tmp_path)[1]["scoring"] == {"score_history": 1024}
    assert _finished({**spec, "model_config": {"score_history": 1024, "max_history": 128}}, tmp_path) is None


def test_no_charts_when_every_run_failed(tmp_path):
    """A benchmark whose runs all failed writes no chart (it used to fail inside matplotlib's legend)."""
    from benchmarks.charts import write_charts

    results = {"summary": {}, "settings": {"models": ["gnn"], "k": 10, "seeds": [0]}, "name": "failed"}
    assert write_charts(results, tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_a_folder_it_cannot_benchmark_is_a_one_line_error_not_a_traceback(tmp_path, capsys):
    """A split option with a processed folder (or a folder of neither kind) stops with exit 2 and one line."""
    from benchmarks.compare import main

    (tmp_path / "data_stats.json").write_text("{}")
    with pytest.raises(SystemExit) as stop:
        main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "out"), "--cold-anime", "0.1", "--models", "biases"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].endswith("is already processed: cold_anime applies to an input folder "
                                         "(anime_catalog.json + ratings.csv)")
    assert "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["--data-dir", str(tmp_path / "missing"), "--out", str(tmp_path / "out"), "--models", "biases"])
    assert "neither a processed folder" in capsys.readouterr().err
