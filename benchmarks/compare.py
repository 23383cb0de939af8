"""Compare every model on one dataset: same trainer, same evaluator, same clock.

    python benchmarks/compare.py --data-dir data/sample --out benchmarks/results/sample --seeds 3 --min-ratings 5
    python benchmarks/compare.py --data-dir ../shared/data/mal --out benchmarks/results/mal        # 1 seed
    python benchmarks/compare.py --data-dir data/sample --out /tmp/quick --quick                   # a few minutes

``--data-dir`` is a processed folder or an input folder (anime_catalog.json + ratings.csv),
which is preprocessed into ``<out>/processed`` first (gitignored; so is ``<out>/tmp``,
which holds checkpoints, exports and one log per job). Writes ``<out>/results.json``,
``<out>/results.md`` and PNG charts. Logic: :mod:`benchmarks.harness`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import DEFAULT_MODELS, BenchmarkConfig, DataFolderError, run_benchmark  # noqa: E402
from gnn.io import finite_or_null, write_json  # noqa: E402
from gnn.models.registry import model_names  # noqa: E402

# Tuning grids of the classic references, searched on the validation split with the first seed:
# lowest RMSE wins, except for the models in SELECTION (highest validation NDCG@10 wins). "model" keys are model config fields, "train" keys TrainConfig fields; every
# other setting is the trainer default (gnn.train.config.TrainConfig; results.md records the
# values used). gnn and baseline are not tuned here: trainer and model defaults.
GRIDS: dict[str, dict] = {
    "biases": {"model": {"reg": [0.0, 1e-2, 1e-1]}, "train": {"lr": [1e-2, 3e-2]}},
    "mf": {"model": {"dim": [32, 64], "reg": [1e-2, 5e-2]}, "train": {"lr": [1e-2]}},
    "item_knn": {"model": {"k": [20, 60], "shrinkage": [100.0], "neighbor_reg": [0.25, 1.0],
                           "reg_user": [5.0, 15.0]}},
    # EASE's lambda; on MAL (5.9k rated anime) validation NDCG@10 was 0.251 / 0.270 / 0.281 / 0.276 / 0.256
    # at 10 / 30 / 100 / 300 / 1000, so the grid brackets 100.
    "ease": {"model": {"reg": [30.0, 100.0, 300.0]}},
}
# Selection metric per model (benchmarks.worker.selection_metric; the default is validation RMSE,
# and NDCG@k for a ranking-only model, which has no RMSE). most_popular has nothing to tune.
SELECTION: dict[str, str] = {"ease": "val_ndcg@10"}
# Sized so that the default `mal` run fits in 90 minutes on 2 cores (18 fits); values that never
# won on the sample (biases lr 2e-3: still improving at epoch 20; shrinkage 25) were dropped.
# --quick: a few epochs and small grids, to check the pipeline end to end in a few minutes.
QUICK_GRIDS: dict[str, dict] = {
    "biases": {"model": {"reg": [0.0, 1e-2]}, "train": {"lr": [1e-2]}},
    "mf": {"model": {"dim": [32], "reg": [5e-2]}, "train": {"lr": [1e-2]}},
    "item_knn": {"model": {"k": [20, 60], "neighbor_reg": [0.5]}},
    "ease": {"model": {"reg": [10.0, 100.0]}},
}
QUICK_TRAIN = {"epochs": 3}


def override_grids(grids: dict[str, dict], items: list[str]) -> dict[str, dict]:
    """Apply ``MODEL.PART.KEY=V1,V2`` overrides (PART is ``model`` or ``train``; values parsed as JSON,
    a value that is not JSON is a string, as with ``anime-gnn train --model-option``).

    >>> override_grids({"mf": {"model": {"dim": [16, 64]}}}, ["mf.model.dim=64", "mf.train.lr=0.01"])
    {'mf': {'model': {'dim': [64]}, 'train': {'lr': [0.01]}}}
    >>> override_grids({}, ["gnn.train.short_history=log,uniform"])
    {'gnn': {'train': {'short_history': ['log', 'uniform']}}}
    """
    out = json.loads(json.dumps(grids))
    for item in items:
        name, sep, values = item.partition("=")
        parts = name.split(".")
        if not sep or len(parts) != 3 or parts[1] not in ("model", "train"):
            raise SystemExit(f"--grid expects MODEL.model.KEY=V1,V2 or MODEL.train.KEY=V1,V2, got {item!r}")
        model, part, key = parts
        out.setdefault(model, {}).setdefault(part, {})[key] = [_value(v) for v in values.split(",")]
    return out


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="processed folder or input folder (not with --merge / --render-only)")
    parser.add_argument("--out", required=True, type=Path, help="results folder, e.g. benchmarks/results/<name>")
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds 0..N-1 per model (default 3 on the embedded sample, 1 elsewhere and with --quick)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds FIRST..FIRST+N-1 instead of 0..N-1 (more seeds in another process, then --merge)")
    parser.add_argument("--quick", action="store_true", help=f"train {QUICK_TRAIN}, small grids, 1 seed")
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), choices=model_names(),
                        help="models to compare (default: the references and the neural models; the cold-item "
                             "references content_prior and content_knn only when named)")
    parser.add_argument("--min-ratings", type=int, default=10, help="preprocess filter for an input folder")
    parser.add_argument("--cold-anime", type=float, default=0.0,
                        help="share of rated anime held out entirely as the cold-item test (input folder only)")
    parser.add_argument("--cold-after", type=int, default=None, metavar="YEAR",
                        help="also hold out every rated anime released after YEAR: the new-season cold test "
                             "(input folder only)")
    parser.add_argument("--strip", default="", metavar="FIELDS",
                        help="catalog fields to empty first, comma-separated (relations,studios,tags,genres): "
                             "e.g. a genres-only variant of a dataset")
    parser.add_argument("--ranking-users", type=int, default=2000, help="users ranked for NDCG/Recall (0 = all)")
    parser.add_argument("--latency-repeats", type=int, default=None, help="ORT timed runs per case (100; 20 quick)")
    parser.add_argument("--no-export", action="store_true", help="skip the ONNX export and latency")
    parser.add_argument("--grid", action="append", default=[], metavar="MODEL.PART.KEY=V1,V2",
                        help="replace one axis of a tuning grid, e.g. mf.model.dim=32,64 or mf.train.lr=0.01")
    parser.add_argument("--reuse-trained", action="store_true",
                        help="a fit or tuning trial whose folder under <out>/tmp already holds the same finished "
                             "training (model, settings, data) is evaluated again, not retrained, and the first "
                             "seed's fit is the chosen tuning trial's training (its cost is read from its files; "
                             "the training's peak memory is then unknown)")
    parser.add_argument("--merge", nargs="+", type=Path, default=[], metavar="RESULTS_DIR",
                        help="only join finished runs of the same benchmark on the same data (e.g. two "
                             "model groups run as two processes) into <out>, then render")
    parser.add_argument("--render-only", action="store_true",
                        help="only rewrite results.md and the charts from an existing <out>/results.json")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.merge:
        merged = merge_results([json.loads((d / "results.json").read_text()) for d in args.merge])
        write_outputs({**merged, "name": args.out.name}, args.out)
        return
    if args.data_dir is None and not args.render_only:
        parser.error("--data-dir is required")
    if args.render_only:
        write_outputs(json.loads((args.out / "results.json").read_text()), args.out)
        return
    on_sample = args.data_dir.resolve() == (Path(__file__).resolve().parents[1] / "data" / "sample")
    seeds = args.seeds or (3 if on_sample and not args.quick else 1)
    cfg = BenchmarkConfig(
        data_dir=args.data_dir, out_dir=args.out, models=tuple(args.models), seeds=tuple(range(args.first_seed, args.first_seed + seeds)),
        grids=override_grids(QUICK_GRIDS if args.quick else GRIDS, args.grid), selection=SELECTION,
        train_config=QUICK_TRAIN if args.quick else {},
        min_ratings=args.min_ratings, ranking_users=args.ranking_users or None, cold_anime=args.cold_anime,
        cold_after=args.cold_after,
        strip=tuple(f.strip() for f in args.strip.split(",") if f.strip()),
        latency_repeats=args.latency_repeats or (20 if args.quick else 100), export=not args.no_export,
        quick=args.quick, reuse=args.reuse_trained)
    try:
        results = run_benchmark(cfg)
    except DataFolderError as e:   # a user's mistake: one line, no traceback
        parser.error(str(e))
    write_outputs(results, args.out)
    print(f"wrote {args.out}/results.json, results.md and charts in {results['wall_seconds'] / 60:.1f} min")
    if any("error" in r for r in results["runs"]):
        sys.exit(1)


def merge_results(parts: list[dict]) -> dict:
    """One results dict from runs of the same benchmark split by model across processes.

    The parts must have measured the same data (its fingerprint and split counts: one part may have
    preprocessed it, another read that output) with the same settings but the models and seeds; runs and
    tuning are joined in order, and the merge is recorded. A (model, seed) measured in several parts
    is taken from the first part where it succeeded (a failure only where it never did), its tuning
    from the first part that tuned it: ``--merge NEW OLD`` replaces OLD's runs of the models NEW measured.
    ``merged_from`` lists every run joined, those of an already joined part included, in that order.
    """
    from benchmarks.harness import summarize

    def same(r: dict) -> tuple:
        data = {k: r["data"].get(k) for k in ("n_users", "n_anime", "splits", "holdout_users", "rating_scale",
                                              "data_fingerprint")}
        settings = {k: v for k, v in r["settings"].items() if k not in ("models", "seeds")}
        return json.dumps(data, sort_keys=True), json.dumps(settings, sort_keys=True)

    first = parts[0]
    for other in parts[1:]:
        if same(other) != same(first):
            raise SystemExit("--merge: the results were measured on different data or settings")
    chosen: dict[tuple, dict] = {}   # (model, seed) -> its run, in the order first seen
    for r in (r for p in parts for r in p["runs"]):
        key = (r["model"], r["seed"])
        if key not in chosen or ("error" in chosen[key] and "error" not in r):
            chosen[key] = r
    kept = {id(r) for r in chosen.values()}
    runs = [r for p in parts for r in p["runs"] if id(r) in kept]
    tuning: dict[str, dict] = {}
    for p in parts:
        for m, t in p["tuning"].items():
            tuning.setdefault(m, t)
    # A part that was itself joined brings the runs it was joined from (its own git and command would
    # name only the last of them).
    sources = [entry for p in parts for entry in p.get("merged_from") or [
        {"command": p["command"], "git": p["git"], "wall_seconds": p["wall_seconds"], "models": p["settings"]["models"]}]]
    merged = {**first, "runs": runs, "tuning": tuning,
              "command": " ; ".join(p["command"] for p in parts), "merged_from": sources}
    models = list(dict.fromkeys(m for p in parts for m in p["settings"]["models"]))
    seeds = sorted({sd for p in parts for sd in p["settings"]["seeds"]})
    merged["settings"] = {**first["settings"], "models": models, "seeds": seeds}
    merged["summary"] = summarize(merged["runs"])
    merged["wall_seconds"] = max(p["wall_seconds"] for p in parts)
    return merged


def write_outputs(results: dict, out: Path) -> None:
    """results.json, results.md and the PNG charts."""
    from benchmarks.charts import write_charts
    from benchmarks.report import markdown

    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", finite_or_null(results), indent=1)  # null: not measured
    (out / "results.md").write_text(markdown(results) + "\n")
    write_charts(results, out)


if __name__ == "__main__":
    main()
