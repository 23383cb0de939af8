"""Benchmark outputs are strict JSON: a value that was not measured (NaN) is written as null."""

from __future__ import annotations

import json
import math

from benchmarks import worker
from benchmarks.harness import summarize
from tests.builders import strict_loads


def test_the_worker_writes_an_unmeasured_metric_as_null(tmp_path, monkeypatch):
    run = {"model": "ease", "seed": 0, "accuracy": {"test": {"rmse": math.nan, "mae": math.inf}},
           "ranking": {"ndcg@10": 0.25}}
    monkeypatch.setitem(worker.TASKS, "fake", lambda spec: run)
    spec, result = tmp_path / "spec.json", tmp_path / "result.json"
    spec.write_text(json.dumps({"task": "fake"}))
    worker.main([str(spec), str(result)])
    back = strict_loads(result.read_text())
    assert back["accuracy"]["test"] == {"rmse": None, "mae": None} and back["ranking"]["ndcg@10"] == 0.25
    # and the parent's summary skips it rather than averaging a null
    assert summarize([back]) == {"ease": {"ranking.ndcg@10": {"mean": 0.25, "std": 0.0, "n": 1}}}


def test_compare_writes_results_json_with_null_for_nan(tmp_path, monkeypatch):
    import benchmarks.charts
    import benchmarks.report
    from benchmarks.compare import write_outputs

    monkeypatch.setattr(benchmarks.report, "markdown", lambda results: "# results")
    monkeypatch.setattr(benchmarks.charts, "write_charts", lambda results, out: None)
    write_outputs({"runs": [{"model": "mf", "accuracy": {"test": {"rmse": math.nan}}}]}, tmp_path)
    assert strict_loads((tmp_path / "results.json").read_text()) == {
        "runs": [{"model": "mf", "accuracy": {"test": {"rmse": None}}}]}
