"""The benchmark harness: every model through the same trainer, the same evaluator, the same clock.

For a processed dataset (or an input folder, preprocessed first), a list of models and
seeds, :func:`run_benchmark`:

1. tunes each model that has a grid on the **validation** split (one child process per
   model runs the whole grid with the first seed; the chosen values are recorded), on the
   model's selection metric (``BenchmarkConfig.selection``: validation RMSE by default,
   validation NDCG@k for the ranking-only references);
2. fits every (model, seed) in its **own child process** (:mod:`benchmarks.worker`) with
   :func:`gnn.train.trainer.train_model`, so wall time and peak RSS (``ru_maxrss``) belong
   to that fit alone, then evaluates it on the test split (MAE/RMSE, the ranking metrics of
   known and new users, series, new users) and exports/times the neural models;
3. summarizes each metric as mean and standard deviation over seeds.

The parent never imports torch: it only writes specs, starts children and reads JSON.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from benchmarks.provenance import REPO, command_line, git_commit, machine_info
from gnn.io import finite_or_null, write_json  # torch-free, as is the model table
from gnn.models.registry import model_names  # the model table only: no torch in this process

DATA_STATS = "data_stats.json"  # gnn.processed.DATA_STATS (not imported: that module loads torch)

NEURAL = model_names("neural")
DEFAULT_MODELS = model_names("reference") + NEURAL  # the cold-item references run in benchmarks/cold_items.py
GROUPS = ("accuracy", "ranking", "ranking_new_users", "series", "new_users", "cost", "export", "cold")


class WorkerError(RuntimeError):
    """A child job failed; the message ends with the tail of its log."""


@dataclass(frozen=True)
class BenchmarkConfig:
    data_dir: Path                       # processed folder, or an input folder (anime_catalog.json + ratings)
    out_dir: Path                        # results.json etc.; scratch in out_dir/tmp, data in out_dir/processed
    models: tuple[str, ...] = DEFAULT_MODELS
    seeds: tuple[int, ...] = (0, 1, 2)
    grids: dict[str, dict] = field(default_factory=dict)      # model -> {"model": {..: [..]}, "train": {..: [..]}}
    selection: dict[str, str] = field(default_factory=dict)   # model -> "val_rmse" | "val_ndcg@K" (default: see
    #                                                           benchmarks.worker.selection_metric)
    train_config: dict[str, Any] = field(default_factory=dict)  # TrainConfig overrides for every model
    min_ratings: int = 10                # when data_dir is an input folder
    cold_anime: float = 0.0              # share of rated anime held out as the cold-item test (preprocess)
    cold_after: int | None = None        # and every rated anime after this year (the new-season split)
    strip: tuple[str, ...] = ()          # catalog fields emptied first (e.g. relations, studios, tags)
    k: int = 10
    relevant: float = 8.0                # test rating >= this is relevant for NDCG/Recall
    ranking_users: int | None = 2000     # seeded sample of users ranked over the whole catalog
    latency_repeats: int = 100
    export: bool = True
    quick: bool = False
    reuse: bool = False                  # evaluate a fit whose run folder already holds that finished training
    command: str = ""


def run_dir(out_dir: Path, model: str, seed: int) -> Path:
    """Where ``model`` trains with ``seed``; its checkpoints stay there for later diagnostics."""
    return out_dir / "tmp" / "runs" / f"{model}_s{seed}"


def tune_dir(out_dir: Path, model: str) -> Path:
    """Where ``model``'s tuning trials train (``trial0``, ``trial1``, ... in grid order)."""
    return out_dir / "tmp" / "tune" / model


def reuse_chosen_trial(tuning: dict[str, Any], tune_root: Path, target: Path) -> bool:
    """Copy the chosen configuration's tuning trial to ``target`` (the first seed's run folder), so that
    with ``reuse`` that fit is evaluated, not trained again: it is the same training (same settings,
    seed and data, which :func:`benchmarks.worker._finished` checks again). Nothing is copied over a
    folder that holds a training, or when the tuning ran no trials."""
    chosen = tuning.get("chosen")
    index = next((i for i, t in enumerate(tuning.get("trials") or [])
                  if {"model": t["model"], "train": t["train"]} == chosen), None)
    source = None if index is None else tune_root / f"trial{index}"
    if source is None or (target / "model_metadata.json").exists() or not (source / "model_metadata.json").exists():
        return False
    shutil.copytree(source, target, dirs_exist_ok=True)
    return True


def run_child(spec: dict[str, Any], work_dir: Path, label: str) -> dict[str, Any]:
    """Run one :mod:`benchmarks.worker` job in a fresh Python process; returns its result plus wall time."""
    work_dir.mkdir(parents=True, exist_ok=True)
    spec_path, result_path, log_path = (work_dir / f"{label}.{ext}" for ext in ("spec.json", "result.json", "log"))
    write_json(spec_path, spec, indent=1)
    result_path.unlink(missing_ok=True)
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.worker", str(spec_path), str(result_path)],
                              cwd=REPO, stdout=log, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0 or not result_path.exists():
        tail = "".join(log_path.read_text(errors="replace").splitlines(keepends=True)[-15:])
        raise WorkerError(f"{label} failed (exit {proc.returncode}); see {log_path}\n{tail}")
    return {**json.loads(result_path.read_text()), "process_seconds": round(time.perf_counter() - start, 2)}


class DataFolderError(ValueError):
    """``--data-dir`` cannot be benchmarked as given (a user's mistake: compare.py says it in one line)."""


def prepare_data(cfg: BenchmarkConfig, log: Callable[[str], None]) -> tuple[Path, dict[str, Any]]:
    """The processed folder to benchmark on: ``data_dir`` itself, or ``out_dir/processed`` preprocessed from it.

    Raises :class:`DataFolderError` for a folder that is neither, an older processed one, or split
    options given with a processed one."""
    data_dir = cfg.data_dir.resolve()
    if (data_dir / DATA_STATS).exists():
        asked = [name for name, on in (("cold_anime", cfg.cold_anime), ("cold_after", cfg.cold_after is not None),
                                       ("strip", cfg.strip)) if on]
        if asked:
            raise DataFolderError(f"{data_dir} is already processed: {', '.join(asked)} applies to an input "
                                  "folder (anime_catalog.json + ratings.csv)")
        return data_dir, {"preprocessed": False}
    if (data_dir / "model_config.json").exists():  # gnn.processed refuses it too (torch-free here)
        raise DataFolderError(f"{data_dir}: a processed folder written by an older anime-gnn (model_config.json, "
                              f"now {DATA_STATS}); preprocess it again, or pass its input folder")
    if not (data_dir / "anime_catalog.json").exists():
        raise DataFolderError(f"{data_dir}: neither a processed folder ({DATA_STATS}) nor an input "
                              "folder (anime_catalog.json + ratings.csv)")
    if cfg.strip:
        data_dir = strip_catalog(data_dir, (cfg.out_dir / "input_stripped").resolve(), cfg.strip)
        log(f"catalog fields emptied: {', '.join(cfg.strip)} (copy in {data_dir})")
    processed = (cfg.out_dir / "processed").resolve()
    log(f"preprocessing {data_dir} -> {processed} (min ratings {cfg.min_ratings}, cold anime {cfg.cold_anime}"
        + (f", cold after {cfg.cold_after})" if cfg.cold_after is not None else ")"))
    res = run_child({"task": "preprocess", "input_dir": str(data_dir), "output_dir": str(processed),
                     "min_ratings": cfg.min_ratings, "cold_anime": cfg.cold_anime, "cold_after": cfg.cold_after},
                    cfg.out_dir / "tmp" / "logs", "preprocess")
    after = {} if cfg.cold_after is None else {"cold_after": cfg.cold_after}   # absent at None: older results merge
    return processed, {"preprocessed": True, "input_dir": str(cfg.data_dir), "min_ratings": cfg.min_ratings,
                       "cold_anime": cfg.cold_anime, **after, "stripped": list(cfg.strip),
                       "preprocess_seconds": res["seconds"], "preprocess_peak_mb": res["peak_mb"]}


STRIPPABLE = ("relations", "studios", "tags", "genres")


def strip_catalog(input_dir: Path, out: Path, fields: tuple[str, ...]) -> Path:
    """A copy of an input folder whose catalog has ``fields`` emptied (``[]``): the same ratings on a
    catalog that knows less, e.g. genres only (no relations, studios or tags)."""
    unknown = set(fields) - set(STRIPPABLE)
    if unknown:
        raise ValueError(f"cannot strip {sorted(unknown)}; choose from {', '.join(STRIPPABLE)}")
    out.mkdir(parents=True, exist_ok=True)
    catalog = json.loads((input_dir / "anime_catalog.json").read_text(encoding="utf-8"))
    for record in catalog:
        for name in fields:
            record[name] = []
    write_json(out / "anime_catalog.json", catalog, indent=None)
    for name in ("ratings.csv", "user_ratings.json", "dataset.json"):
        if (input_dir / name).exists():
            shutil.copyfile(input_dir / name, out / name)
    return out


def data_summary(processed: Path) -> dict[str, Any]:
    stats = json.loads((processed / DATA_STATS).read_text())
    report_path = processed / "preprocess_report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return {"n_users": stats["n_users"] - 1, "n_anime": stats["n_anime"] - 1,
            "splits": report.get("splits"), "holdout_users": report.get("users", {}).get("holdout_users"),
            "min_ratings": stats.get("min_ratings"), "rating_scale": stats["rating_scale"],
            "data_fingerprint": stats.get("data_fingerprint")}


def numeric_leaves(d: Any, prefix: str = "") -> dict[str, float]:
    """``{"a.b.c": number}`` for every int/float leaf (booleans and strings skipped)."""
    if isinstance(d, dict):
        out: dict[str, float] = {}
        for k, v in d.items():
            out.update(numeric_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(d, (int, float)) and not isinstance(d, bool):
        return {prefix: float(d)}
    return {}


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per model, per metric path: mean, sample standard deviation (0 for one seed) and n."""
    by_model: dict[str, list[dict[str, float]]] = {}
    for run in runs:
        if "error" not in run:
            keep = {k: run.get(k) for k in GROUPS}
            by_model.setdefault(run["model"], []).append(numeric_leaves(keep))
    return {model: key_stats(rows) for model, rows in by_model.items()}


def key_stats(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per key any row has (in order; NaN skipped): mean, sample standard deviation (0 for one value), n."""
    out: dict[str, dict[str, float]] = {}
    for key in dict.fromkeys(k for r in rows for k in r):
        vals = [r[key] for r in rows if key in r and not math.isnan(r[key])]
        if not vals:
            continue
        mean = sum(vals) / len(vals)
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
        out[key] = {"mean": mean, "std": std, "n": len(vals)}
    return out


def _tune(cfg: BenchmarkConfig, model: str, data_dir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    grid = cfg.grids.get(model) or {}
    if not any(grid.get(part) for part in ("model", "train")):
        return {"grid": None, "chosen": {"model": {}, "train": {}},
                "note": "trainer and model defaults (not tuned here)" if model in NEURAL else "nothing to tune"}
    if all(len(values) == 1 for part in ("model", "train") for values in (grid.get(part) or {}).values()):
        fixed = {part: {k: v[0] for k, v in (grid.get(part) or {}).items()} for part in ("model", "train")}
        return {"grid": grid, "chosen": fixed, "note": "fixed values given (one per axis): not tuned in this run"}
    spec = {"task": "tune", "model": model, "grid": grid, "data_dir": str(data_dir),
            "train_config": {**cfg.train_config, "seed": cfg.seeds[0]}, "select": cfg.selection.get(model),
            "k": cfg.k, "relevant": cfg.relevant, "ranking_users": cfg.ranking_users,
            "run_dir": str(tune_dir(cfg.out_dir, model).resolve()), "reuse": cfg.reuse}
    res = run_child(spec, cfg.out_dir / "tmp" / "logs", f"tune_{model}")
    log(f"  tuned {model}: {len(res['trials'])} configs in {res['process_seconds']:.0f} s, chosen "
        f"{res['chosen']} ({res['metric']} {res['best_value']:.4f})")
    way = "lowest" if res["lower_is_better"] else "highest"
    return {"grid": grid, "selection": f"{way} {res['metric']} (seed {cfg.seeds[0]})", **res}


def _num(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def run_benchmark(cfg: BenchmarkConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Tune, fit, evaluate and time every model; returns the JSON-ready results (also written partially)."""
    started, t0 = datetime.now(timezone.utc), time.perf_counter()
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    processed, prep = prepare_data(cfg, log)
    results: dict[str, Any] = {
        "name": cfg.out_dir.name, "command": cfg.command or command_line(), "git": git_commit(),
        "machine": machine_info(), "started_at": started.isoformat(timespec="seconds"),
        "data": {"data_dir": str(cfg.data_dir), **prep, **data_summary(processed)},
        "settings": {"models": list(cfg.models), "seeds": list(cfg.seeds), "quick": cfg.quick,
                     "train_config_overrides": cfg.train_config, "k": cfg.k, "relevant_threshold": cfg.relevant,
                     "ranking_users": cfg.ranking_users, "latency_repeats": cfg.latency_repeats,
                     "selection": cfg.selection,
                     "process_per_fit": True},
        "tuning": {}, "runs": []}
    partial = cfg.out_dir / "tmp" / "partial_results.json"
    for model in cfg.models:
        try:
            results["tuning"][model] = _tune(cfg, model, processed, log)
        except WorkerError as err:
            results["tuning"][model] = {"error": str(err)}
            log(f"  {err}")
            continue
        chosen = results["tuning"][model]["chosen"]
        if cfg.reuse and reuse_chosen_trial(results["tuning"][model], tune_dir(cfg.out_dir, model),
                                            run_dir(cfg.out_dir, model, cfg.seeds[0])):
            log(f"  {model} seed {cfg.seeds[0]}: the chosen tuning trial's training, evaluated (not retrained)")
        for seed in cfg.seeds:
            spec = {"task": "fit", "model": model, "data_dir": str(processed), "model_config": chosen["model"],
                    "train_config": {**cfg.train_config, **chosen["train"], "seed": seed},
                    "run_dir": str(run_dir(cfg.out_dir, model, seed).resolve()),
                    "k": cfg.k, "relevant": cfg.relevant, "ranking_users": cfg.ranking_users,
                    "export": cfg.export, "latency_repeats": cfg.latency_repeats, "reuse": cfg.reuse}
            try:
                run = run_child(spec, cfg.out_dir / "tmp" / "logs", f"{model}_s{seed}")
                log(f"  {model} seed {seed}: test RMSE {_num(run['accuracy']['test']['rmse'])}, "
                    f"NDCG@{cfg.k} {_num(run['ranking'][f'ndcg@{cfg.k}'])}, train {run['cost']['train_seconds']:.0f} s, "
                    f"peak {_num(run['cost']['peak_train_mb'], 0)} MiB")
            except WorkerError as err:
                run = {"model": model, "seed": seed, "error": str(err)}
                log(f"  {err}")
            results["runs"].append(run)
            write_json(partial, finite_or_null(results), indent=1)
    results["summary"] = summarize(results["runs"])
    results["wall_seconds"] = round(time.perf_counter() - t0, 1)
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()] \
        if hasattr(os, "getloadavg") else None
    return results
