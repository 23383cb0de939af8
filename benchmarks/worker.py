"""One measured job in its own process, so that peak memory (``ru_maxrss``) is that job's alone.

    python -m benchmarks.worker SPEC.json RESULT.json

``SPEC["task"]`` is one of:

* ``fit``: train one model with :func:`gnn.train.trainer.train_model`, evaluate it with the
  shared evaluator (accuracy, new users, :func:`ranking_metrics`, :func:`series_metrics`) and,
  for the exportable neural models, export it (:func:`export_model`, parity-checked) and time
  ONNX Runtime;
* ``tune``: fit every configuration of a grid and report each one's validation RMSE (and validation
  NDCG@k where the model is selected on it: :func:`selection_metric`); with ``reuse``, a trial
  folder that already holds that configuration's finished training is read, not trained again;
* ``preprocess``: run :func:`gnn.preprocess.preprocess`;
* the scaling benchmark's jobs (:mod:`benchmarks.scaling_jobs`): ``steps`` (time a fixed number of
  training steps, optionally profile one more), ``evaluate`` (the trainer's evaluation of a freshly
  built model and the ranking metrics, each part's seconds and peak RSS), ``generate`` (a synthetic
  input folder), ``kaggle_layout`` and ``import_mal`` (that folder as the Kaggle 2020 MyAnimeList dump,
  and ``anime-gnn import mal`` timed on it).

Memory: ``rss_start_mb`` is the process high-water mark after imports and data loading,
``peak_train_mb`` the high-water mark at the end of the last epoch (training and its
per-epoch validation), ``peak_mb`` at the end of the job (evaluation and export included).
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.peak_memory import peak_rss_mb
from benchmarks.scaling_jobs import evaluate, generate, import_mal, kaggle_layout, steps

def grid_points(grid: dict[str, dict[str, list]]) -> list[tuple[dict, dict]]:
    """Every (model overrides, train overrides) of ``{"model": {k: [..]}, "train": {k: [..]}}``."""
    axes = [("model", k, v) for k, v in grid.get("model", {}).items()] + \
           [("train", k, v) for k, v in grid.get("train", {}).items()]
    points = []
    for values in itertools.product(*(vals for _, _, vals in axes)):
        point: dict[str, dict] = {"model": {}, "train": {}}
        for (part, key, _), value in zip(axes, values):
            point[part][key] = value
        points.append((point["model"], point["train"]))
    return points


def _train(spec: dict, data: Any, out_dir: Path, model_config: dict, train_overrides: dict) -> tuple[Any, dict]:
    from gnn.models.registry import train_defaults
    from gnn.train.config import TrainConfig
    from gnn.train.trainer import train_model

    # The model's own training defaults (e.g. the gnn's batch size), then the run's settings on top.
    cfg = TrainConfig.from_dict({**train_defaults(spec["model"]), **spec["train_config"], **train_overrides})
    marks: dict[str, float] = {}

    def on_epoch(_epoch: int, _record: dict) -> bool:
        marks["peak_train_mb"] = peak_rss_mb()
        return False

    result = train_model(spec["model"], data, out_dir, cfg, model_config=model_config or None, on_epoch=on_epoch,
                         log=lambda _msg: None, progress=False)
    return result, {"train_config": cfg.to_dict(), **marks}


def _finished(spec: dict, out_dir: Path) -> tuple[Any, dict] | None:
    """A training this run folder already holds, when ``spec["reuse"]`` asks for it and the stored
    run is the one asked for (model, train settings, data): ``(result, marks)`` read from its files.
    The peak RSS of that training is not known any more (``None``). Asked values of scoring-only
    options (:func:`gnn.models.registry.scoring_only`) that differ from the stored ones do not change
    the training: they come back as ``marks["scoring"]``, for the caller to score with them."""
    from gnn.models.registry import scoring_only, train_defaults
    from gnn.train.config import TrainConfig
    from gnn.train.trainer import TrainResult

    meta_path, epochs_path = out_dir / "model_metadata.json", out_dir / "training_history.json"
    if not (spec.get("reuse") and meta_path.exists() and epochs_path.exists()):
        return None
    meta = json.loads(meta_path.read_text())
    cfg = TrainConfig.from_dict({**train_defaults(spec["model"]), **spec["train_config"]})
    asked = spec.get("model_config") or {}
    differ = {k: v for k, v in asked.items() if meta["model_config"].get(k) != v}
    if meta["model_name"] != spec["model"] or meta["train_config"] != cfg.to_dict() \
            or set(differ) - scoring_only(spec["model"]) \
            or Path(meta["data_dir"]).resolve() != Path(spec["data_dir"]).resolve():
        return None
    result = TrainResult(output_dir=out_dir, best_epoch=meta["best_epoch"], metrics=meta["metrics"],
                         epoch_log=json.loads(epochs_path.read_text()), train_seconds=meta["train_seconds"],
                         ratings_per_second=meta["ratings_per_second"])
    return result, {"train_config": cfg.to_dict(), "reused": True, "scoring": differ}


def _cost(result: Any, n_train: int, marks: dict, rss_start: float) -> dict:
    epochs = len(result.epoch_log)
    closed_form = result.epoch_log and result.epoch_log[0]["train_loss"] is None
    rate = n_train / result.train_seconds if closed_form and result.train_seconds else result.ratings_per_second
    return {"train_seconds": round(result.train_seconds, 3), "epochs_run": epochs, "best_epoch": result.best_epoch,
            "seconds_per_epoch": round(result.train_seconds / max(epochs, 1), 3), "ratings_per_second": round(rate),
            "closed_form": bool(closed_form), "rss_start_mb": rss_start, "peak_train_mb": marks.get("peak_train_mb"),
            "train_increase_mb": None if marks.get("reused")
            else round((marks.get("peak_train_mb") or rss_start) - rss_start, 1)}


def _export(run_dir: Path, data_dir: Path, repeats: int, scoring: dict | None = None) -> dict:
    """Export with the real exporter (parity-checked) and time the deployed ``model.onnx`` with ORT."""
    from benchmarks.latency import measure
    from gnn.export.onnx_export import export_model

    exported = export_model(run_dir, run_dir / "export" / "anime_recommender", data_dir=data_dir, scoring=scoring)
    timing = measure(exported.output_dir, repeats=repeats, threads=1, history_len=20)
    return {"model_bytes": exported.model_bytes, "total_bytes": exported.total_bytes, "exporter": exported.exporter,
            "user_table": exported.user_table, "parity_max_abs_diff": exported.parity.max_abs_diff,
            "parity": exported.parity.as_dict(), "export_seconds": round(exported.seconds, 2),
            "latency_repeats": repeats, "ort_threads": 1, "latency": timing["latency"]}


def fit(spec: dict) -> dict:
    """Train, evaluate (and export) one model; everything measured in this process."""
    from gnn.models.registry import MODELS
    from gnn.processed import load_processed
    from gnn.train.checkpoint import load_model
    from gnn.train.metrics import franchises_of, new_user_ranking, ranking_metrics, series_metrics

    data = load_processed(spec["data_dir"])
    rss_start = peak_rss_mb()
    run_dir = Path(spec["run_dir"])
    result, marks = _finished(spec, run_dir) or _train(spec, data, run_dir, spec.get("model_config", {}), {})
    scoring = marks.get("scoring") or None
    model, ctx, _ = load_model(run_dir / "best_model.pt", scoring)
    start = time.perf_counter()
    if scoring:  # a reused training scored with other scoring options: its stored metrics do not apply
        from gnn.train.trainer import final_metrics
        result = replace(result, metrics=final_metrics(model, data, ctx, marks["train_config"]["seed"]))
    fr = franchises_of(data)
    opts = {"k": spec.get("k", 10), "threshold": spec.get("relevant", 8.0),
            "max_users": spec.get("ranking_users", 2000), "franchises": fr}
    ranking = ranking_metrics(model, data, seed=0, **opts)
    # New users: the given/target draw of the run's seed, as for their RMSE (evaluate_new_users).
    ranking_new = new_user_ranking(model, data, seed=marks["train_config"]["seed"], **opts)
    out: dict[str, Any] = {
        "model": spec["model"], "seed": marks["train_config"]["seed"],
        "model_config": {**json.loads((run_dir / "model_metadata.json").read_text())["model_config"], **(scoring or {})},
        "train_config": marks["train_config"],
        "accuracy": {"val": result.metrics["val"], "test": result.metrics["test"]},
        "ranking": ranking, "ranking_new_users": ranking_new, "series": series_metrics(model, data),
        "new_users": result.metrics["new_users"],
        "cost": {**_cost(result, len(data.train), marks, rss_start),
                 "n_parameters": sum(p.numel() for p in model.parameters()),
                 "eval_seconds": round(time.perf_counter() - start, 2),
                 "reused_training": bool(marks.get("reused")), "rescored_with": scoring},
        "export": None}
    if data.cold is not None and len(data.cold):
        from gnn.train.cold import evaluate_cold
        out["cold"] = evaluate_cold(model, data, k=opts["k"], threshold=opts["threshold"],
                                    max_users=opts["max_users"])
    if spec.get("export", True) and MODELS[spec["model"]].kind == "neural":  # the exported models
        out["export"] = _export(run_dir, Path(spec["data_dir"]), spec.get("latency_repeats", 100), scoring)
    out["cost"]["peak_mb"] = peak_rss_mb()
    return out


def selection_metric(model: str, select: str | None, k: int = 10) -> tuple[str, bool]:
    """``(metric, lower is better)`` a grid is tuned on: ``select`` ("val_rmse" or "val_ndcg@K"), or by
    default the validation RMSE, and NDCG@k for a ranking-only model (it has no RMSE)."""
    from gnn.models.registry import model_class

    metric = select or ("val_rmse" if model_class(model).predicts_ratings else f"val_ndcg@{k}")
    if metric != "val_rmse" and not metric.startswith("val_ndcg@"):
        raise ValueError(f"unknown selection metric {metric!r}: val_rmse or val_ndcg@K")
    return metric, metric == "val_rmse"


def tune(spec: dict) -> dict:
    """Fit each grid point (same data, same seed); selection is on a validation metric only."""
    from gnn.processed import load_processed
    from gnn.train.checkpoint import load_model
    from gnn.train.metrics import franchises_of, ranking_metrics

    data = load_processed(spec["data_dir"])
    metric, lower = selection_metric(spec["model"], spec.get("select"), spec.get("k", 10))
    fr = franchises_of(data) if metric != "val_rmse" else None
    trials = []
    for i, (model_over, train_over) in enumerate(grid_points(spec["grid"])):
        trial_dir = Path(spec["run_dir"]) / f"trial{i}"
        asked = {**spec, "model_config": model_over, "train_config": {**spec["train_config"], **train_over}}
        result, marks = _finished(asked, trial_dir) or _train(spec, data, trial_dir, model_over, train_over)
        trial = {"model": model_over, "train": train_over, "val_rmse": result.metrics["val"]["rmse"],
                 "val_mae": result.metrics["val"]["mae"], "best_epoch": result.best_epoch,
                 "seconds": round(result.train_seconds, 2), **({"reused": True} if marks.get("reused") else {})}
        if metric != "val_rmse":
            model, _, _ = load_model(trial_dir / "best_model.pt")
            k = int(metric.split("@")[1])
            trial[metric] = ranking_metrics(model, data, k=k, threshold=spec.get("relevant", 8.0),
                                            max_users=spec.get("ranking_users", 2000), seed=0, split="val",
                                            franchises=fr)[f"ndcg@{k}"]
        trials.append(trial)
    valid = [t for t in trials if t[metric] is not None]
    if not valid:
        raise ValueError(f"no configuration of the grid has a {metric}")
    best = min(valid, key=lambda t: t[metric]) if lower else max(valid, key=lambda t: t[metric])
    out = {"trials": trials, "chosen": {"model": best["model"], "train": best["train"]},
           "metric": metric, "lower_is_better": lower, "best_value": best[metric]}
    return {**out, "best_val_rmse": best["val_rmse"]} if metric == "val_rmse" else out


def preprocess(spec: dict) -> dict:
    from gnn.preprocess import PreprocessConfig
    from gnn.preprocess import preprocess as run

    start, rss_start = time.perf_counter(), peak_rss_mb()
    result = run(spec["input_dir"], spec["output_dir"],
                 PreprocessConfig(min_ratings=spec["min_ratings"], cold_anime_frac=spec.get("cold_anime", 0.0),
                                  cold_after_year=spec.get("cold_after")))
    return {"seconds": round(time.perf_counter() - start, 3), "rss_start_mb": rss_start, "peak_mb": peak_rss_mb(),
            "splits": result.report["splits"], "users": result.report["users"],
            "ratings_read": result.report["ratings"].get("total")}


TASKS = {"fit": fit, "tune": tune, "preprocess": preprocess, "steps": steps, "evaluate": evaluate,
         "generate": generate, "kaggle_layout": kaggle_layout, "import_mal": import_mal}


def main(argv: list[str]) -> None:
    spec_path, result_path = Path(argv[0]), Path(argv[1])
    spec = json.loads(spec_path.read_text())
    result = TASKS[spec["task"]](spec)
    from gnn.io import finite_or_null, write_json

    write_json(result_path, finite_or_null(result), indent=1)  # null: not measured (e.g. no new users)


if __name__ == "__main__":
    main(sys.argv[1:])
