"""The scaling benchmark: its report from a made-up measurement, merging sizes, and the step timing
(run for real on the tiny dataset; the generate/preprocess/evaluate jobs are the worker's)."""

from __future__ import annotations

import copy

import pytest

from benchmarks.scaling import generated, merged
from benchmarks.scaling_report import markdown, plot
from benchmarks.step_timing import profile_step, time_steps
from gnn.processed import load_processed


def _row(n: int) -> dict:
    return {"target": n, "ratings": n - 7, "users": n // 190, "anime": 50, "train_ratings": int(0.75 * n),
            "generate": {"seconds": n / 1e4, "peak_mb": 350.0},
            "preprocess": {"seconds": n / 2e4, "peak_mb": 900.0 + n / 1e4, "rss_start_mb": 300.0},
            "train": {"gnn": {"setup_seconds": 12.5, "ratings_per_second": 2700, "seconds_per_step": 1.31, "peak_train_mb": 1962.6,
                              "encoder_forward_seconds_per_step": 0.22, "data_seconds_per_step": 0.03,
                              "profile": {"total_self_cpu_ms": 1264.6, "encoder_forward_backward_seconds": 0.5,
                                          "top": [{"op": "aten::mm", "calls": 169, "self_cpu_ms": 336.9,
                                                   "share": 0.2664}]}}},
            "evaluate": {"gnn": {"peak_mb": 1969.0, "rows": {
                "val_accuracy": {"seconds": 38.7, "peak_mb": 1969.0, "n": 92674},
                "ranking": {"seconds": 70.9, "peak_mb": 1969.0, "result": 2000},
                "new_users": {"seconds": 18.7, "peak_mb": 1969.0, "result": 259}}}}}


def fake_results(sizes=(1_000_000, 10_000_000)) -> dict:
    return {"name": "scaling", "command": "python benchmarks/scaling.py", "git": {"commit": "abc", "dirty": False},
            "machine": {"platform": "Linux", "cpu_count": 2, "torch": "2", "OMP_NUM_THREADS": "1", "nice": 5},
            "settings": {"n_anime": 50, "ratings_median": 140.0, "ratings_max": 3000, "min_ratings": 10,
                         "models": ["gnn"], "steps": 20, "warmup_steps": 2, "evaluate": True},
            "rows": [_row(n) for n in sizes], "wall_seconds": 60.0}


def test_report_tables_profile_and_chart(tmp_path):
    res = fake_results()
    res["rows"].append({**_row(60_000_000), "train_ratings": None, "preprocess": None, "train": {},
                        "evaluate": {}})   # a generate-only size
    md = markdown(res)
    assert "| 999,993 | 5,263 | 750,000 | 100 | 350 | 50 | 1,000 | 12 | 2,700 | 1.31 (0.22) | 1,963 | 1,969 |" in md
    assert "| 59,999,993 | 315,789 | n/a | 6,000 | 350 | n/a | n/a | n/a | n/a | n/a (n/a) | n/a | n/a |" in md
    assert "| 999,993 | gnn | 92,674 | 38.7 | 70.9 (2000) | 18.7 (259) | 1,969 |" in md
    assert "## Where a GNN step goes at 9,999,993 ratings" in md and "| `aten::mm` | 169 | 336.9 | 26.6% |" in md
    assert "forward and backward over the whole graph alone took 0.50 s" in md
    plot(res, tmp_path / "scaling.png")
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_chart_of_a_generate_only_run(tmp_path):
    """Nothing trained yet (``--generate-only``): the empty panels say so instead of failing on a log axis."""
    res = {**fake_results(), "rows": [{**_row(60_000_000), "train_ratings": None, "preprocess": None, "train": {},
                                      "evaluate": {}}]}
    plot(res, tmp_path / "scaling.png")
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_merge_replaces_a_size_and_keeps_the_others():
    old = fake_results()
    new = copy.deepcopy(fake_results((10_000_000, 60_000_000)))
    new["command"], new["rows"][0]["users"] = "python benchmarks/scaling.py --sizes 1e7 6e7 --merge", 1
    out = merged(old, new)
    assert [r["target"] for r in out["rows"]] == [1_000_000, 10_000_000, 60_000_000]
    assert out["rows"][1]["users"] == 1 and [r["command"] for r in out["rows"][0]["runs"]] == ["python benchmarks/scaling.py"]
    assert [r["command"] for r in out["rows"][1]["runs"]] == [new["command"]]      # every model rerun
    assert out["rows"][2]["runs"][0]["command"].endswith("--merge") and out["wall_seconds"] == 120.0
    assert "`python benchmarks/scaling.py` (git `abc`); `python benchmarks/scaling.py --sizes 1e7 6e7 --merge`" in markdown(out)


def test_merge_of_one_model_keeps_the_others_of_that_size():
    old = fake_results((60_000_000,))
    old["rows"][0]["train"]["baseline"] = {"ratings_per_second": 5425, "seconds_per_step": 0.38, "peak_train_mb": 3802.0}
    old["rows"][0]["import_mal"] = {"seconds": 300.0, "peak_mb": 700.0}
    new = copy.deepcopy(fake_results((60_000_000,)))
    new["rows"][0]["train"]["gnn"]["ratings_per_second"] = 3000
    new["rows"][0]["evaluate"] = {}
    new["command"], new["git"] = "python benchmarks/scaling.py --models gnn --no-evaluate --merge", {"commit": "def"}
    row = merged(old, new)["rows"][0]
    assert row["train"]["gnn"]["ratings_per_second"] == 3000 and row["train"]["baseline"]["ratings_per_second"] == 5425
    assert row["evaluate"]["gnn"]["peak_mb"] == 1969.0 and row["import_mal"]["seconds"] == 300.0
    assert [r["git"]["commit"] for r in row["runs"]] == ["abc", "def"]


def test_reuse_keeps_an_earlier_generation_only_for_the_same_spec(tmp_path, monkeypatch):
    import benchmarks.scaling as scaling
    from gnn.io import write_json

    runs = []
    monkeypatch.setattr(scaling, "run_child", lambda spec, logs, label: runs.append(spec) or {"seconds": 2.0})
    spec = {"task": "generate", "out_dir": str(tmp_path / "input"), "config": {"seed": 0}, "n_ratings": 100}
    write_json(tmp_path / "generate_1M.spec.json", spec)
    write_json(tmp_path / "generate_1M.result.json", {"seconds": 754.0})
    assert generated(spec, tmp_path, "generate_1M", reuse=True) == {"seconds": 2.0} and len(runs) == 1  # no ratings.csv
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "ratings.csv").write_text("user_id,anime_id,rating\n")
    assert generated(spec, tmp_path, "generate_1M", reuse=True) == {"seconds": 754.0, "reused": True}
    assert generated({**spec, "n_ratings": 200}, tmp_path, "generate_1M", reuse=True) == {"seconds": 2.0}
    assert generated(spec, tmp_path, "generate_1M", reuse=False) == {"seconds": 2.0} and len(runs) == 3


@pytest.mark.parametrize("model", ["gnn", "baseline"])
def test_time_steps_trains_the_steps_it_reports(tiny_processed, model):
    data = load_processed(tiny_processed)
    res = time_steps(model, data, steps=2, warmup=1)
    state = res.pop("_state")
    assert res["steps"] == 2 and res["ratings_per_second"] > 0 and res["n_parameters"] > 0
    assert res["seconds_per_step"] == pytest.approx(res["data_seconds_per_step"] + res["compute_seconds_per_step"],
                                                    abs=2e-4)
    assert (res["encoder_forward_seconds_per_step"] > 0) == (model == "gnn")
    prof = profile_step(state, top=5)
    assert len(prof["top"]) == 5 and 0 < sum(r["share"] for r in prof["top"]) <= 1.0
    assert (prof["encoder_forward_backward_seconds"] is not None) == (model == "gnn")


def test_the_import_table_lists_the_sizes_that_ran_it():
    res = fake_results()
    res["rows"][1]["import_mal"] = {"seconds": 41.0, "peak_mb": 612.0, "rss_start_mb": 300.0, "ratings": 9_999_993,
                                    "users": 52_000}
    md = markdown(res)
    assert "| 9,999,993 | 52,000 | 41 | 612 |" in md and md.count("import mal` (the data") == 1
    assert "import mal" not in markdown(fake_results())
