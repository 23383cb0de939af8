"""How generation, preprocess, training throughput and evaluation memory grow with the number of ratings.

    python benchmarks/scaling.py                                   # 1M and 10M ratings
    python benchmarks/scaling.py --sizes 6e7 --merge               # add 60M to the committed results
    python benchmarks/scaling.py --sizes 6e7 --generate-only --out X   # generate first; then, with the
    python benchmarks/scaling.py --sizes 6e7 --reuse-input --out X     # same --out, measure the rest
    python benchmarks/scaling.py --render-only                     # redo results.md and the chart

Synthetic data at a real-scale catalog (``--n-anime``, default 17,562 as in the 2020 MyAnimeList
dump) with MyAnimeList-like users (median 140 ratings, ~190 on average: 60M ratings = ~311k users);
``generate-sample`` writes it in chunks of users. Per size, each in its own process
(:mod:`benchmarks.worker`, so each peak RSS is that step's alone): generation, preprocess,
with ``--import-mal`` ``anime-gnn import mal`` of the data written as the Kaggle 2020 dump,
``--steps`` training steps of each model after 2 warm-up steps (:mod:`benchmarks.step_timing`: an
epoch at 60M would take hours here), the evaluation of an untrained model (validation accuracy,
2,000-user ranking, new users), and at the largest size a profile of one GNN step. Writes
``results.json``, ``results.md`` and ``scaling.png`` into ``--out``; inputs, processed data and
logs go to ``<out>/tmp`` (gitignored).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import NEURAL, run_child  # noqa: E402
from benchmarks.provenance import command_line, git_commit, machine_info  # noqa: E402
from benchmarks.scaling_report import row_runs  # noqa: E402
from gnn.io import finite_or_null, write_json  # noqa: E402
from gnn.models.registry import model_names  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "scaling"


def _label(n: float) -> str:
    return f"{n / 1e6:g}M"


def generated(spec: dict[str, Any], logs: Path, label: str, reuse: bool) -> dict[str, Any]:
    """The generation job's result; with ``reuse``, an earlier run's (its time and memory) where the same
    spec wrote ``ratings.csv`` to the same folder (generation is deterministic), else a new run."""
    spec_path, result_path = logs / f"{label}.spec.json", logs / f"{label}.result.json"
    if (reuse and result_path.exists() and spec_path.exists() and json.loads(spec_path.read_text()) == spec
            and (Path(spec["out_dir"]) / "ratings.csv").exists()):
        return {**json.loads(result_path.read_text()), "reused": True}
    return run_child(spec, logs, label)


def measure_size(n_ratings: int, args: argparse.Namespace, profile: bool, log=print) -> dict[str, Any]:
    """Every measure of one size (its own processes); the generated input and processed data stay in tmp."""
    label, work = _label(n_ratings), (args.out / "tmp" / _label(n_ratings)).resolve()
    logs = args.out / "tmp" / "logs"
    config = {"n_anime": args.n_anime, "ratings_median": args.ratings_median, "ratings_max": args.ratings_max,
              "seed": 0}
    gen = generated({"task": "generate", "out_dir": str(work / "input"), "config": config, "n_ratings": n_ratings},
                    logs, f"generate_{label}", args.reuse_input)
    log(f"{label}: generated {gen['n_ratings']:,} ratings from {gen['n_users']:,} users in {gen['seconds']:.0f} s")
    row: dict[str, Any] = {"target": n_ratings, "ratings": gen["n_ratings"], "users": gen["n_users"],
                           "anime": gen["n_anime"], "train_ratings": None,
                           "generate": {k: gen[k] for k in ("seconds", "peak_mb")}, "preprocess": None,
                           "train": {}, "evaluate": {}}
    if args.generate_only:
        return row
    if args.import_mal:
        kaggle = str(work / "kaggle_2020")
        run_child({"task": "kaggle_layout", "input_dir": str(work / "input"), "out_dir": kaggle}, logs,
                  f"kaggle_layout_{label}")
        imp = run_child({"task": "import_mal", "input_dir": kaggle, "out_dir": str(work / "imported")}, logs,
                        f"import_mal_{label}")
        row["import_mal"] = {k: imp[k] for k in ("seconds", "peak_mb", "rss_start_mb", "ratings", "users")}
        log(f"{label}: import mal {imp['seconds']:.0f} s, peak {imp['peak_mb']:,.0f} MiB")
    prep = run_child({"task": "preprocess", "input_dir": str(work / "input"), "output_dir": str(work / "processed"),
                      "min_ratings": args.min_ratings}, logs, f"preprocess_{label}")
    log(f"{label}: preprocess {prep['seconds']:.0f} s, peak {prep['peak_mb']:,.0f} MiB")
    row.update(train_ratings=prep["splits"]["train"],
               preprocess={k: prep[k] for k in ("seconds", "peak_mb", "rss_start_mb")})
    for model in args.models:
        spec = {"task": "steps", "model": model, "data_dir": str(work / "processed"), "steps": args.steps,
                "profile": profile and model == "gnn"}
        res = run_child(spec, logs, f"steps_{model}_{label}")
        row["train"][model] = res
        log(f"{label}: {model} {res['ratings_per_second']:,} ratings/s ({res['seconds_per_step']:.2f} s/step, "
            f"encoder forward {res['encoder_forward_seconds_per_step']:.2f} s), peak {res['peak_train_mb']:,.0f} MiB")
        if args.evaluate:
            ev = run_child({"task": "evaluate", "model": model, "data_dir": str(work / "processed")},
                           logs, f"evaluate_{model}_{label}")
            row["evaluate"][model] = ev
            log(f"{label}: {model} evaluation peak {ev['peak_mb']:,.0f} MiB, "
                + ", ".join(f"{k} {v['seconds']:.0f} s" for k, v in ev["rows"].items()))
    return row


def measure(args: argparse.Namespace, log=print) -> dict[str, Any]:
    t0 = time.perf_counter()
    sizes = sorted(int(s) for s in args.sizes)
    rows = [measure_size(n, args, profile=n == sizes[-1], log=log) for n in sizes]
    return {"name": args.out.name, "command": command_line(), "git": git_commit(), "machine": machine_info(),
            "settings": {"n_anime": args.n_anime, "ratings_median": args.ratings_median,
                         "ratings_max": args.ratings_max, "min_ratings": args.min_ratings, "models": args.models,
                         "steps": args.steps, "warmup_steps": 2, "evaluate": args.evaluate,
                         "import_mal": args.import_mal},
            "rows": rows, "wall_seconds": round(time.perf_counter() - t0, 1)}


def merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new``'s rows merged into ``old``'s: other sizes are kept, and within a size the models (and the
    import timing) that ``new`` did not run; each row lists the runs (command, git) its numbers come from."""
    by_size = {r["target"]: {**r, "runs": row_runs(r, old)} for r in old["rows"]}
    for row in new["rows"]:
        this = {"command": new["command"], "git": new["git"]}
        prev = by_size.get(row["target"])
        if prev is None:
            by_size[row["target"]] = {**row, "runs": [this]}
            continue
        train, evaluate = {**prev["train"], **row["train"]}, {**prev["evaluate"], **row["evaluate"]}
        kept = set(prev["train"]) - set(row["train"]) or set(prev["evaluate"]) - set(row["evaluate"])
        merged_row = {**prev, **{k: v for k, v in row.items() if v is not None or k not in prev},
                      "train": train, "evaluate": evaluate, "runs": (prev["runs"] if kept else []) + [this]}
        by_size[row["target"]] = merged_row
    for row in by_size.values():
        row.pop("command", None)
        row.pop("git", None)
    return {**new, "rows": [by_size[k] for k in sorted(by_size)],
            "settings": {**old.get("settings", {}), **new["settings"],
                         "models": sorted(set(old.get("settings", {}).get("models", [])) | set(new["settings"]["models"]))},
            "wall_seconds": old.get("wall_seconds", 0) + new["wall_seconds"]}


def render(res: dict[str, Any], out: Path) -> None:
    from benchmarks.scaling_report import markdown, plot

    notes = out / "notes.md"
    (out / "results.md").write_text(markdown(res, notes.read_text() if notes.exists() else ""))
    plot(res, out / "scaling.png")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e6, 1e7], help="ratings to generate, e.g. 1e6 6e7")
    parser.add_argument("--n-anime", type=int, default=17_562, help="catalog size (the 2020 MyAnimeList dump's)")
    parser.add_argument("--ratings-median", type=float, default=140.0, help="median ratings per user")
    parser.add_argument("--ratings-max", type=int, default=3000, help="most ratings per user")
    parser.add_argument("--min-ratings", type=int, default=10, help="preprocess filter")
    parser.add_argument("--models", nargs="+", default=list(NEURAL), choices=model_names(), help="models timed")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps per model")
    parser.add_argument("--generate-only", action="store_true",
                        help="only generate (e.g. 60M while preprocess cannot hold it in memory)")
    parser.add_argument("--reuse-input", action="store_true",
                        help="keep a size's generated input from an earlier run into the same --out (same settings)")
    parser.add_argument("--import-mal", action="store_true",
                        help="also time `anime-gnn import mal` on the data written as the Kaggle 2020 dump")
    parser.add_argument("--no-evaluate", dest="evaluate", action="store_false", help="skip the evaluation runs")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other sizes, and the other models of a size, of the existing results.json")
    parser.add_argument("--out", type=Path, default=OUT, help="results folder")
    parser.add_argument("--render-only", action="store_true", help="redo results.md and the chart from results.json")
    args = parser.parse_args(argv)
    if args.render_only:
        render(json.loads((args.out / "results.json").read_text()), args.out)
        return
    res = measure(args)
    if args.merge and (args.out / "results.json").exists():
        res = merged(json.loads((args.out / "results.json").read_text()), res)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "results.json", finite_or_null(res), indent=1)
    render(res, args.out)
    print((args.out / "results.md").read_text())


if __name__ == "__main__":
    main()
