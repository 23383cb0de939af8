"""The scaling benchmark's jobs (:mod:`benchmarks.scaling`), each run by :mod:`benchmarks.worker` in its own
process: generate a synthetic input, write it as the Kaggle 2020 MyAnimeList layout and import it, time
training steps, and time the trainer's evaluation and the ranking metrics."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmarks.peak_memory import peak_rss_mb


def steps(spec: dict) -> dict:
    """Time ``spec["steps"]`` training steps after ``warmup`` ones; with ``profile``, profile one more."""
    from benchmarks.step_timing import profile_step, time_steps
    from gnn.processed import load_processed

    start = time.perf_counter()
    data = load_processed(spec["data_dir"])
    load_seconds, rss_start = round(time.perf_counter() - start, 2), peak_rss_mb()
    res = time_steps(spec["model"], data, spec["steps"], spec.get("warmup", 2))
    state = res.pop("_state")
    out = {**res, "n_train": len(data.train), "load_seconds": load_seconds, "rss_start_mb": rss_start,
           "peak_train_mb": peak_rss_mb()}
    if spec.get("profile"):
        out["profile"] = profile_step(state)
    return out


def evaluate(spec: dict) -> dict:
    """What the trainer evaluates after each epoch and at the end, plus the ranking metrics, for an
    untrained model (the cost does not depend on the weights)."""
    import torch

    from gnn.models.base import ModelContext
    from gnn.models.registry import build_model
    from gnn.processed import load_processed
    from gnn.train.evaluate import Evaluator, evaluate_new_users
    from gnn.train.metrics import ranking_metrics

    data = load_processed(spec["data_dir"])
    torch.manual_seed(0)
    ctx = ModelContext.from_processed(data)
    model = build_model(spec["model"], ctx, None)
    model.fit_closed_form(data.train)
    out: dict[str, Any] = {"model": spec["model"], "rss_start_mb": peak_rss_mb(), "rows": {}}
    parts = {"val_accuracy": lambda: Evaluator(data, ctx).split(model, data.val).as_dict(),
             "ranking": lambda: ranking_metrics(model, data, max_users=spec.get("ranking_users", 2000))["users"],
             "new_users": lambda: evaluate_new_users(model, data.holdout)["k=10"]["users"]}
    for name, part in parts.items():
        start = time.perf_counter()
        value = part()
        out["rows"][name] = {"seconds": round(time.perf_counter() - start, 2), "peak_mb": peak_rss_mb(),
                             "result": value}
    out["rows"]["val_accuracy"]["n"] = len(data.val)
    out["peak_mb"] = peak_rss_mb()
    return out


def generate(spec: dict) -> dict:
    """A synthetic input folder; with ``n_ratings``, as many users as give about that many ratings."""
    from gnn.data.synthetic import SampleConfig, write_sample

    start = time.perf_counter()
    config = SampleConfig(**spec["config"])
    if spec.get("n_ratings"):
        from gnn.data.synthetic import users_for_ratings

        config = SampleConfig(**{**spec["config"], "n_users": users_for_ratings(spec["n_ratings"], config)})
    summary = write_sample(spec["out_dir"], config)
    return {"seconds": round(time.perf_counter() - start, 3), "n_ratings": summary.n_ratings,
            "n_users": summary.n_users, "n_anime": summary.n_anime, "peak_mb": peak_rss_mb()}


def kaggle_layout(spec: dict) -> dict:
    """The input folder written as the Kaggle 2020 MyAnimeList dump (``anime.csv``, ``rating_complete.csv``)."""
    from benchmarks.kaggle_layout import write_kaggle_2020

    start = time.perf_counter()
    counts = write_kaggle_2020(Path(spec["input_dir"]), Path(spec["out_dir"]))
    return {**counts, "seconds": round(time.perf_counter() - start, 3), "peak_mb": peak_rss_mb()}


def import_mal(spec: dict) -> dict:
    """``anime-gnn import mal``'s work on a Kaggle 2020 layout folder (:func:`kaggle_layout`)."""
    from gnn.ingest.mal_import import import_mal as run

    start, rss_start = time.perf_counter(), peak_rss_mb()
    src = Path(spec["input_dir"])
    counts = run(src / "anime.csv", src / "rating_complete.csv", Path(spec["out_dir"]))
    return {"seconds": round(time.perf_counter() - start, 3), "rss_start_mb": rss_start, "peak_mb": peak_rss_mb(),
            "ratings": counts["ratings"], "users": counts["users"], "anime": counts["anime"]}
